#!/usr/bin/env python3
"""PyTorch companion of `sootbench nn`: the same cases, the same shapes, 2 threads.

Cases: forward-resnet18/50 (eval, no_grad, 1 x 3 x 1952 x 2240), train-resnet18/50 (one
Adam step, BCE with logits, batch 4 x 3 x 512 x 512) and crops-resnet18/50 (the same with
the CPU training preset's batch, 8 x 3 x 256 x 256). Each case runs in its own process so the
reported peak memory (ru_maxrss) is its own. Prints JSON lines {name, seconds, gflop, peakMemoryMiB}.
Usage: nn_peer.py [--repeat N] [case ...]
"""
import json
import resource
import subprocess
import sys
import time


def run_case(name, repeat):
    import torch
    import torch.nn.functional as F
    import segmentation_models_pytorch as smp
    torch.set_num_threads(2)
    kind, encoder = name.split("-")
    model = smp.FPN(encoder_name=encoder, encoder_weights=None, classes=1)
    best, gflop = float("inf"), None
    if kind == "forward":
        model.eval()
        x = torch.randn(1, 3, 1952, 2240)
        with torch.no_grad():
            from torch.utils.flop_counter import FlopCounterMode
            small = torch.randn(1, 3, 1952, 2240)
            counter = FlopCounterMode(display=False)
            with counter:
                model(small)
            gflop = counter.get_total_flops() / 1e9
            for _ in range(repeat):
                start = time.perf_counter()
                model(x)
                best = min(best, time.perf_counter() - start)
    else:
        model.train()
        # train-*: batch 4 x 512 x 512; crops-*: the CPU training preset's batch, 8 x 256 x 256.
        n, size = (8, 256) if kind == "crops" else (4, 512)
        x = torch.randn(n, 3, size, size)
        target = (torch.rand(n, 1, size, size) > 0.5).float()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
        for step in range(repeat + 1):
            start = time.perf_counter()
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), target)
            loss.backward()
            opt.step()
            if step > 0:
                best = min(best, time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"name": name, "seconds": best, "gflop": gflop, "peakMemoryMiB": peak}


if __name__ == "__main__":
    args = sys.argv[1:]
    repeat = 2
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i:i + 2]
    if args and args[0] == "--case":
        print(json.dumps(run_case(args[1], repeat)))
        sys.exit(0)
    cases = args or ["forward-resnet18", "forward-resnet50", "train-resnet18", "train-resnet50",
                     "crops-resnet18", "crops-resnet50"]
    for case in cases:
        out = subprocess.run([sys.executable, __file__, "--case", case, "--repeat", str(repeat)],
                             capture_output=True, text=True)
        print(out.stdout.strip().splitlines()[-1] if out.returncode == 0 else json.dumps({"name": case, "error": out.stderr[-300:]}),
              flush=True)

#!/usr/bin/env bash
# NeuralNet benchmark, one run: sootctl's FPN (sootbench nn) with OpenBLAS pinned to its AVX2
# kernels as these machines set it (OPENBLAS_CORETYPE=Haswell), then with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (what a user without the variable gets), then PyTorch +
# segmentation_models_pytorch (Benchmarks/nn_peer.py) on the same case, 2 threads each, case by
# case, and a table. NeuralNet multiplies with its own AVX-512 kernel where the CPU has it; the
# last column is the pinned run with SOOTCTL_GEMM=openblas (OpenBLAS's Haswell kernels), the
# state before that kernel.
#   pip install torch segmentation-models-pytorch
#   bash Benchmarks/nn.sh [REPEATS] [CASES] [ROUNDS]
# CASES: comma-separated, default all six. ROUNDS (default 1): the whole sequence again, each
# column then the best over all rounds, so that each gets more chances at a quiet spell.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-2}"
cases="${2:-forward-resnet18,forward-resnet50,train-resnet18,train-resnet50,crops-resnet18,crops-resnet50}"
rounds="${3:-1}"
out="$(mktemp -d)"
swift build -c release --product sootbench >/dev/null
date -u +"run: %Y-%m-%d %H:%M UTC; cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
python3 -c "import torch; print('torch', torch.__version__, 'CPU capability', torch.backends.cpu.get_cpu_capability(), 'threads 2')"
echo "repeats: $repeat per process, rounds: $rounds"
# Case by case, the three runs back to back, so that a slow spell of this shared machine
# lands on all three rather than on one column.
: > "$out/peer.jsonl"
for round in $(seq 1 "$rounds"); do
for case in ${cases//,/ }; do
  echo "== round $round, $case: sootctl with OPENBLAS_CORETYPE=Haswell (these machines' setting)"
  OPENBLAS_CORETYPE=Haswell .build/release/sootbench nn --repeat "$repeat" --cases "$case" --json "$out/pinned-$case-$round.json"
  echo "== round $round, $case: sootctl with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/sootbench nn --repeat "$repeat" --cases "$case" --json "$out/unset-$case-$round.json"
  echo "== round $round, $case: sootctl with OPENBLAS_CORETYPE=Haswell and SOOTCTL_GEMM=openblas"
  OPENBLAS_CORETYPE=Haswell SOOTCTL_GEMM=openblas .build/release/sootbench nn --repeat "$repeat" --cases "$case" --json "$out/openblas-$case-$round.json"
  echo "== round $round, $case: PyTorch"
  python3 Benchmarks/nn_peer.py --repeat "$repeat" "$case" | tee -a "$out/peer.jsonl"
done
done
# Each column: the fastest round of each case.
python3 -c "
import json, sys
for kind in ('pinned', 'unset', 'openblas'):
    rows = []
    for case in sys.argv[2].split(','):
        runs = [json.load(open(f'{sys.argv[1]}/{kind}-{case}-{r}.json'))[0] for r in range(1, int(sys.argv[3]) + 1)]
        rows.append(min(runs, key=lambda t: t['seconds']))
    json.dump(rows, open(f'{sys.argv[1]}/{kind}.json', 'w'))
" "$out" "$cases" "$rounds"
echo
python3 - "$out/pinned.json" "$out/unset.json" "$out/peer.jsonl" "$out/openblas.json" <<'PY'
import json, sys
pinned = {t["name"]: t for t in json.load(open(sys.argv[1]))}
unset = {t["name"]: t for t in json.load(open(sys.argv[2]))}
old = {t["name"]: t for t in json.load(open(sys.argv[4]))}
peer = {}
for line in open(sys.argv[3]):
    t = json.loads(line)
    if t["name"] not in peer or t["seconds"] < peer[t["name"]]["seconds"]:
        peer[t["name"]] = t
def f(x, spec):
    return format(x, spec) if x is not None else "-"
print("| case | sootctl, Haswell s | sootctl, unset s | PyTorch s | speed-up, Haswell | speed-up, unset "
      "| GFLOP/s Haswell / unset / PyTorch | pass / its GEMMs, Haswell / unset | peak MiB sootctl / PyTorch "
      "| OpenBLAS Haswell GEMM s (speed-up) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, a in pinned.items():
    b = unset.get(name, {})
    p = peer.get(name, {})
    ps, bs = p.get("seconds"), b.get("seconds")
    g = a.get("gflop")
    rates = "-"
    if g:
        rates = f"{g / a['seconds']:.0f} / {g / bs:.0f} / " + (f"{p['gflop'] / ps:.0f}" if ps and p.get("gflop") else "-")
    ratio = "-"
    if a.get("gemmSeconds") and b.get("gemmSeconds"):
        ratio = f"{a['seconds'] / a['gemmSeconds']:.2f}x / {bs / b['gemmSeconds']:.2f}x"
    row = [name, f(a["seconds"], ".2f"), f(bs, ".2f"), f(ps, ".2f"),
           f"{ps / a['seconds']:.2f}x" if ps else "-", f"{ps / bs:.2f}x" if ps and bs else "-", rates, ratio,
           f"{a['peakMemoryMiB']:.0f} / " + (f"{p['peakMemoryMiB']:.0f}" if p.get("peakMemoryMiB") else "-")]
    o = old.get(name, {}).get("seconds")
    row.append(f"{o:.2f} ({ps / o:.2f}x)" if o and ps else "-")
    print("| " + " | ".join(row) + " |")
PY

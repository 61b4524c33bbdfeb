#!/usr/bin/env bash
# NeuralNet benchmark: sootctl's FPN (sootbench nn) and PyTorch + segmentation_models_pytorch
# (Benchmarks/nn_peer.py) on the same cases, one after the other, 2 threads each, then a table.
#   pip install torch segmentation-models-pytorch
#   bash Benchmarks/nn.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-2}"
out="$(mktemp -d)"
swift build -c release --product sootbench >/dev/null
.build/release/sootbench nn --repeat "$repeat" --json "$out/sootbench.json"
echo
python3 Benchmarks/nn_peer.py --repeat "$repeat" > "$out/peer.jsonl"
python3 - "$out/sootbench.json" "$out/peer.jsonl" <<'PY'
import json, sys
ours = {t["name"]: t for t in json.load(open(sys.argv[1]))}
peer = {}
for line in open(sys.argv[2]):
    t = json.loads(line)
    peer[t["name"]] = t
print("| case | sootctl s | PyTorch s | speed-up | sootctl GFLOP/s | PyTorch GFLOP/s | sootctl peak MiB | PyTorch peak MiB |")
print("|---|---|---|---|---|---|---|---|")
for name, t in ours.items():
    p = peer.get(name, {})
    ps = p.get("seconds")
    g = t.get("gflop")
    row = [name, f"{t['seconds']:.2f}", f"{ps:.2f}" if ps else "-", f"{ps / t['seconds']:.2f}x" if ps else "-",
           f"{g / t['seconds']:.0f}" if g else "-", f"{p['gflop'] / ps:.0f}" if ps and p.get("gflop") else "-",
           f"{t['peakMemoryMiB']:.0f}", f"{p['peakMemoryMiB']:.0f}" if p.get("peakMemoryMiB") else "-"]
    print("| " + " | ".join(row) + " |")
PY

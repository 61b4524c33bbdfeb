#!/usr/bin/env bash
# ImageCore benchmark: sootctl's primitives and their Python peers on the same 2240 x 1952
# image, in one run, with ratios. Needs python3 with numpy, scipy, scikit-image, Pillow
# (opencv-python-headless optional):  pip install scipy scikit-image pillow opencv-python-headless
#   bash Benchmarks/imagecore.sh [IMAGE] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-../shared/data/real/images/Case1_E7_025.png}"
repeat="${2:-3}"
out="$(mktemp -d)"
swift build -c release --product sootbench >/dev/null
.build/release/sootbench imagecore --image "$image" --repeat "$repeat" --json "$out/sootbench.json"
echo
OMP_NUM_THREADS=2 python3 Benchmarks/imagecore_peer.py "$image" --repeat "$repeat" > "$out/peer.json"
python3 Benchmarks/compare.py "$out/sootbench.json" "$out/peer.json"

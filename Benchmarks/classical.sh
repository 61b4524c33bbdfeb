#!/usr/bin/env bash
# Classical pipeline benchmark: sootctl's classifiers, aggregate properties and the four
# sizing methods against the Python reference steps (Benchmarks/classical_peer.py) on the same
# 2240 x 1952 image, in one run, with ratios. Needs python3 with numpy, scipy, scikit-image,
# opencv-python-headless, scikit-learn and Pillow.
#   bash Benchmarks/classical.sh [IMAGE] [MASK] [PIXEL_SIZE_NM] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-../shared/data/real/images/Case1_E7_025.png}"
mask="${2:-../shared/data/real/masks/Case1_E7_025.tif}"
ps="${3:-0.4}"
repeat="${4:-1}"
out="$(mktemp -d)"
swift build -c release --product sootbench >/dev/null
.build/release/sootbench classical --image "$image" --mask "$mask" --pixel-size "$ps" --repeat "$repeat" \
    --json "$out/sootbench.json"
echo
OMP_NUM_THREADS=2 python3 Benchmarks/classical_peer.py "$image" "$mask" "$ps" --repeat "$repeat" > "$out/peer.json"
python3 Benchmarks/compare.py "$out/sootbench.json" "$out/peer.json"

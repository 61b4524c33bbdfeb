#!/usr/bin/env bash
# TWS classifier benchmark: sootctl's working image, 67 features, 100-tree prediction, whole
# segmentation of a 2240 x 1952 image and training on the shared images, against the same
# steps in scikit-image + OpenCV + scikit-learn (Benchmarks/tws_peer.py), in one run, with
# ratios. Needs python3 with numpy, scipy, scikit-image, scikit-learn, opencv-python-headless, Pillow.
#   bash Benchmarks/tws.sh [IMAGE] [PIXEL_SIZE_NM] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-../shared/data/real/images/Case1_E7_025.png}"
ps="${2:-0.4}"
repeat="${3:-3}"
out="$(mktemp -d)"
swift build -c release --product sootbench >/dev/null
.build/release/sootbench tws --image "$image" --pixel-size "$ps" --repeat "$repeat" --json "$out/sootbench.json"
echo
OMP_NUM_THREADS=2 python3 Benchmarks/tws_peer.py "$image" "$ps" ../shared/data/real Benchmarks/real_pixel_sizes.csv \
    --repeat "$repeat" > "$out/peer.json"
python3 Benchmarks/compare.py "$out/sootbench.json" "$out/peer.json"

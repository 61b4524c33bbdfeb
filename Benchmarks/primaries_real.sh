#!/usr/bin/env bash
# The learned primary-particle detector on the shared real images (../shared/data/real) with
# their hand-made aggregate masks: per image, the geometric mean dp over all aggregates by
# cnn-primaries, PCM, Hough and EDM-WS (summary.json), the detector's ratio to PCM, and the
# overlays (primaries drawn) for Docs/images/.
#   bash Benchmarks/primaries_real.sh [MODEL] [OUT]   (defaults models/primaries.safetensors, bench-out/primaries-real)
set -euo pipefail
cd "$(dirname "$0")/.."
real="../shared/data/real"
model="${1:-models/primaries.safetensors}"
out="${2:-bench-out/primaries-real}"
swift build -c release --product sootctl >/dev/null
rm -rf "$out"
mkdir -p "$out"
.build/release/sootctl analyze "$real/images" --mask "$real/masks" --pixel-sizes Benchmarks/real_pixel_sizes.csv \
    --sizing pcm,hough,edm-ws,cnn-primaries --primary-model "$model" --out "$out/all" >/dev/null
# Overlays with the detector's primaries alone, for people to look at.
.build/release/sootctl analyze "$real/images" --mask "$real/masks" --pixel-sizes Benchmarks/real_pixel_sizes.csv \
    --sizing cnn-primaries --primary-model "$model" --out "$out/detector" >/dev/null
python3 - "$out/all" <<'PY'
import csv, math, sys, collections
rows = list(csv.DictReader(open(sys.argv[1] + "/aggregates.csv")))
by = collections.defaultdict(list)
for r in rows: by[r["image"]].append(r)
def gm(v):
    v = [float(x) for x in v if x]
    return math.exp(sum(map(math.log, v)) / len(v)) if v else float("nan")
print("| image | aggregates | primaries located | dp,g cnn-primaries (nm) | dp,g PCM (nm) | ratio to PCM | dp,g Hough (nm) | dp,g EDM-WS (nm) |")
print("|---|---|---|---|---|---|---|---|")
for image in sorted(by) + ["all images"]:
    rs = rows if image == "all images" else by[image]
    cnn, pcm = gm(r["dp_cnn_primaries_nm"] for r in rs), gm(r["dp_pcm_nm"] for r in rs)
    n = sum(int(r["cnn_primaries_particles"] or 0) for r in rs)
    print(f"| {image} | {len(rs)} | {n} | {cnn:.1f} | {pcm:.1f} | {cnn / pcm:.3f} | {gm(r['dp_hough_nm'] for r in rs):.1f} | {gm(r['dp_edm_ws_nm'] for r in rs):.1f} |")
PY

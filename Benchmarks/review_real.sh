#!/usr/bin/env bash
# A truth mask made with the review page's slider method, as a user would make it, on one
# shared real image (20180529_A9_003, 0.4 nm/px), starting from an empty mask: five
# rectangles dragged around the aggregates, the threshold slider moved to THRESHOLD (default
# 0.6, where atems' slider starts; "otsu" keeps the page's starting point), smoothing 2 px,
# each added, then Fill holes and Save, all through headless Chromium
# (scripts/webdriver.sh). Prints the time taken and the IoU against the shared slider mask,
# and saves a screenshot of the page.
#   bash Benchmarks/review_real.sh [SCREENSHOT.png] [THRESHOLD]   (needs python3 with numpy and Pillow for the IoU)
set -euo pipefail
cd "$(dirname "$0")/.."
shot="${1:-Docs/images/review.png}"
threshold="${2:-0.6}"
stem=20180529_A9_003
real=../shared/data/real
swift build -c release --product sootctl >/dev/null
name=review_real
source scripts/webdriver.sh
cp "$real/images/$stem.png" "$work/images/"
start_review --pixel-size 0.4 --start empty
start_browser
start=$(date +%s.%N)
curl -s -X POST "$s/url" -H 'Content-Type: application/json' -d "{\"url\":\"$url\"}" > /dev/null
wait_for "window.review && window.review.ready"
click '[data-tool=slider]'
# Rectangles around the aggregates, in image pixels, picked by eye from the picture.
for rect in "600 200 1380 640" "1200 400 2120 920" "1320 800 1680 1260" "560 1020 1220 1360" "180 1500 340 1660"; do
    drag $rect
    wait_for "window.review.preview && window.review.busy === 0"
    if [ "$threshold" != otsu ]; then
        js "const t = document.getElementById('threshold'); t.value = $threshold; t.dispatchEvent(new Event('input')); return 1" > /dev/null
        sleep 0.2
        wait_for "window.review.busy === 0"
    fi
    click '#apply'
done
click '#fill'
click '#save'
wait_for "!window.review.dirty && window.review.busy === 0"
end=$(date +%s.%N)
curl -s "$s/screenshot" | sed 's/^{"value":"\(.*\)"}$/\1/' | base64 -d > "$shot"
# How long the page takes for what a person does most (2240 x 1952): a brush dab with its
# redraw, a whole-overlay redraw (undo), a zoom step.
timing=$(js "const v = window.review, t0 = performance.now(); for (let k = 0; k < 100; k++) paint(1000 + k, 1000, 1); const t1 = performance.now(); redraw(0, 0, v.W, v.H); const t2 = performance.now(); for (let k = 0; k < 20; k++) { v.zoom *= 1.01; applyTransform(); } const t3 = performance.now(); undo(); return [((t1 - t0) / 100).toFixed(2), (t2 - t1).toFixed(1), ((t3 - t2) / 20).toFixed(2)].join(' ')")
read -r dab full zoom <<< "$(echo "$timing" | tr -d '"')"
python3 - "$work/out/masks/$stem.png" "$real/masks/$stem.tif" <<'PY'
import sys
import numpy as np
from PIL import Image
made = np.asarray(Image.open(sys.argv[1]).convert("L")) > 0
truth = np.asarray(Image.open(sys.argv[2]).convert("L")) > 0
print(f"IoU against the shared slider mask: {(made & truth).sum() / (made | truth).sum():.4f} "
      f"({made.sum()} px made, {truth.sum()} px in the truth)")
PY
awk -v a="$start" -v b="$end" 'BEGIN { printf "time in the page: %.1f s for 5 rectangles, fill holes and save\n", b - a }'
echo "page: brush dab $dab ms, whole-overlay redraw $full ms, zoom step $zoom ms (headless Chromium, 2 cores)"
echo "screenshot: $shot"

#!/usr/bin/env bash
# The paper's evaluation on the shared real images (../shared/data/real): `sootctl compare`
# with every classifier and sizing method, then the CNN's inference time per image.
#   bash Benchmarks/compare_real.sh [OUT]     (default bench-out/compare-real)
# The numbers in Docs/Compare.md and the model card (Docs/Training.md) come from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
real="../shared/data/real"
out="${1:-bench-out/compare-real}"
swift build -c release --product sootctl >/dev/null
mkdir -p "$out"
# Nominal pixel sizes from the data's README (the files carry none).
printf 'stem,pixel_size_nm\n20180529_A9_003,0.4\n201805A_A6_004,0.4\nCase1_E7_025,0.4\nRU_FI_A10_004,0.8\n' > "$out/pixel_sizes.csv"
rm -rf "$out/compare"
/usr/bin/time -f "compare: %e s, %M KiB peak" .build/release/sootctl compare "$real/images" --truth "$real/masks" \
    --pixel-sizes "$out/pixel_sizes.csv" --out "$out/compare"
echo
echo "CNN inference (segment --classifier cnn, default model, post-processing included), per image:"
for stem in 20180529_A9_003 RU_FI_A10_004; do
    ps=$(grep "^$stem," "$out/pixel_sizes.csv" | cut -d, -f2)
    rm -rf "$out/segment"
    /usr/bin/time -f "  $stem (2240 x 1952, $ps nm/px): %e s wall, %M KiB peak" \
        .build/release/sootctl segment "$real/images/$stem.png" --pixel-size "$ps" --out "$out/segment" >/dev/null
done

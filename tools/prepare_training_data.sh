#!/usr/bin/env bash
# Lays out the shared real images as a `sootctl train` data folder (CarbonBlackSegmentation's
# layout) for the default model: three images to train on, one kept for validation.
#   bash tools/prepare_training_data.sh [DEST]   (default .training/data)
set -euo pipefail
cd "$(dirname "$0")/.."
real="../shared/data/real"
dest="${1:-.training/data}"
mkdir -p "$dest"/{train,val}/{input,ground_truth}
for stem in 201805A_A6_004 Case1_E7_025 RU_FI_A10_004; do
    cp "$real/images/$stem.png" "$dest/train/input/"
    cp "$real/masks/$stem.tif" "$dest/train/ground_truth/"
done
cp "$real/images/20180529_A9_003.png" "$dest/val/input/"
cp "$real/masks/20180529_A9_003.tif" "$dest/val/ground_truth/"
# Nominal pixel sizes from ../shared/data/real/README.md (the files carry none).
printf 'stem,pixel_size_nm\n20180529_A9_003,0.4\n201805A_A6_004,0.4\nCase1_E7_025,0.4\nRU_FI_A10_004,0.8\n' > "$dest/pixel_sizes.csv"
echo "training data in $dest"

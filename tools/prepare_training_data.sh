#!/usr/bin/env bash
# Lays out the shared real images as a `sootctl train` data folder (CarbonBlackSegmentation's
# layout) for the default models. The CNN's: three images to train on, one kept for
# validation. With --all (the default TWS model): all four in train/, no validation split (the
# TWS model card reports leave-one-image-out IoU instead). With --all-logged (the default CNN
# since session 12): all four in train/, and 20180529_A9_003 also in val/ because `sootctl
# train` logs a validation score; that score is then of a training image, and the model card
# reports leave-one-image-out IoU (Benchmarks/cnn_loo.sh) instead.
#   bash tools/prepare_training_data.sh [--all | --all-logged] [DEST]
#   (default .training/data, with --all .training/tws_data, with --all-logged .training/all_data)
set -euo pipefail
cd "$(dirname "$0")/.."
real="../shared/data/real"
all=false
logged=false
if [ "${1:-}" = "--all" ]; then all=true; shift; fi
if [ "${1:-}" = "--all-logged" ]; then all=true; logged=true; shift; fi
if $logged; then dest="${1:-.training/all_data}"; elif $all; then dest="${1:-.training/tws_data}"; else dest="${1:-.training/data}"; fi
mkdir -p "$dest"/train/{input,ground_truth}
for stem in 201805A_A6_004 Case1_E7_025 RU_FI_A10_004; do
    cp "$real/images/$stem.png" "$dest/train/input/"
    cp "$real/masks/$stem.tif" "$dest/train/ground_truth/"
done
if $all; then split=train; else split=val; mkdir -p "$dest"/val/{input,ground_truth}; fi
cp "$real/images/20180529_A9_003.png" "$dest/$split/input/"
cp "$real/masks/20180529_A9_003.tif" "$dest/$split/ground_truth/"
if $logged; then
    mkdir -p "$dest"/val/{input,ground_truth}
    cp "$real/images/20180529_A9_003.png" "$dest/val/input/"
    cp "$real/masks/20180529_A9_003.tif" "$dest/val/ground_truth/"
fi
# Nominal pixel sizes from ../shared/data/real/README.md (the files carry none).
printf 'stem,pixel_size_nm\n20180529_A9_003,0.4\n201805A_A6_004,0.4\nCase1_E7_025,0.4\nRU_FI_A10_004,0.8\n' > "$dest/pixel_sizes.csv"
echo "training data in $dest"

#!/usr/bin/env bash
# Leave-one-image-out validation of a CNN training recipe on the four shared real images
# (../shared/data/real): for each image, train on the other three (plus the recipe's synthetic
# images) and score that image at full resolution, raw and after the paper's post-processing
# (rolling ball + 1,000 px), with `sootctl compare`. The held-out image sits in the run's val/
# folder only because `sootctl train` logs a validation score; the score reported here is of
# the run's last weights (final.safetensors), not of the best-by-validation model, so the
# held-out image chooses nothing.
#   bash Benchmarks/cnn_loo.sh [CONFIG] [OUT] [STEM ...]
#   CONFIG: training configuration (default models/default_training.json, today's recipe)
#   OUT:    run folder (default bench-out/cnn-loo); an interrupted fold resumes from its checkpoint
#   STEM:   the folds to run (default all four)
#   CONFIG may be "none" (the preset alone: cpu, or finetune with INIT).
#   INIT=MODEL in the environment fine-tunes MODEL (`train --init MODEL`; INIT=default: the
#   installed default model) instead of training from scratch. Only a fold whose held-out image
#   the model never trained on is a fair test of it (for the shipped default model:
#   20180529_A9_003).
# Writes OUT/loo.csv (one row per fold) and prints it with the worst fold.
set -euo pipefail
cd "$(dirname "$0")/.."
real="../shared/data/real"
config="${1:-models/default_training.json}"
out="${2:-bench-out/cnn-loo}"
shift $(( $# > 2 ? 2 : $# )) || true
all=(20180529_A9_003 201805A_A6_004 Case1_E7_025 RU_FI_A10_004)
folds=("$@")
[ ${#folds[@]} -gt 0 ] || folds=("${all[@]}")
swift build -c release --product sootctl >/dev/null
bin=.build/release/sootctl
mkdir -p "$out"
csv="$out/loo.csv"
[ -f "$csv" ] || echo "held_out,pixel_size_nm,iou_raw,iou_post_processed,failed,train_seconds,config" > "$csv"
for held in "${folds[@]}"; do
    if grep -q "^$held," "$csv"; then echo "fold $held: done already"; continue; fi
    fold="$out/fold-$held"
    data="$fold/data"
    rm -rf "$data"
    mkdir -p "$data"/{train,val}/{input,ground_truth}
    for stem in "${all[@]}"; do
        split=train; [ "$stem" = "$held" ] && split=val
        cp "$real/images/$stem.png" "$data/$split/input/"
        cp "$real/masks/$stem.tif" "$data/$split/ground_truth/"
    done
    cp Benchmarks/real_pixel_sizes.csv "$data/pixel_sizes.csv"
    start=$(date +%s)
    recipe=(); [ "$config" = none ] || recipe=(--config "$config")
    if [ -d "$fold/run/checkpoint" ]; then
        "$bin" train --data "$data" --out "$fold/run" "${recipe[@]}" --resume "$fold/run" >"$fold/train.log" 2>&1
    elif [ -n "${INIT:-}" ]; then
        "$bin" train --data "$data" --out "$fold/run" "${recipe[@]}" --init "$INIT" >"$fold/train.log" 2>&1
    else
        "$bin" train --data "$data" --out "$fold/run" "${recipe[@]}" >"$fold/train.log" 2>&1
    fi
    seconds=$(( $(date +%s) - start ))
    rm -rf "$fold/compare"
    "$bin" compare "$real/images/$held.png" --truth "$real/masks" --pixel-sizes Benchmarks/real_pixel_sizes.csv \
        --classifiers cnn --model "$fold/run/final.safetensors" --sizing none --out "$fold/compare" >/dev/null
    ps=$(grep "^$held," Benchmarks/real_pixel_sizes.csv | cut -d, -f2)
    # IoU including a failed image (one with no aggregate left counts as IoU 0, not as skipped).
    raw=$(awk -F, '$1=="cnn" && $2=="raw" {print $8}' "$fold/compare/segmentation.csv")
    post=$(awk -F, '$1=="cnn" && $2=="rb+1000px" {print $8}' "$fold/compare/segmentation.csv")
    failed=$(awk -F, '$1=="cnn" && $2=="rb+1000px" {print $6}' "$fold/compare/segmentation.csv")
    echo "$held,$ps,$raw,$post,$failed,$seconds,$config${INIT:+ --init $INIT}" >> "$csv"
    echo "fold $held: IoU raw $raw, post-processed $post ($seconds s of training)"
done
column -s, -t "$csv"
awk -F, 'NR > 1 { if (min == "" || $4 < min) { min = $4; at = $1 } } END { if (min != "") print "worst fold (post-processed): " at " " min }' "$csv"

#!/usr/bin/env bash
# CNN models on synthetic images that hold every realism ingredient (issue 13, Docs/Training.md):
# `sootbench realism-set` draws them with the training generator (`SyntheticRealism`, seeds
# 8801 + k, which no training run uses) at 0.8 nm/px; `sootctl compare` scores each model, raw
# and after the paper's post-processing (rb + 1,000 px).
#   bash Benchmarks/cnn_realism_set.sh [OUT] NAME=MODEL ...   (MODEL "default": the installed model)
# Writes OUT/realism_set.csv: model, IoU over all images (failed ones included: the set's images
# are small fields where a model that marks film edges fails them), raw and post-processed, the
# IoU over the images that did not fail, and the failed images (post-processed).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-out/realism-set}"; shift || true
swift build -c release --product sootctl >/dev/null
swift build -c release --product sootbench >/dev/null
[ -d "$out/images" ] || .build/release/sootbench realism-set --out "$out" --count 12 --seed 8801 >/dev/null
csv="$out/realism_set.csv"
echo "model,iou_raw_all_images,iou_post_processed_all_images,iou_post_processed_not_failed,failed,model_file" > "$csv"
for pair in "$@"; do
    name=${pair%%=*}; model=${pair#*=}
    rm -rf "$out/compare-$name"
    args=(); [ "$model" = default ] || args=(--model "$model")
    .build/release/sootctl compare "$out/images" --truth "$out/masks" --classifiers cnn "${args[@]}" --sizing none \
        --out "$out/compare-$name" >/dev/null 2>"$out/compare-$name.log" || {
        echo "$name: sootctl compare exited $? (log $out/compare-$name.log)" >&2; tail -n 5 "$out/compare-$name.log" >&2
        [ -f "$out/compare-$name/segmentation.csv" ] || continue
    }
    awk -F, -v n="$name" -v m="$model" '$1=="cnn"&&$2=="raw"{r=$8} $1=="cnn"&&$2=="rb+1000px"{p=$8; q=$7; f=$6}
        END{print n "," r "," p "," q "," f "," m}' "$out/compare-$name/segmentation.csv" >> "$csv"
done
cat "$csv"

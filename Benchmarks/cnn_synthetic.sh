#!/usr/bin/env bash
# The CNN (and k-means beside it) on synthetic images no model trained on: three sets drawn by
# `sootctl synth` with fixed seeds (7001-7003), scored by `sootctl compare` (IoU raw and after
# the CNN's default post-processing, rolling ball + 1,000 px; k-means after 1,000 px).
#   bash Benchmarks/cnn_synthetic.sh [MODEL] [OUT]
#   MODEL: CNN model file (default: the installed default model); OUT default bench-out/cnn-synthetic
# Prints one line per set: set, cnn raw, cnn rb+1000px, kmeans 1000px, and the CNN's failed images
# after post-processing (the paper's: no aggregate left off the border).
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-}"
out="${2:-bench-out/cnn-synthetic}"
bin=.build/release/sootctl
[ -x "$bin" ] || swift build -c release --product sootctl >/dev/null
mkdir -p "$out"
draw() {  # name seed options...
    local name=$1 seed=$2; shift 2
    [ -d "$out/$name/images" ] || "$bin" synth --out "$out/$name" --seed "$seed" "$@" >/dev/null
}
draw p04 7001 --count 4 --pixel-size 0.4
draw p025 7002 --count 2 --pixel-size 0.25 --bit-depth 16
draw p12 7003 --count 2 --pixel-size 1.2 --dp-nm 30
echo "set,cnn_raw,cnn_rb_1000px,kmeans_1000px,failed"
for name in p04 p025 p12; do
    rm -rf "$out/$name/compare"
    "$bin" compare "$out/$name/images" --truth "$out/$name/masks" --classifiers cnn,kmeans \
        ${model:+--model "$model"} --sizing none --out "$out/$name/compare" >/dev/null 2>"$out/$name/compare.log" || {
        rc=$?  # 1: some image skipped (the table holds the rest), 2: none compared
        echo "set $name: sootctl compare exited $rc (log $out/$name/compare.log):" >&2
        tail -n 5 "$out/$name/compare.log" >&2
        [ -f "$out/$name/compare/segmentation.csv" ] || continue
    }
    awk -F, -v n="$name" '$1=="cnn"&&$2=="raw"{r=$7} $1=="cnn"&&$2=="rb+1000px"{p=$7; f=$6}
        $1=="kmeans"&&$2=="1000px"{k=$7} END{print n "," r "," p "," k "," f}' \
        "$out/$name/compare/segmentation.csv"
done

#!/usr/bin/env bash
# Ablation of the synthetic realism ingredients (issue 13, Docs/Training.md): leave-one-image-out
# IoU (Benchmarks/cnn_loo.sh) of today's recipe, of every ingredient on (standard 256/128 decoder
# and the chosen 128/64 one), and of every ingredient on but one (128/64 decoder), for each
# configuration in Benchmarks/configs. Each run folder resumes where it
# stopped (finished folds are skipped, an interrupted fold resumes from its checkpoint), so the
# ~20 hours it takes on a 2-core machine can be spread over sessions; run it in the background:
#   nohup bash Benchmarks/cnn_ablation.sh [OUT] [STEM ...] > ablation.log 2>&1 &
# Writes OUT/ablation.csv: one row per configuration and fold (config, held-out image, IoU raw
# and after post-processing), gathered from each run's loo.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-out/cnn-ablation}"
shift $(( $# > 1 ? 1 : $# )) || true
configs=(models/default_training.json Benchmarks/configs/realism_all.json Benchmarks/configs/realism_all_light.json
         Benchmarks/configs/realism_without_*.json)
mkdir -p "$out"
for config in "${configs[@]}"; do
    name=$(basename "$config" .json)
    bash Benchmarks/cnn_loo.sh "$config" "$out/$name" "$@"
done
echo "config,held_out,iou_raw,iou_post_processed" > "$out/ablation.csv"
for config in "${configs[@]}"; do
    name=$(basename "$config" .json)
    [ -f "$out/$name/loo.csv" ] || continue
    tail -n +2 "$out/$name/loo.csv" | awk -F, -v n="$name" '{print n "," $1 "," $3 "," $4}' >> "$out/ablation.csv"
done
cat "$out/ablation.csv"

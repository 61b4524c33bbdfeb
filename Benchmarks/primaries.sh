#!/usr/bin/env bash
# Primaries one by one on unseen synthetic sets (Docs/Primaries.md): for each set, COUNT images
# from `sootctl synth` (seeds 9001+, never trained on: the detector trains on its own draws),
# then `sootctl compare --primary-truth` scores every sizing method on the true masks:
# precision, recall and F1 of the located primaries (IoU >= 0.5), the median per-particle
# diameter error, and the per-aggregate dp error against the true primaries' geometric mean.
#
#   Benchmarks/primaries.sh [COUNT] [MODEL] [SETS]
#
# COUNT images per set (default 3); MODEL the detector (default models/primaries.safetensors);
# SETS a comma-separated subset of: base, ps0.2, ps0.8, ps1.2, open, dense, overlap0, overlap30.
# Writes Benchmarks/results/primaries/SET.csv and prints one markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
model=${2:-models/primaries.safetensors}
sets=${3:-base,ps0.2,ps0.8,ps1.2,open,dense,overlap0,overlap30}
swift build -c release --product sootctl >/dev/null
bin=.build/release/sootctl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=Benchmarks/results/primaries
mkdir -p "$out"
# Fields of view of 0.8-1.3 um with enough aggregates that several stay clear of the border
# (compare scores the truth masks' aggregates after border clearing).
common="--aggregates 4-8 --primaries 10-120"
declare -A options=(
  [base]="--pixel-size 0.4 $common"
  [ps0.2]="--pixel-size 0.2 --size 3200x3200 --aggregates 3-6 --primaries 10-60"
  [ps0.8]="--pixel-size 0.8 --aggregates 6-12 --primaries 10-200"
  [ps1.2]="--pixel-size 1.2 --aggregates 8-14 --primaries 10-200"
  [open]="--pixel-size 0.4 --df 1.6 $common"
  [dense]="--pixel-size 0.4 --df 2.1 $common"
  [overlap0]="--pixel-size 0.4 --overlap 0-0.02 $common"
  [overlap30]="--pixel-size 0.4 --overlap 0.28-0.3 $common"
)
seed=9001
echo "| set | synth options | method | true primaries | precision | recall | F1 | median abs d error | aggregates | median abs dp error | median dp error |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for set in ${sets//,/ }; do
  opts=${options[$set]:?unknown set $set}
  # shellcheck disable=SC2086
  "$bin" synth --out "$work/$set" --count "$count" --seed "$seed" $opts >/dev/null
  "$bin" compare "$work/$set/images" --truth "$work/$set/masks" --primary-truth "$work/$set/truth" \
    --classifiers otsu --sizing all --primary-model "$model" --out "$work/$set/compare" >/dev/null 2>"$work/$set.log" \
    || { cat "$work/$set.log" >&2; exit 1; }
  cp "$work/$set/compare/primary_detection.csv" "$out/$set.csv"
  cp "$work/$set/compare/primary_detection.json" "$out/$set.json"
  tail -n +2 "$out/$set.csv" | while IFS=, read -r method images truth located tp fp fn precision recall f1 derr aggs dpabs dp; do
    echo "| $set | $opts | $method | $truth | $precision | $recall | $f1 | $derr | $aggs | $dpabs | $dp |"
  done
  seed=$((seed + 1))
done
# All sets pooled: counts added, medians over every matched pair and every aggregate.
python3 - "$out" ${sets//,/ } <<'PY'
import json, sys, statistics
out, sets = sys.argv[1], sys.argv[2:]
pooled = {}
for s in sets:
    for row in json.load(open(f"{out}/{s}.json")):
        p = pooled.setdefault(row["method"], {"tp": 0, "fp": 0, "fn": 0, "d": [], "dp": [], "match": False})
        p["dp"] += row["aggregate_dp_errors"]
        if row.get("match"):
            m = row["match"]
            p["match"] = True
            p["tp"] += m["truePositives"]; p["fp"] += m["falsePositives"]; p["fn"] += m["falseNegatives"]
            p["d"] += m["diameterErrors"]
for method, p in pooled.items():
    if p["match"]:
        pr = p["tp"] / max(p["tp"] + p["fp"], 1); rc = p["tp"] / max(p["tp"] + p["fn"], 1)
        f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0
        d = statistics.median(abs(x) for x in p["d"]) if p["d"] else float("nan")
        cols = f"{p['tp'] + p['fn']} | {pr:.4f} | {rc:.4f} | {f1:.4f} | {d:.4f}"
    else:
        cols = " |  |  |  | "
    dp = p["dp"]
    print(f"| all sets | pooled | {method} | {cols} | {len(dp)} | {statistics.median(abs(x) for x in dp):.4f} | {statistics.median(dp):.4f} |")
PY

#!/usr/bin/env bash
# Soak: N synthetic images (default 500, 640 x 480 at 0.8 nm/px, like the README example)
# through `sootctl analyze` with the default CNN and all four sizing methods on this
# machine's cores; reports images per minute and peak memory, and the same for a tenth of
# the images, to show that memory does not grow with the batch.
#   bash Benchmarks/soak.sh [N] [OUT]        (default 500, bench-out/soak)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-500}"
out="${2:-bench-out/soak}"
swift build -c release --product sootctl >/dev/null
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
.build/release/sootctl synth --out "$out/synth" --count "$n" --size 640x480 --pixel-size 0.8 --seed 42 >/dev/null
small=$(( n / 10 ))
mkdir -p "$out/subset"
files=("$out"/synth/images/*.png)
for f in "${files[@]:0:$small}"; do ln -s "$f" "$out/subset/$(basename "$f")"; done
for set in subset synth/images; do
    count=$(ls "$out/$set" | wc -l)
    /usr/bin/time -f "%e %M" -o "$out/time.txt" .build/release/sootctl analyze "$out/$set" --out "$out/run-$count" >/dev/null 2>"$out/stderr-$count.txt" || true
    read -r seconds kib < "$out/time.txt"
    awk -v n="$count" -v s="$seconds" -v k="$kib" -v a="$(($(wc -l < "$out/run-$count/aggregates.csv") - 1))" \
        'BEGIN { printf "soak: %d images, %d aggregates in %.0f s = %.1f images/min, peak memory %.0f MiB\n", n, a, s, n / s * 60, k / 1024 }'
done

#!/usr/bin/env bash
# Mutation fuzzing of sootctl's decoders: mutants of the PNG and TIFF fixtures (and of any
# DM3, DM4 or JPEG files there) read by `sootctl info` under a 4 GB address-space limit and a
# 20 s time limit each. Crashing or hanging inputs are saved to OUT (default bench-out/fuzz);
# add them to Tests/ImageCoreTests/Fixtures/fuzz/ so `swift test` reads them again.
#   bash scripts/fuzz.sh [--count N] [--seconds S] [--seed K] [--crashes OUT]
# CI runs a bounded run (.ci/run: --seconds 120). Exit 1 when any mutant crashed or hung.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sootctl >/dev/null
swift build -c release --product sootfuzz >/dev/null
args=(--count 20000 --crashes bench-out/fuzz)
# The shared microscope files (DM3/DM4, vendor TIFFs) are seeds too where a checkout has them.
seeds=(Tests/ImageCoreTests/Fixtures)
[ -d ../shared/data/formats ] && seeds+=(../shared/data/formats)
exec .build/release/sootfuzz --seeds "${seeds[@]}" --jobs "$(nproc)" --memory-mb 4096 --timeout-s 20 \
    --sootctl .build/release/sootctl "${args[@]}" "$@"

#!/usr/bin/env bash
# Installs the system libraries sootctl links against (Debian/Ubuntu package names) when they
# are missing, then builds the sootctl binary in release mode (.build/release/sootctl).
#   --with-test-deps  also the fonts the tests and benchmarks render scale-bar labels with.
set -euo pipefail
cd "$(dirname "$0")/.."

# OCR of scale-bar labels: Tesseract and its English data; FreeType renders labels into
# synthetic images (tests, benchmarks).
packages=(libopenblas-dev liblapacke-dev libpng-dev libtiff-dev libturbojpeg0-dev libtesseract-dev tesseract-ocr-eng
          libfreetype-dev pkg-config)
if [ "${1:-}" = "--with-test-deps" ]; then packages+=(fonts-dejavu-core fonts-liberation); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build -c release --product sootctl

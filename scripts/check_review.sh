#!/usr/bin/env bash
# Drives `sootctl review` in a real headless Chromium through chromedriver (WebDriver): loads
# the README example, erases part of an aggregate, puts it back with the slider method (drag
# a rectangle, preview, Add), checks undo and redo, saves, and checks the saved mask file.
# Installs Debian's chromium and chromium-driver when they are missing.
#   bash scripts/check_review.sh [SCREENSHOT.png]      (exit 1 on any failure)
set -euo pipefail
cd "$(dirname "$0")/.."
shot="${1:-}"
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
fi
sootctl=.build/release/sootctl
[ -x "$sootctl" ] || swift build -c release --product sootctl >/dev/null
name=check_review
source scripts/webdriver.sh
cp Examples/synthetic_soot.png "$work/images/"
start_review --classifier kmeans
base="${url%%/?token=*}"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/images")" = 403 ] || fail "a request without the token was not refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/?token=wrong")" = 403 ] || fail "a wrong token was not refused"

start_browser

curl -s -X POST "$s/url" -H 'Content-Type: application/json' -d "{\"url\":\"$url\"}" > /dev/null
wait_for "window.review && window.review.ready"
c0=$(count)
click '[data-tool=eraser]'
js "document.getElementById('brush').value = 30; return 1" > /dev/null
drag 100 250 200 250            # across the large aggregate (image pixels)
c1=$(count)
[ "$c1" -lt "$c0" ] || fail "the eraser removed nothing ($c0 -> $c1)"
click '[data-tool=slider]'
drag 60 160 260 330             # a rectangle around the aggregate
wait_for "window.review.preview && window.review.busy === 0"
click '#apply'
c2=$(count)
[ "$c2" -gt "$c1" ] || fail "the slider added nothing ($c1 -> $c2)"
click '#undo'; [ "$(count)" = "$c1" ] || fail "undo did not restore the erased mask"
click '#redo'; [ "$(count)" = "$c2" ] || fail "redo did not restore the slider's result"
click '#save'
wait_for "!window.review.dirty && window.review.busy === 0"
saved="$work/out/masks/synthetic_soot.png"
[ -s "$saved" ] || fail "no saved mask"
fraction=$("$sootctl" info "$saved" --json | grep -o '"foregroundFraction":[0-9.e-]*' | grep -o '[0-9.e-]*$')
pixels=$(awk -v f="$fraction" 'BEGIN { printf "%d", f * 640 * 480 + 0.5 }')
[ "$pixels" = "$c2" ] || fail "the saved mask has $pixels soot pixels, the page $c2"
grep -q '"status" : "edited"' "$work/out/review.json" || fail "review.json does not say edited"
if [ -n "$shot" ]; then
    curl -s "$s/screenshot" | sed 's/^{"value":"\(.*\)"}$/\1/' | base64 -d > "$shot"
fi
curl -s -X DELETE "$s" > /dev/null
echo "check_review: pixels $c0 -> erased $c1 -> slider $c2, undo/redo, saved $pixels; token refused without it"

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
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "check_review: $*" >&2; exit 1; }

mkdir -p "$work/images"
cp Examples/synthetic_soot.png "$work/images/"
"$sootctl" review "$work/images" --classifier kmeans --out "$work/out" > "$work/review.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'http://' "$work/review.log" && break; sleep 0.1; done
url="$(grep -o 'http://[^ ]*' "$work/review.log")" || fail "the server did not start: $(cat "$work/review.log")"
base="${url%%/?token=*}"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/images")" = 403 ] || fail "a request without the token was not refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/?token=wrong")" = 403 ] || fail "a wrong token was not refused"

port=$((20000 + RANDOM % 20000))
chromedriver --port="$port" > "$work/driver.log" 2>&1 &
pids+=($!)
wd="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -s "$wd/status" | grep -q '"ready":true' && break; sleep 0.1; done
session=$(curl -s -X POST "$wd/session" -H 'Content-Type: application/json' -d '{"capabilities":{"alwaysMatch":{"goog:chromeOptions":{"args":["--headless=new","--no-sandbox","--disable-gpu","--window-size=1400,900"]}}}}' \
    | grep -o '"sessionId":"[^"]*"' | cut -d'"' -f4)
[ -n "$session" ] || fail "chromedriver gave no session: $(cat "$work/driver.log")"
s="$wd/session/$session"
# Runs a script in the page; prints its JSON value.
js() { curl -s -X POST "$s/execute/sync" -H 'Content-Type: application/json' -d "{\"script\":$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/'),\"args\":[]}" | sed 's/^{"value":\(.*\)}$/\1/'; }
wait_for() { for _ in $(seq 100); do [ "$(js "return !!($1)")" = true ] && return 0; sleep 0.1; done; fail "timed out waiting for $1"; }
# A drag with the left button between two image points (x0,y0) -> (x1,y1), in viewport pixels.
drag() {
    local p; p=$(js "const r = document.getElementById('view').getBoundingClientRect(), v = window.review; const f = (x, y) => [Math.round(r.left + v.panX + x * v.zoom), Math.round(r.top + v.panY + y * v.zoom)]; return f($1, $2).concat(f($3, $4)).join(' ')")
    read -r ax ay bx by <<< "$(echo "$p" | tr -d '"')"
    curl -s -X POST "$s/actions" -H 'Content-Type: application/json' -d "{\"actions\":[{\"type\":\"pointer\",\"id\":\"mouse\",\"parameters\":{\"pointerType\":\"mouse\"},\"actions\":[{\"type\":\"pointerMove\",\"duration\":0,\"x\":$ax,\"y\":$ay,\"origin\":\"viewport\"},{\"type\":\"pointerDown\",\"button\":0},{\"type\":\"pointerMove\",\"duration\":150,\"x\":$bx,\"y\":$by,\"origin\":\"viewport\"},{\"type\":\"pointerUp\",\"button\":0}]}]}" > /dev/null
}
click() { local id; id=$(curl -s -X POST "$s/element" -H 'Content-Type: application/json' -d "{\"using\":\"css selector\",\"value\":\"$1\"}" | grep -o '"element-[^"]*":"[^"]*"' | cut -d'"' -f4)
          [ -n "$id" ] || fail "no element $1"; curl -s -X POST "$s/element/$id/click" -H 'Content-Type: application/json' -d '{}' > /dev/null; }
count() { js "return window.review.mask.reduce((a, b) => a + b, 0)"; }

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

# The review page under WebDriver (sourced by scripts/check_review.sh and
# Benchmarks/review_real.sh): a scratch folder `work` removed at exit with every process
# started, `start_review ARGS...` (sootctl review on the images put in $work/images; sets
# `url`), then `start_browser` (chromedriver and a headless Chromium session) and the helpers
# js, wait_for, drag, click, count. The caller sets `name` (for messages).
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "$name: $*" >&2; exit 1; }
mkdir -p "$work/images"

start_review() {
    .build/release/sootctl review "$work/images" "$@" --out "$work/out" > "$work/review.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q 'http://' "$work/review.log" && break; sleep 0.1; done
    url="$(grep -o 'http://[^ ]*' "$work/review.log")" || fail "the server did not start: $(cat "$work/review.log")"
}

start_browser() {
    port=$((20000 + RANDOM % 20000))
    chromedriver --port="$port" > "$work/driver.log" 2>&1 &
    pids+=($!)
    wd="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -s "$wd/status" | grep -q '"ready":true' && break; sleep 0.1; done
    session=$(curl -s -X POST "$wd/session" -H 'Content-Type: application/json' -d '{"capabilities":{"alwaysMatch":{"goog:chromeOptions":{"args":["--headless=new","--no-sandbox","--disable-gpu","--window-size=1400,900"]}}}}' \
        | grep -o '"sessionId":"[^"]*"' | cut -d'"' -f4)
    [ -n "$session" ] || fail "chromedriver gave no session: $(cat "$work/driver.log")"
    s="$wd/session/$session"
}

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


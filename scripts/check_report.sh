#!/usr/bin/env bash
# Opens a sootctl report in headless Chromium, checks that its tables, figures and pictures
# are there as the browser sees them, and saves a screenshot.
#   bash scripts/check_report.sh REPORT.html [SCREENSHOT.png]
# Installs Chromium (Debian package) when it is missing. Exit 1 when something is missing.
set -euo pipefail
report="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shot="${2:-${report%.html}.png}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    browser="$(command -v chromium)"
fi
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files)
dom="$(mktemp)"
"$browser" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$report" > "$dom" 2>/dev/null
# What the browser built: tables with rows, inline SVG charts with drawn paths, decoded pictures.
tables=$(grep -o '<table' "$dom" | wc -l)
rows=$(grep -o '<tr>' "$dom" | wc -l)
charts=$(grep -o '<svg' "$dom" | wc -l)
paths=$(grep -o '<path' "$dom" | wc -l)
pictures=$(grep -o '<img' "$dom" | wc -l)
echo "report: $tables table(s), $rows row(s), $charts chart(s), $paths path(s), $pictures picture(s)"
rm -f "$dom"
"$browser" "${flags[@]}" --window-size=1400,2400 --screenshot="$shot" "file://$report" 2>/dev/null
echo "screenshot: $shot"
[ "$tables" -ge 1 ] && [ "$rows" -ge 2 ] && [ "$charts" -ge 1 ] && [ "$paths" -ge 1 ] && [ "$pictures" -ge 1 ] || {
    echo "check_report: the report is missing tables, charts or pictures" >&2; exit 1; }

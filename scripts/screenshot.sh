#!/usr/bin/env bash
# Takes the README screenshot of the real window: starts Xvfb, runs `topicscope --demo` with a
# throw-away config dir, waits for the demo data, clicks into the tree, and saves a PNG.
# Usage: scripts/screenshot.sh [OUT.png] [SECONDS_TO_WAIT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-assets/screenshot.png}"
wait_secs="${2:-12}"
scripts/install-deps.sh
cargo build --release --locked
display=":$((90 + RANDOM % 9))"
tmp=$(mktemp -d)
chmod 700 "$tmp"
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
cleanup() { kill "${app_pid:-}" "$xvfb_pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
sleep 1
DISPLAY="$display" XDG_RUNTIME_DIR="$tmp" target/release/topicscope --demo --config-dir "$tmp/config" &
app_pid=$!
sleep "$wait_secs"
if [ -n "${SCREENSHOT_CLICKS:-}" ]; then
  for xy in $SCREENSHOT_CLICKS; do
    DISPLAY="$display" xdotool mousemove "${xy%,*}" "${xy#*,}" click 1
    sleep 1
  done
fi
DISPLAY="$display" import -window root "$out"
echo "wrote $out"

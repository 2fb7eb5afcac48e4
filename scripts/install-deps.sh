#!/usr/bin/env bash
# Installs the system programs the tests drive, when they are missing (fresh Debian/Ubuntu):
# Mosquitto (+ clients) for the real-broker tests, Xvfb/xdotool/ImageMagick for the real-window
# tests and screenshots, openssl for generating test certificates, InfluxDB for the forwarding
# tests, GNU time, python3 and tmux for the benchmark, the desktop-file and AppStream validators,
# fontconfig and a CJK font. Does nothing when all are present.
set -euo pipefail

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v import >/dev/null 2>&1 || need+=(imagemagick)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# InfluxDB 1.x for the forwarding tests (the tests start their own influxd on a free port).
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
# For tests/packaging.rs: the desktop entry and AppStream validators.
command -v desktop-file-validate >/dev/null 2>&1 || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null 2>&1 || need+=(appstream)
# For tests/gui_fonts.rs: fontconfig (the window finds fallback fonts through it) and one CJK
# font (Droid Sans Fallback, 4 MB: Chinese, Japanese, Korean).
if ! command -v fc-list >/dev/null 2>&1; then
  need+=(fontconfig fonts-droid-fallback)
elif [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  need+=(fonts-droid-fallback)
fi
# For scripts/bench.sh: GNU time (CPU seconds, peak RSS) and python3 (its report).
[ -x /usr/bin/time ] || need+=(time)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v python3 >/dev/null 2>&1 || need+=(python3)

[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${need[*]} and no apt-get here; install them with your package manager." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

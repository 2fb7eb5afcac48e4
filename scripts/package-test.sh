#!/usr/bin/env bash
# Installs the .deb from dist/ on this machine and uses it like a person would, then removes it:
#   1. lintian on the .deb: no errors (warnings are printed);
#   2. dpkg -i; the files are where a desktop looks for them (binary, desktop entry, metainfo,
#      icons, man page, completions, licences) and the installed desktop file and metainfo
#      validate;
#   3. `topicscope --version` from the installed path shows the version and the commit;
#   4. the desktop entry's command (Exec=) with a fresh home under Xvfb opens the window with the
#      built-in demo (first start, no profiles), then the "demo" desktop action (--demo):
#      screenshots in target/package-test/, window title, WM_CLASS and icon checked;
#   5. `topicscope publish` to the installed `topicscope demo-server` writes the user's audit log;
#      dpkg -r: no file of the package is left in /usr, /etc or /opt; the user's config stays.
# Needs root (or sudo) and a .deb from scripts/package.sh (`--build` runs it first). Not part of
# scripts/test.sh: the dist build alone takes 15-25 minutes. Refuses to run when a topicscope
# package is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "package-test: $*" >&2; }
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"

[ "${1:-}" = "--build" ] && scripts/package.sh
deb=$(ls dist/topicscope_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no dist/topicscope_*.deb: run scripts/package.sh (or this with --build)"
dpkg -s topicscope >/dev/null 2>&1 && fail "a topicscope package is already installed; remove it first"

need=()
command -v lintian >/dev/null || need+=(lintian)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v xprop >/dev/null || need+=(x11-utils)
[ -x /usr/bin/import ] || need+=(imagemagick)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null || need+=(appstream)
command -v man >/dev/null || need+=(man-db)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

version=$(dpkg-deb -f "$deb" Version)
log "testing $deb (version $version, $(stat -c %s "$deb") bytes)"

# --- 1. lintian --------------------------------------------------------------------------------
lintian_out=$(lintian --no-tag-display-limit "$deb" 2>&1 || true)
echo "$lintian_out" | sed 's/^/  lintian: /' >&2
if echo "$lintian_out" | grep -q '^E: '; then fail "lintian reports errors"; fi
log "lintian: no errors ($(echo "$lintian_out" | grep -c '^W: ' || true) warnings)"

# --- 2. install --------------------------------------------------------------------------------
# The package's dependencies first, so the before/after comparison sees only the package.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep -v '^$')
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $depends >/dev/null
snapshot() { $sudo find /usr /etc /opt -xdev \( -type f -o -type l \) 2>/dev/null | sort; }
work=$(mktemp -d)
xvfb_pid=""
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
  # A failed run does not leave the package installed.
  if dpkg -s topicscope 2>/dev/null | grep -q '^Status: install ok installed'; then
    log "removing the package after the failure"
    $sudo dpkg -r topicscope >/dev/null || true
  fi
}
trap cleanup EXIT
snapshot >"$work/before"
$sudo dpkg -i "$deb" >/dev/null
log "installed: $(dpkg-query -W -f '${Package} ${Version} ${Installed-Size} KiB' topicscope)"

expect_file() { [ -e "$1" ] || fail "missing $1"; }
expect_file /usr/bin/topicscope
expect_file /usr/share/applications/topicscope.desktop
expect_file /usr/share/metainfo/io.github.topicscope.TopicScope.metainfo.xml
for size in 16 22 24 32 48 64 128 256 512; do
  expect_file "/usr/share/icons/hicolor/${size}x${size}/apps/topicscope.png"
done
expect_file /usr/share/icons/hicolor/scalable/apps/topicscope.svg
expect_file /usr/share/bash-completion/completions/topicscope
expect_file /usr/share/zsh/vendor-completions/_topicscope
expect_file /usr/share/fish/vendor_completions.d/topicscope.fish
expect_file /usr/share/doc/topicscope/copyright
expect_file /usr/share/doc/topicscope/THIRD-PARTY-LICENSES.md
[ "$(man -w topicscope)" = /usr/share/man/man1/topicscope.1.gz ] || fail "man -w topicscope: $(man -w topicscope 2>&1)"
man topicscope 2>/dev/null | grep -q -- '--demo' || fail "the man page does not describe --demo"
desktop-file-validate /usr/share/applications/topicscope.desktop
appstreamcli validate --no-net /usr/share/metainfo/io.github.topicscope.TopicScope.metainfo.xml >/dev/null
log "files in place: binary, desktop entry, metainfo, 10 icons, man page, completions, licences"

# --- 3. --version ------------------------------------------------------------------------------
version_line=$(/usr/bin/topicscope --version)
log "topicscope --version: $version_line"
case "$version_line" in
  "topicscope ${version%-*} (commit "*", built "*")") ;;
  *) fail "unexpected --version output" ;;
esac
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [[ "$version_line" != *"$commit"* ]]; then
  log "note: the package was built from another commit than HEAD ($commit)"
fi

# --- 4. the window under Xvfb ------------------------------------------------------------------
display=""
for n in $(seq 150 199); do
  if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || fail "no free X display"
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
export DISPLAY="$display"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.2; done

home="$work/home"
mkdir -p "$home" "$work/runtime"
chmod 700 "$work/runtime"
shots=target/package-test
mkdir -p "$shots"

# Runs a command line from the installed desktop file with a fresh user, checks the window,
# takes a screenshot NAME.png and stops the app.
run_desktop_command() {
  local name=$1 command=$2
  log "running the desktop entry's command: $command"
  # The same word splitting a launcher does for these simple Exec lines (no field codes).
  # shellcheck disable=SC2086
  env -i PATH=/usr/bin:/bin HOME="$home" DISPLAY="$display" XDG_RUNTIME_DIR="$work/runtime" \
    $command >"$work/$name.log" 2>&1 &
  app_pid=$!
  local window=""
  for _ in $(seq 150); do
    window=$(xdotool search --name '^TopicScope$' 2>/dev/null | head -1 || true)
    [ -n "$window" ] && break
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/$name.log" >&2; fail "$name: the app exited"; }
    sleep 0.2
  done
  [ -n "$window" ] || { cat "$work/$name.log" >&2; fail "$name: no TopicScope window within 30 s"; }
  # The demo building needs a few seconds to fill the tree.
  sleep 8
  kill -0 "$app_pid" 2>/dev/null || { cat "$work/$name.log" >&2; fail "$name: the app exited"; }
  xprop -id "$window" WM_CLASS | grep -q '"topicscope"' || fail "$name: WM_CLASS is not topicscope: $(xprop -id "$window" WM_CLASS)"
  # _NET_WM_ICON starts with the icon's width and height.
  local icon_size
  icon_size=$(xprop -id "$window" -f _NET_WM_ICON 32c '=$0x$1' _NET_WM_ICON | sed -n 's/^_NET_WM_ICON(CARDINAL)=//p')
  case "$icon_size" in
    [1-9]*x[1-9]*) ;;
    *) fail "$name: the window has no icon (_NET_WM_ICON: '$icon_size')" ;;
  esac
  /usr/bin/import -window root "$shots/$name.png"
  local colours
  colours=$(/usr/bin/convert "$shots/$name.png" -format %k info:)
  [ "$colours" -gt 200 ] || fail "$name: the screenshot looks blank ($colours colours)"
  log "$name: window $window, WM_CLASS topicscope, icon $icon_size, $colours colours -> $shots/$name.png"
  kill "$app_pid"
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
}

exec_line=$(sed -n 's/^Exec=//p' /usr/share/applications/topicscope.desktop | head -1)
run_desktop_command first-start "$exec_line"
demo_line=$(sed -n '/^\[Desktop Action demo\]/,/^\[/ s/^Exec=//p' /usr/share/applications/topicscope.desktop)
run_desktop_command demo-action "$demo_line"
# The user's own data: a message published with the installed binary (to its own headless demo
# broker) is recorded in the audit log in the user's config folder, which removal must keep.
env -i PATH=/usr/bin:/bin HOME="$home" /usr/bin/topicscope demo-server >"$work/demo-server.out" 2>"$work/demo-server.err" &
demo_pid=$!
url=""
for _ in $(seq 150); do
  url=$(head -1 "$work/demo-server.out" | grep '^mqtt://' || true)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { kill "$demo_pid"; fail "topicscope demo-server printed no URL: $(cat "$work/demo-server.err")"; }
env -i PATH=/usr/bin:/bin HOME="$home" /usr/bin/topicscope publish --url "$url" --topic package-test/hello --qos 1 hello >/dev/null ||
  { kill "$demo_pid"; fail "topicscope publish to $url failed"; }
kill "$demo_pid"
wait "$demo_pid" 2>/dev/null || true
config_dir="$home/.config/topicscope"
[ -s "$config_dir/audit.jsonl" ] || fail "no audit log in $config_dir after publishing"
log "user data written: $(find "$home" -type f | sed "s|$home/||" | tr '\n' ' ')"

# --- 5. remove ---------------------------------------------------------------------------------
$sudo dpkg -r topicscope >/dev/null
dpkg -s topicscope >/dev/null 2>&1 && [ "$(dpkg-query -W -f '${Status}' topicscope)" != "deinstall ok config-files" ] &&
  fail "topicscope is still installed"
snapshot >"$work/after"
if ! diff "$work/before" "$work/after" >"$work/diff"; then
  cat "$work/diff" >&2
  fail "files changed under /usr, /etc or /opt after install + remove"
fi
[ -d "$config_dir" ] || fail "the user's config folder was removed"
log "removed: no file left in /usr, /etc, /opt; the user's config ($config_dir) is kept"
log "PASSED"

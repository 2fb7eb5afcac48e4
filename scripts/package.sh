#!/usr/bin/env bash
# Builds the Linux packages from a clean checkout, in one command:
#   dist/topicscope_<version>-1_amd64.deb          (cargo-deb)
#   dist/topicscope-<version>-1.x86_64.rpm         (cargo-generate-rpm)
#   dist/topicscope-<version>-x86_64-linux.tar.gz  (binary, desktop file, icons, man pages,
#                                                   completions, README, licences)
#   dist/SHA256SUMS
# from the `dist` profile (stripped, fat LTO, one codegen unit). Installs what it needs where
# missing: cargo-deb and cargo-generate-rpm (cargo install --locked, pinned versions), and
# dpkg-dev, desktop-file-utils, appstream, python3 (apt-get). Takes 15-25 minutes on 2 cores
# from scratch, mostly the link. packaging/README.md has the details and the other systems.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1

log() { echo "package.sh: $*" >&2; }

# --- tools -------------------------------------------------------------------------------------
need=()
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null || need+=(appstream)
command -v python3 >/dev/null || need+=(python3)
command -v gzip >/dev/null || need+=(gzip)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { log "missing ${need[*]}; install them with your package manager"; exit 1; }
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cargo deb --version >/dev/null 2>&1 ||
  { log "installing cargo-deb $CARGO_DEB_VERSION"; cargo install --locked "cargo-deb@$CARGO_DEB_VERSION"; }
cargo generate-rpm --version >/dev/null 2>&1 ||
  { log "installing cargo-generate-rpm $CARGO_GENERATE_RPM_VERSION"; cargo install --locked "cargo-generate-rpm@$CARGO_GENERATE_RPM_VERSION"; }

# --- what is being built -----------------------------------------------------------------------
version=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin)["packages"] if p["name"]=="topicscope"][0]; print(p["version"])')
homepage=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json,sys; p=[p for p in json.load(sys.stdin)["packages"] if p["name"]=="topicscope"][0]; print(p["homepage"])')
# Reproducible: the build date is the commit's (build.rs reads SOURCE_DATE_EPOCH), and so are
# the timestamps in the archives.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
release_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
arch=$(uname -m)
log "TopicScope $version ($arch), dated $release_date"

# --- build -------------------------------------------------------------------------------------
cargo build --locked --profile dist
binary=target/dist/topicscope
"$binary" --version

# --- generated files ---------------------------------------------------------------------------
assets=target/package-assets
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions"
"$binary" generate man --out-dir "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1
"$binary" generate completions bash >"$assets/completions/topicscope.bash"
"$binary" generate completions zsh >"$assets/completions/_topicscope"
"$binary" generate completions fish >"$assets/completions/topicscope.fish"
"$binary" generate completions powershell >"$assets/completions/_topicscope.ps1"

metainfo="$assets/io.github.topicscope.TopicScope.metainfo.xml"
sed -e "s|@VERSION@|$version|g" -e "s|@DATE@|$release_date|g" -e "s|@HOMEPAGE@|$homepage|g" \
  packaging/linux/topicscope.metainfo.xml.in >"$metainfo"
desktop-file-validate packaging/linux/topicscope.desktop
appstreamcli validate --no-net "$metainfo" >/dev/null ||
  { appstreamcli validate --no-net "$metainfo"; exit 1; }

python3 scripts/third_party_licenses.py "$assets/THIRD-PARTY-LICENSES.md"

# Debian changelog (lintian wants one); the real history is CHANGELOG.md.
cat >"$assets/changelog" <<EOF
topicscope ($version-1) unstable; urgency=medium

  * TopicScope $version. The changes are listed in CHANGELOG.md in the
    source and at the project's home page.

 -- TopicScope developers <topicscope@users.noreply.github.com>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF

# --- packages ----------------------------------------------------------------------------------
rm -rf dist
mkdir -p dist
cargo deb --locked --no-build --profile dist --no-strip --output dist/
cargo generate-rpm --profile dist --output dist/

stage="topicscope-$version-$arch-linux"
tree="target/package-tar/$stage"
rm -rf target/package-tar
mkdir -p "$tree"
install -m755 "$binary" "$tree/topicscope"
install -m644 packaging/linux/topicscope.desktop "$metainfo" README.md CHANGELOG.md \
  LICENSE-MIT LICENSE-APACHE "$assets/THIRD-PARTY-LICENSES.md" "$tree/"
cp -r packaging/icons "$tree/icons"
cp -r "$assets/man" "$assets/completions" "$tree/"
cat >"$tree/INSTALL.txt" <<'EOF'
TopicScope for Linux (x86_64, glibc). Run ./topicscope, or install for your user:

  install -Dm755 topicscope ~/.local/bin/topicscope
  install -Dm644 topicscope.desktop ~/.local/share/applications/topicscope.desktop
  cp -r icons/hicolor ~/.local/share/icons/
  install -Dm644 man/topicscope.1.gz ~/.local/share/man/man1/topicscope.1.gz

Completions for bash, zsh, fish and PowerShell are in completions/. The .deb and .rpm packages
install all of this system-wide.
EOF
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  -C target/package-tar -cf - "$stage" | gzip -9n >"dist/$stage.tar.gz"

(cd dist && sha256sum -- * >SHA256SUMS)
log "binary: $(stat -c %s "$binary") bytes ($(du -h "$binary" | cut -f1))"
ls -l dist/ >&2

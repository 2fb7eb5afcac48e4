#!/usr/bin/env bash
# Regenerates the committed icons from the one source, assets/topicscope.svg:
#   packaging/icons/hicolor/NxN/apps/topicscope.png  (16-512 px, Linux packages; also the
#                                                      PNGs cargo-packager turns into .icns/.ico)
#   packaging/windows/topicscope.ico                  (16-256 px, the .exe resource and installer)
#   packaging/macos/topicscope.icns                   (16-512 px, the .app bundle)
#   assets/topicscope.png                             (256 px, the window icon built into the binary)
# The results are committed, so packaging on any OS needs none of these tools. Run it after
# changing the SVG. Needs rsvg-convert (librsvg2-bin), ImageMagick and png2icns (icnsutils).
set -euo pipefail
cd "$(dirname "$0")/.."
svg=assets/topicscope.svg
for tool in rsvg-convert png2icns; do
  command -v "$tool" >/dev/null || { echo "icons.sh: $tool is missing (apt-get install librsvg2-bin icnsutils)" >&2; exit 1; }
done
# Debian's ImageMagick (a sandbox may put a stand-in first on PATH).
magick=/usr/bin/convert
[ -x "$magick" ] || magick=convert

sizes=(16 22 24 32 48 64 128 256 512)
for size in "${sizes[@]}"; do
  dir="packaging/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  rsvg-convert --width "$size" --height "$size" --format png "$svg" --output "$dir/topicscope.png.tmp"
  # 8-bit RGBA without a timestamp, so a rerun on the same SVG gives the same bytes.
  "$magick" "$dir/topicscope.png.tmp" -depth 8 -define png:color-type=6 -strip "PNG32:$dir/topicscope.png"
  rm "$dir/topicscope.png.tmp"
done
mkdir -p packaging/icons/hicolor/scalable/apps
cp "$svg" packaging/icons/hicolor/scalable/apps/topicscope.svg
cp packaging/icons/hicolor/256x256/apps/topicscope.png assets/topicscope.png

png() { echo "packaging/icons/hicolor/$1x$1/apps/topicscope.png"; }
mkdir -p packaging/windows packaging/macos
"$magick" "$(png 16)" "$(png 24)" "$(png 32)" "$(png 48)" "$(png 64)" "$(png 128)" "$(png 256)" \
  packaging/windows/topicscope.ico
png2icns packaging/macos/topicscope.icns "$(png 16)" "$(png 32)" "$(png 48)" "$(png 128)" \
  "$(png 256)" "$(png 512)" >/dev/null
echo "icons.sh: regenerated $(find packaging/icons -name '*.png' | wc -l) PNGs, the .ico and the .icns"

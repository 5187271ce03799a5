#!/usr/bin/env bash
# Builds the web UI for production into OUT_DIR (the directory SOFATHEK_WEB_DIR points at):
#
#   OUT_DIR/assets/<name>-<hash>.<ext>   bundled, minified, fingerprinted (+ .br and .gz)
#   OUT_DIR/templates/*.html             the page templates, unchanged
#   OUT_DIR/manifest.json                {"app.js": "app-<hash>.js", ...}
#
# Needs only esbuild, brotli and gzip on PATH (plus coreutils), so the Nix flake can run it
# with nixpkgs' esbuild and no npm download. The output depends only on the sources: the same
# input gives byte-identical files.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
for tool in esbuild brotli gzip sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build.sh: '$tool' is not on PATH" >&2
    exit 1
  fi
done

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Browsers of old TVs and tablets: nothing newer than ES2020 and CSS those engines know.
targets="es2020,chrome80,firefox78,safari13,edge88"

esbuild "$src/assets/app.js" --bundle --minify --format=esm --target="$targets" \
  --legal-comments=none --log-level=warning --outfile="$work/app.js"
esbuild "$src/assets/livereload.js" --bundle --minify --format=esm --target="$targets" \
  --legal-comments=none --log-level=warning --outfile="$work/livereload.js"
esbuild "$src/assets/theme-init.js" --minify --target="$targets" \
  --legal-comments=none --log-level=warning --outfile="$work/theme-init.js"
esbuild "$src/assets/app.css" --bundle --minify --target="$targets" \
  --legal-comments=none --log-level=warning --outfile="$work/app.css"
cp "$src/assets/icon.svg" "$work/icon.svg"

rm -rf "$out/assets" "$out/templates" "$out/manifest.json"
mkdir -p "$out/assets"
cp -R "$src/templates" "$out/templates"

manifest="{"
separator=""
for file in $(cd "$work" && ls | LC_ALL=C sort); do
  base="${file%.*}"
  ext="${file##*.}"
  hash="$(sha256sum "$work/$file" | cut -c1-12)"
  name="$base-$hash.$ext"
  cp "$work/$file" "$out/assets/$name"
  case "$ext" in
    js | css | svg)
      brotli --best --force --output="$out/assets/$name.br" "$out/assets/$name"
      gzip --best --no-name --stdout "$out/assets/$name" >"$out/assets/$name.gz"
      ;;
  esac
  manifest="$manifest$separator\"$file\":\"$name\""
  separator=","
done
printf '%s}\n' "$manifest" >"$out/manifest.json"

echo "built the web UI into $out:"
(cd "$out/assets" && ls -l | awk 'NR > 1 { printf "  %8d  %s\n", $5, $9 }')

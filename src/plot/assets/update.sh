#!/usr/bin/env bash
# Refreshes the files embedded in src/plot/assets/ from their npm packages:
# DejaVu Sans (base64, for the PNG renderer) and Vega's browser build (for
# report.html). Keep VEGA equal to the "vega" version in deno.json; the tests
# check that it is.
set -euo pipefail
DEJAVU=2.37.3
VEGA=6.4.0
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "dejavu-fonts-ttf@$DEJAVU" "vega@$VEGA" >/dev/null)
mkdir "$tmp/font" "$tmp/vega"
tar xzf "$tmp/dejavu-fonts-ttf-$DEJAVU.tgz" -C "$tmp/font"
tar xzf "$tmp/vega-$VEGA.tgz" -C "$tmp/vega"
base64 -w 76 "$tmp/font/package/ttf/DejaVuSans.ttf" >dejavu_sans.ttf.b64
cp "$tmp/font/package/LICENSE" LICENSE.dejavu-fonts
cp "$tmp/vega/package/build/vega.min.js" vega.min.js.txt
cp "$tmp/vega/package/LICENSE" LICENSE.vega

#!/usr/bin/env bash
# Redraws richmenu.png (2500x1686, six cells) from the labels below, which
# must match the `label`s of richmenu.json. Needs ImageMagick and the Noto
# CJK fonts (Debian: apt-get install imagemagick fonts-noto-cjk); the PNG is
# committed, so `make line-richmenu` does not need them.
set -euo pipefail
cd "$(dirname "$0")"
FONT=$(fc-list : file | grep -i "NotoSansCJK-Bold.ttc" | head -1 | cut -d: -f1)
labels=("知らない番号\nから電話" "自動音声の\n電話" "国際電話を\n止めたい" "SNSで\n誹謗中傷" "使える？\n補償は？" "相談窓口の\n電話番号")
colors=("#1f6f8b" "#2a7f62" "#3d5a80" "#8d5a97" "#b5651d" "#c0392b")
tmp=$(mktemp -d)
for i in 0 1 2 3 4 5; do
  w=833; [ $((i % 3)) -eq 2 ] && w=834
  convert -size "${w}x843" xc:"${colors[$i]}" -font "$FONT" -pointsize 110 -fill white \
    -gravity center -interline-spacing 20 -annotate +0+0 "$(printf "${labels[$i]}")" \
    -bordercolor white -border 6 -resize "${w}x843!" "$tmp/cell$i.png"
done
convert \( "$tmp/cell0.png" "$tmp/cell1.png" "$tmp/cell2.png" +append \) \
  \( "$tmp/cell3.png" "$tmp/cell4.png" "$tmp/cell5.png" +append \) -append \
  -strip -depth 8 -colors 32 PNG8:richmenu.png
rm -r "$tmp"

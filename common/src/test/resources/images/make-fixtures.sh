#!/usr/bin/env bash
# Regenerates the decoder test fixtures. Needs Debian's imagemagick and libimage-exiftool-perl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# CMYK JPEG: left half red, right half blue
convert -size 32x16 xc:red -size 32x16 xc:blue +append -colorspace CMYK -quality 95 cmyk.jpg
# 40x20 landscape, grey, bright 6x6 top-left corner, stored with EXIF orientation 6
convert -size 40x20 xc:gray10 -fill white -draw 'rectangle 0,0 5,5' -quality 95 exif-orientation-6.jpg
exiftool -q -overwrite_original -n -Orientation=6 exif-orientation-6.jpg

#!/usr/bin/env python3
"""Regenerates the photo fixtures of ScaledDecodeTest (run with Debian's /usr/bin/python3: PIL, skimage).
photo-2736x2052-exif6.jpg: skimage's coffee.png (CC0), upscaled bicubic to 2736 x 2052, quality 85,
    4:2:0, EXIF orientation 6 (upright 2052 x 2736: the 1/8 decode, 342 x 257 stored, still covers 256).
photo-1280x960.jpg: skimage's chelsea.png (CC0), upscaled bicubic to 1280 x 960, quality 90, 4:2:0
    (covers 256 at 1/2, not 1/4).
photo-grey-1024x768.jpg: skimage's camera.png (public domain), grey, upscaled to 1024 x 768, quality 90.
"""
import os

import skimage
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(os.path.dirname(skimage.__file__), "data")


def src(name):
    with Image.open(os.path.join(data, name)) as im:
        return im.copy()


coffee = src("coffee.png").convert("RGB").resize((2736, 2052), Image.BICUBIC)
exif = Image.Exif()
exif[0x0112] = 6
coffee.save(os.path.join(here, "photo-2736x2052-exif6.jpg"), "JPEG", quality=85, subsampling=2, exif=exif.tobytes())
src("chelsea.png").convert("RGB").resize((1280, 960), Image.BICUBIC).save(
    os.path.join(here, "photo-1280x960.jpg"), "JPEG", quality=90, subsampling=2)
src("camera.png").convert("L").resize((1024, 768), Image.BICUBIC).save(
    os.path.join(here, "photo-grey-1024x768.jpg"), "JPEG", quality=90)

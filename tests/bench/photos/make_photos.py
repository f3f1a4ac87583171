#!/usr/bin/env python3
"""Seeded photo sets for the decode and pipeline benchmarks, made from the colour photographs that
Debian's python3-skimage ships (skimage.data: astronaut, chelsea, coffee, rocket, motorcycle_left,
motorcycle_right, hubble_deep_field, retina).

Usage: make_photos.py <out> <seed> [--small N] [--large N] [--sources DIR]
  <out>/small/photo-NNNNN.jpg  N (default 2000) JPEGs of 500 x 375: a random 4:3 crop (50-100 % of the
      largest one) of a random source, mirrored half the time, resized with Lanczos, quality 80-95,
      4:2:0 chroma, no EXIF.
  <out>/large/photo-NNNNN.jpg  N (default 200) JPEGs of 4032 x 3024 (a phone's 12 MP): the same kind of
      crop, upscaled (bicubic), with mild seeded sensor-like noise (sigma 3 grey levels) so the files
      are nearer a phone's (~1.9 MB) than the smooth upscale's, quality 90, 4:2:0;
      every 4th carries an EXIF orientation, cycling 6, 3, 8 (stored pixels as the sensor saw them,
      as phones write them).
The same <seed> gives the same files (PIL and numpy versions being equal). Prints one line per set.
Run with Debian's python (/usr/bin/python3): it needs PIL, numpy and skimage; with --sources DIR (a
folder holding the eight files, e.g. copied from skimage's data folder by tests/bench/gpu-ceiling.sh
--stage) it reads them from there instead and needs no skimage.
"""
import argparse
import os
import random

import numpy as np
from PIL import Image

SOURCES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
           "motorcycle_right.png", "hubble_deep_field.jpg", "retina.jpg"]
ORIENTATIONS = [6, 3, 8]


def data_dir():
    import skimage
    return os.path.join(os.path.dirname(skimage.__file__), "data")


def load_sources(d=None):
    d = d or data_dir()
    out = []
    for name in SOURCES:
        with Image.open(os.path.join(d, name)) as im:
            out.append(im.convert("RGB"))
    return out


def crop43(rng, im):
    w, h = im.size
    cw, ch = (w, w * 3 // 4) if w * 3 <= h * 4 else (h * 4 // 3, h)
    s = rng.uniform(0.5, 1.0)
    cw, ch = max(8, int(cw * s)), max(6, int(ch * s))
    x = rng.randint(0, w - cw)
    y = rng.randint(0, h - ch)
    c = im.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        c = c.transpose(Image.FLIP_LEFT_RIGHT)
    return c


def make_small(out, seed, n, sources):
    rng = random.Random(seed * 1_000_003 + 1)
    os.makedirs(out, exist_ok=True)
    total = 0
    for i in range(n):
        im = crop43(rng, rng.choice(sources)).resize((500, 375), Image.LANCZOS)
        path = os.path.join(out, "photo-%05d.jpg" % i)
        im.save(path, "JPEG", quality=rng.randint(80, 95), subsampling=2)
        total += os.path.getsize(path)
    return total


def make_large(out, seed, n, sources):
    rng = random.Random(seed * 1_000_003 + 2)
    noise = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    total = 0
    for i in range(n):
        im = crop43(rng, rng.choice(sources)).resize((4032, 3024), Image.BICUBIC)
        a = np.asarray(im, dtype=np.int16)
        a = a + noise.normal(0, 3, size=a.shape[:2] + (1,)).astype(np.int16)
        im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        kw = {}
        if i % 4 == 3:
            exif = Image.Exif()
            exif[0x0112] = ORIENTATIONS[(i // 4) % len(ORIENTATIONS)]
            kw["exif"] = exif.tobytes()
        path = os.path.join(out, "photo-%05d.jpg" % i)
        im.save(path, "JPEG", quality=90, subsampling=2, **kw)
        total += os.path.getsize(path)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("seed", type=int)
    ap.add_argument("--small", type=int, default=2000, help="500 x 375 photos (0: none)")
    ap.add_argument("--large", type=int, default=200, help="4032 x 3024 photos (0: none)")
    ap.add_argument("--sources", help="folder with the source photographs (default: skimage's data folder)")
    a = ap.parse_args()
    sources = load_sources(a.sources)
    if a.small > 0:
        b = make_small(os.path.join(a.out, "small"), a.seed, a.small, sources)
        print("small: %d JPEGs of 500x375, %.1f MB, in %s" % (a.small, b / 1e6, os.path.join(a.out, "small")))
    if a.large > 0:
        b = make_large(os.path.join(a.out, "large"), a.seed, a.large, sources)
        print("large: %d JPEGs of 4032x3024, %.1f MB, in %s" % (a.large, b / 1e6, os.path.join(a.out, "large")))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PIL side of tests/bench/photo-decode.sh: decode + preprocess every JPEG of a folder on one thread, as a
torchvision user's pipeline does it (bytes read into memory first): EXIF transpose, RGB, shorter side to
<resize> (PIL bilinear, antialiased), centre crop <crop>, to a float32 CHW array scaled 0..1 and
normalised by the ImageNet mean/std.
  full   decodes at full size
  draft  Image.draft("RGB", (resize, resize)) first: libjpeg's DCT-scaled decode at the largest 1/2,
         1/4, 1/8 that keeps both sides >= resize (PIL's rule), then the same steps
Usage: photo_decode_pil.py <dir> <rounds> [resize 256] [crop 224]
Prints per round and mode: "round R pil-full|pil-draft <images/s> <images> <seconds>" (modes alternate).
       photo_decode_pil.py --tensors <dir> <out.f32> full|draft [resize 256] [crop 224]
writes every file's model input (sorted by name; float32, little-endian, N x 3 x crop x crop) for
PhotoDecode.java's agree mode.
"""
import io
import os
import sys
import time

import numpy as np
from PIL import Image, ImageOps

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


def preprocess(b, resize, crop, draft):
    im = Image.open(io.BytesIO(b))
    if draft:
        im.draft("RGB", (resize, resize))
    im = ImageOps.exif_transpose(im).convert("RGB")
    w, h = im.size
    if w <= h:
        nw, nh = resize, int(resize * h / w)
    else:
        nw, nh = int(resize * w / h), resize
    im = im.resize((nw, nh), Image.BILINEAR)
    left = int(round((nw - crop) / 2.0))
    top = int(round((nh - crop) / 2.0))
    im = im.crop((left, top, left + crop, top + crop))
    a = np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return (a - MEAN) / STD


def tensors():
    d, out, mode = sys.argv[2], sys.argv[3], sys.argv[4]
    resize = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    crop = int(sys.argv[6]) if len(sys.argv) > 6 else 224
    with open(out, "wb") as f:
        for name in sorted(os.listdir(d)):
            if name.endswith(".jpg"):
                with open(os.path.join(d, name), "rb") as g:
                    a = preprocess(g.read(), resize, crop, mode == "draft")
                f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def main():
    if sys.argv[1] == "--tensors":
        tensors()
        return
    d = sys.argv[1]
    rounds = int(sys.argv[2])
    resize = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    crop = int(sys.argv[4]) if len(sys.argv) > 4 else 224
    files = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".jpg"):
            with open(os.path.join(d, name), "rb") as f:
                files.append(f.read())
    warm = max(20, len(files) // 20)
    for draft in (False, True):
        for b in files[:warm]:
            preprocess(b, resize, crop, draft)
    for r in range(1, rounds + 1):
        order = [False, True] if r % 2 == 1 else [True, False]
        for draft in order:
            t0 = time.perf_counter()
            for b in files:
                preprocess(b, resize, crop, draft)
            s = time.perf_counter() - t0
            print("round %d %s %.1f %d %.2f" % (r, "pil-draft" if draft else "pil-full", len(files) / s, len(files), s),
                  flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The audit's blur measure on photographs (docs/methods.md#blur), computed independently of the
JVM code: the 4-neighbour Laplacian's variance over the grey values' variance, on the grey image
(mean of the channels, 0-255) averaged down to at most 64 pixels on its long side, each new pixel
the mean of the source area it covers. For each sample photograph of Debian's python3-skimage:
the photograph as it is, blurred by a Gaussian of sigma 2 pixels at the 64-pixel size (applied
before averaging down, scaled up to the photograph's size), and blurred by three passes of a 3 x 3
box after averaging down (the test collection's blur). The audit flags blurry below 0.2.

Usage: /usr/bin/python3 tests/bench/blur_photographs.py   (needs python3-skimage, python3-scipy)
"""
import os

import numpy as np
import skimage
import skimage.io
from scipy import ndimage

SIDE = 64
NAMES = ["astronaut", "brick", "camera", "cell", "chelsea", "clock_motion", "coffee", "coins", "grass", "gravel",
         "horse", "hubble_deep_field", "ihc", "logo", "microaneurysms", "moon", "motorcycle_left", "page", "retina",
         "rocket", "text"]


def grey(path):
    a = skimage.io.imread(path).astype(float)
    if a.ndim == 3:
        a = a[..., :3].mean(axis=2)
    return a * 255 if a.max() <= 1.0 else a


def area_matrix(n, m):
    """m x n matrix whose row i averages the cells of [i*n/m, (i+1)*n/m) by their overlap."""
    step = n / m
    a = np.zeros((m, n))
    for i in range(m):
        lo, hi = i * step, (i + 1) * step
        for j in range(int(np.floor(lo)), min(n, int(np.ceil(hi)))):
            a[i, j] = (min(hi, j + 1) - max(lo, j)) / step
    return a


def averaged_down(g):
    h, w = g.shape
    scale = max(h, w) / SIDE
    if scale <= 1:
        return g
    th, tw = max(1, int(np.floor(h / scale + 0.5))), max(1, int(np.floor(w / scale + 0.5)))  # halves round up, as Java does
    return area_matrix(h, th) @ g @ area_matrix(w, tw).T


def relative(g):
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return lap.var() / g.var() if g.var() > 0 else float("nan")


def box3(g):
    for _ in range(3):
        g = ndimage.uniform_filter(g, 3, mode="nearest")
    return g


def main():
    data = os.path.join(os.path.dirname(skimage.__file__), "data")
    print("%-18s %8s %9s %9s" % ("photograph", "sharp", "gauss2", "box3"))
    for name in NAMES:
        files = [f for f in os.listdir(data) if f.startswith(name + ".")]
        if not files:
            continue
        g = grey(os.path.join(data, files[0]))
        sigma = 2 * max(g.shape) / SIDE if max(g.shape) > SIDE else 2
        print("%-18s %8.4f %9.4f %9.4f" % (name, relative(averaged_down(g)),
                                           relative(averaged_down(ndimage.gaussian_filter(g, sigma))),
                                           relative(box3(averaged_down(g)))))


if __name__ == "__main__":
    main()

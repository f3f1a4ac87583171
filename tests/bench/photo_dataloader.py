#!/usr/bin/env python3
"""The script a PyTorch user would write instead of `cnnlens features`, for tests/bench/photo-features.sh.

Usage: photo_dataloader.py loader <images dir> <model.pt> [workers=2] [threads=2] [batch=64]
       photo_dataloader.py forward <model.pt> [threads=2] [batch=64] [seconds=15]
  loader:  every *.jpg under the folder (sorted) through a DataLoader (<workers> worker processes: PIL
           decode, EXIF orientation applied, RGB, torchvision Resize 256 + CenterCrop 224 + ToTensor +
           ImageNet Normalize) into the TorchScript model (torch.jit.load, eval, no_grad, <threads>
           intra-op threads). Times the whole pass from the first batch asked for to the last output,
           worker start-up included. Prints "loader: N images, S s, R images/s".
  forward: the model alone on random (seeded) batches of <batch>, after 2 warm-up batches, for about
           <seconds>. Prints "forward: N images, S s, R images/s".
Run with Debian's python (/usr/bin/python3): torch, torchvision, PIL.
"""
import os
import sys
import time

import torch
from PIL import Image, ImageOps
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

TRANSFORM = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


class Photos(Dataset):
    def __init__(self, root):
        self.files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(".jpg"))

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as im:
            return TRANSFORM(ImageOps.exif_transpose(im).convert("RGB"))


def load(path, threads):
    torch.set_num_threads(threads)
    m = torch.jit.load(path).eval()
    return m


def loader(root, model, workers=2, threads=2, batch=64):
    m = load(model, threads)
    data = Photos(root)
    n = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for x in DataLoader(data, batch_size=batch, num_workers=workers, shuffle=False):
            out = m(x)
            feats = out["fc7"] if isinstance(out, dict) else out[0]
            n += feats.shape[0]
    s = time.perf_counter() - t0
    print("loader: %d images, %.1f s, %.1f images/s" % (n, s, n / s))


def forward(model, threads=2, batch=64, seconds=15.0):
    m = load(model, threads)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 3, 224, 224, generator=g)
    with torch.no_grad():
        for _ in range(2):
            m(x)
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            m(x)
            n += batch
        s = time.perf_counter() - t0
    print("forward: %d images, %.1f s, %.1f images/s" % (n, s, n / s))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "loader":
        loader(sys.argv[2], sys.argv[3], *[int(a) for a in sys.argv[4:7]])
    elif mode == "forward":
        args = sys.argv[3:]
        forward(sys.argv[2], *[int(a) for a in args[:2]], *[float(a) for a in args[2:3]])
    else:
        sys.exit(__doc__)

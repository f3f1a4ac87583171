#!/usr/bin/env python3
"""What bf16 would do to fc7, measured on the CPU with PyTorch (cnnlens cannot run bf16 yet:
docs/executor-runtime.md, "Mixed precision").

Usage: photo_bf16.py <images dir> <model.pt> [n=500] [threads=2]
The first <n> *.jpg under the folder (sorted), preprocessed as photo_dataloader.py does (PIL, EXIF
orientation, Resize 256, CenterCrop 224, Normalize), through the TorchScript model twice: as saved
(fp32) and converted with .to(torch.bfloat16) on bf16 inputs. Prints the max and median |fc7 diff|
(bf16 outputs read back as fp32), the largest |diff| relative to that image's fc7 max |value|, the
top-1 agreement of the logits, the kNN-10 agreement (mean share of each image's 10 nearest fc7
neighbours, Euclidean, brute force, that both precisions find), and the forward images/s of both.
Run with Debian's python (/usr/bin/python3): torch, torchvision, PIL, numpy.
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from photo_dataloader import Photos  # noqa: E402


def knn(x, k):
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1)[:, :k]


def main(root, model, n=500, threads=2):
    torch.set_num_threads(threads)
    data = Photos(root)
    n = min(n, len(data))
    x = torch.stack([data[i] for i in range(n)])
    outs = {}
    rates = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        m = torch.jit.load(model).eval().to(dtype)
        fc7, logits = [], []
        with torch.no_grad():
            m(x[:8].to(dtype))
            t0 = time.perf_counter()
            for i in range(0, n, 64):
                o = m(x[i:i + 64].to(dtype))
                fc7.append(o["fc7"].float())
                logits.append(o["logits"].float())
            rates[name] = n / (time.perf_counter() - t0)
        outs[name] = (torch.cat(fc7).numpy().astype(np.float64), torch.cat(logits).numpy())
    a, b = outs["fp32"][0], outs["bf16"][0]
    diff = np.abs(a - b)
    scale = np.abs(a).max(axis=1, keepdims=True) + 1e-12
    top1 = (outs["fp32"][1].argmax(1) == outs["bf16"][1].argmax(1)).mean()
    na, nb = knn(a, 10), knn(b, 10)
    agree = np.mean([len(set(na[i]) & set(nb[i])) / 10 for i in range(n)])
    print("bf16 vs fp32 on %d images (torch %s): max |fc7 diff| %.4g, median %.4g, max relative to the image's max |fc7| %.4g, "
          "fc7 max |value| %.4g; top-1 agreement %.4f; kNN-10 agreement %.4f; forward fp32 %.1f images/s, bf16 %.1f images/s"
          % (n, torch.__version__, diff.max(), np.median(diff), (diff / scale).max(), np.abs(a).max(), top1, agree,
             rates["fp32"], rates["bf16"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *[int(v) for v in sys.argv[3:5]])

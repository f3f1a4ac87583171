#!/usr/bin/env python3
"""A small Fashion-MNIST CNN trained in PyTorch and exported as TorchScript the cnnlens way.

A second, independently trained model for cross-checks against PyTorch (saliency maps) and for
transfer experiments: forward returns a dict of named tensors (conv1, conv2, fc7, logits); the
script writes <out>/<name>.pt, <name>.properties, labels.txt and reference/ (input.f32: the first
test images as the model's input, reference.json), like export_torchvision.py.
Usage: train_fashion_torchscript.py --data /usr/share/datasets/fashion-mnist --out DIR [--epochs 2 --seed 1]
"""
import argparse
import gzip
import json
import os
from typing import Dict

import numpy as np
import torch

MEAN, STD = 0.2860, 0.3530
CLASSES = ["tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc7 = torch.nn.Linear(32 * 7 * 7, 64)
        self.fc8 = torch.nn.Linear(64, 10)

    def forward(self, x) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        x = torch.relu(self.conv1(x))
        out["conv1"] = x
        x = torch.max_pool2d(x, 2)
        x = torch.relu(self.conv2(x))
        out["conv2"] = x
        x = torch.max_pool2d(x, 2)
        x = torch.relu(self.fc7(torch.flatten(x, 1)))
        out["fc7"] = x
        out["logits"] = self.fc8(x)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="fashion-small")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reference-images", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)

    def tensor(images):
        return (torch.from_numpy(images.astype(np.float32) / 255.0)[:, None] - MEAN) / STD

    xtr = tensor(idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")))
    ytr = torch.from_numpy(idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = tensor(idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")))
    yte = torch.from_numpy(idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))

    model = SmallCnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(args.epochs):
        perm = torch.randperm(len(xtr))
        model.train()
        for b in range(0, len(xtr), 128):
            i = perm[b:b + 128]
            loss = torch.nn.functional.cross_entropy(model(xtr[i])["logits"], ytr[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte)["logits"].argmax(1) == yte).float().mean().item()
        print("epoch %d: test accuracy %.4f" % (epoch + 1, acc))

    model.eval()
    torch.jit.script(model).save(os.path.join(args.out, args.name + ".pt"))
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    with open(os.path.join(args.out, args.name + ".properties"), "w") as f:
        f.write("\n".join([
            "# a small Fashion-MNIST CNN trained in PyTorch by deploy/models/train_fashion_torchscript.py "
            "(seed %d, %d epochs, test accuracy %.4f)" % (args.seed, args.epochs, acc),
            "name=%s" % args.name,
            "format=torchscript",
            "weights=%s.pt" % args.name,
            "input.channels=1", "input.height=28", "input.width=28", "input.resize=stretch",
            "input.mean=%s" % MEAN, "input.std=%s" % STD,
            "taps.features=fc7", "taps.logits=logits", "taps.conv=conv2", "taps.first-conv=conv1",
            "labels=labels.txt",
            "layers.geometry=conv1 k5 s1 p2, pool1 k2 s2, conv2 k3 s1 p1, pool2 k2 s2",
        ]) + "\n")
    ref = xte[:args.reference_images].contiguous()
    ref.numpy().astype("<f4").tofile(os.path.join(args.out, "reference", "input.f32"))
    json.dump({"arch": args.name, "torch": torch.__version__, "test_accuracy": acc,
               "arrays": {"input": {"file": "input.f32", "shape": list(ref.shape)}}},
              open(os.path.join(args.out, "reference", "reference.json"), "w"), indent=1)


if __name__ == "__main__":
    main()

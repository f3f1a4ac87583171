#!/usr/bin/env python3
"""A user's own TorchScript Fashion-MNIST model that lacks the project's default taps.

Its forward returns only conv3, fc7 and logits (no conv1, conv2, conv5), so the jobs must take
their layers from the taps the model really has, and `run` must skip with a reason what cannot
run. Trained briefly (seeded) so its predictions mean something; written with a spec that names
only the taps it has (taps.conv=conv3; taps.first-conv left at its default, conv1, which the
model does not output). Usage:
  make_three_tap_fashion.py --data /usr/share/datasets/fashion-mnist --out DIR [--steps 300 --seed 1]
The test fixture tests/src/test/resources/models/fashion-three-taps/ was made by this script.
"""
import argparse
import gzip
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


class ThreeTapCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.c3 = torch.nn.Conv2d(16, 16, 3, padding=1)
        self.fc7 = torch.nn.Linear(16 * 7 * 7, 32)
        self.fc8 = torch.nn.Linear(32, 10)

    def forward(self, x) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
        x = torch.relu(self.c3(x))
        out["conv3"] = x
        x = torch.relu(self.fc7(torch.flatten(x, 1)))
        out["fc7"] = x
        out["logits"] = self.fc8(x)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)

    def tensor(images):
        return (torch.from_numpy(images.astype(np.float32) / 255.0)[:, None] - MEAN) / STD

    xtr = tensor(idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")))
    ytr = torch.from_numpy(idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = tensor(idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")))
    yte = torch.from_numpy(idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    model = ThreeTapCnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(args.steps):
        i = torch.randint(0, len(xtr), (128,))
        loss = torch.nn.functional.cross_entropy(model(xtr[i])["logits"], ytr[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xte)["logits"].argmax(1) == yte).float().mean().item()
    print("test accuracy %.4f after %d steps" % (acc, args.steps))
    torch.jit.script(model).save(os.path.join(args.out, "fashion-three-taps.pt"))
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    with open(os.path.join(args.out, "fashion-three-taps.properties"), "w") as f:
        f.write("\n".join([
            "# a user's TorchScript model without the default taps, made by deploy/models/make_three_tap_fashion.py "
            "(seed %d, %d steps, test accuracy %.4f); forward returns conv3, fc7, logits only" % (args.seed, args.steps, acc),
            "name=fashion-three-taps",
            "format=torchscript",
            "weights=fashion-three-taps.pt",
            "input.channels=1", "input.height=28", "input.width=28", "input.resize=stretch",
            "input.mean=%s" % MEAN, "input.std=%s" % STD,
            "taps.features=fc7", "taps.logits=logits", "taps.conv=conv3",
            "labels=labels.txt",
        ]) + "\n")


if __name__ == "__main__":
    main()

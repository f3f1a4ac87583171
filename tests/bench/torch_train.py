#!/usr/bin/python3
"""PyTorch peer of one `tune` trial: the bundled architecture (FashionAlexNet at a width), Adam with
cosine decay, softmax cross-entropy, the same batch size and intra-op threads, on a stratified-size
sample of Fashion-MNIST's training images. Prints training throughput (images/s over the training
steps alone, validation left out) as `torch: ... images/s`.
Usage: torch_train.py DATA_DIR TRAIN_SIZE EPOCHS BATCH THREADS WIDTH LR"""
import gzip, sys, time, math
import numpy as np
import torch
import torch.nn as nn

data, n, epochs, bs, threads, width, lr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
torch.set_num_threads(threads)
torch.manual_seed(42)
with gzip.open(f"{data}/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
with gzip.open(f"{data}/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
rng = np.random.default_rng(1)
idx = rng.permutation(len(y))[:n]
x = (torch.from_numpy(x[idx].astype(np.float32)) / 255 - 0.2860) / 0.3530
y = torch.from_numpy(y[idx])

def s(u):
    return max(4, round(u * width))

def conv(i, o, k, p):
    return [nn.Conv2d(i, o, k, padding=p), nn.ReLU()]

net = nn.Sequential(*conv(1, s(32), 5, 2), nn.MaxPool2d(2), *conv(s(32), s(64), 3, 1), nn.MaxPool2d(2),
                    *conv(s(64), s(96), 3, 1), *conv(s(96), s(96), 3, 1), *conv(s(96), s(64), 3, 1), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(s(64) * 9, s(256)), nn.ReLU(), nn.Dropout(0.3),
                    nn.Linear(s(256), s(128)), nn.ReLU(), nn.Dropout(0.3), nn.Linear(s(128), 10))
opt = torch.optim.Adam(net.parameters(), lr=lr)
steps = epochs * (n // bs)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr / 100)
loss_fn = nn.CrossEntropyLoss()
net.train()
images, t = 0, 0.0
for e in range(epochs):
    perm = torch.randperm(n)
    for b in range(n // bs):
        t0 = time.perf_counter()
        sel = perm[b * bs:(b + 1) * bs]
        opt.zero_grad()
        loss = loss_fn(net(x[sel]), y[sel])
        loss.backward()
        opt.step()
        sched.step()
        lv = loss.item()
        t += time.perf_counter() - t0
        images += bs
print(f"torch: {images} images in {t:.1f} s, {images / t:.0f} images/s (last loss {lv:.3f}, torch {torch.__version__}, threads {threads})")

#!/usr/bin/env python3
"""The GPU ceilings the cnnlens GPU path is held to (issue 14), measured with PyTorch on a GPU machine
(the JVM pipeline itself does not run there). Driven by tests/bench/gpu-ceiling.sh.

Usage: gpu_ceiling.py <photos dir: small/ and large/> <model.pt>... [--seconds S] [--pil-small N]
       [--pil-large N] [--workers W]
Each <model.pt> is a cnnlens TorchScript file (forward(x) -> dict of taps with "fc7"), 3 x 224 x 224
input, ImageNet normalisation.

Prints one line per measurement, "key value" pairs, so the shell script and a reader can grep them:
  forward   model, precision, batch: images/s of the model alone on a batch already on the GPU
            (fp32 = PyTorch's defaults, cuDNN's TF32 convolutions on; fp32-strict = TF32 off; bf16 =
            model and input in bfloat16; bf16-cl = bf16 and channels-last), the peak memory of one batch
  copy      host -> GPU images/s of a float32 3 x 224 x 224 batch, pageable and pinned memory (what the
            JVM's float buffers cost to feed; cnnlens hands DJL a float32 batch)
  bf16-fc7  fp32 vs bf16 fc7 on the GPU, first model, the first 500 small photos: max and median |diff|,
            top-1 and kNN-10 agreement
  decode    per process and in W processes at once, bytes in memory: PIL full decode and PIL draft
            decode, each + EXIF transpose + RGB + Resize 256 + CenterCrop 224 + normalise (as
            photo_decode_pil.py); nvJPEG batched decode on the GPU (torchvision.io.decode_jpeg,
            device='cuda') + resize 256 (antialiased) + crop + normalise on the GPU
  pipeline  the whole pass a PyTorch user would write on a GPU node, first model, fp32: a DataLoader of
            W workers (PIL, photo_dataloader.Photos) into the GPU forward; and nvJPEG: files read on the
            host, decoded and preprocessed on the GPU, forward
"""
import argparse
import io
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from photo_dataloader import Photos  # noqa: E402
from photo_decode_pil import preprocess  # noqa: E402

DEV = os.environ.get("CEILING_DEVICE", "cuda")  # "cpu" for a dry run of the script without a GPU
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
BATCHES = [int(b) for b in os.environ.get("CEILING_BATCHES", "64,256,1024").split(",")]
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def say(kind, **kv):
    print(kind + " " + " ".join("%s=%s" % (k, ("%.4g" % v) if isinstance(v, float) else v) for k, v in kv.items()),
          flush=True)


def sync():
    if DEV != "cpu":
        torch.cuda.synchronize()


def timed(step, seconds, images_per_step):
    """images/s of step() after 3 warm-up calls, for about <seconds>, synchronising every 5 steps."""
    for _ in range(3):
        step()
    sync()
    n = 0
    t0 = time.perf_counter()
    while True:
        step()
        n += 1
        if n % 5 == 0:
            sync()
            s = time.perf_counter() - t0
            if s >= seconds:
                return n * images_per_step / s


def fc7(out):
    return out["fc7"] if isinstance(out, dict) else out[0]


def load(path, precision):
    m = torch.jit.load(path, map_location=DEV).eval()
    if precision.startswith("bf16"):
        m = m.to(torch.bfloat16)
    if precision.endswith("-cl"):
        m = m.to(memory_format=torch.channels_last)
    return m


def forward(models, seconds):
    for path in models:
        name = os.path.splitext(os.path.basename(path))[0]
        for precision in ("fp32", "fp32-strict", "bf16", "bf16-cl"):
            torch.backends.cudnn.allow_tf32 = precision != "fp32-strict"
            torch.backends.cuda.matmul.allow_tf32 = False
            m = load(path, precision)
            dtype = torch.bfloat16 if precision.startswith("bf16") else torch.float32
            for batch in BATCHES:
                x = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(1)).to(DEV, dtype)
                if precision.endswith("-cl"):
                    x = x.contiguous(memory_format=torch.channels_last)
                if DEV != "cpu":
                    torch.cuda.reset_peak_memory_stats()
                with torch.inference_mode():
                    rate = timed(lambda: m(x), seconds, batch)
                say("forward", model=name, precision=precision, batch=batch, images_per_s=rate,
                    peak_mib=torch.cuda.max_memory_allocated() / 2 ** 20 if DEV != "cpu" else 0.0)
                del x
            del m
            torch.cuda.empty_cache()
    torch.backends.cudnn.allow_tf32 = True


def copy(seconds):
    for batch in (64, 256):
        for pinned in (False, True):
            h = torch.randn(batch, 3, 224, 224)
            if pinned and DEV == "cpu":
                continue
            if pinned:
                h = h.pin_memory()
            rate = timed(lambda: h.to(DEV, non_blocking=pinned), seconds, batch)
            say("copy", batch=batch, memory="pinned" if pinned else "pageable", images_per_s=rate,
                gb_per_s=rate * 3 * 224 * 224 * 4 / 1e9)


def read_all(d, limit=None):
    names = sorted(f for f in os.listdir(d) if f.endswith(".jpg"))[:limit]
    out = []
    for f in names:
        with open(os.path.join(d, f), "rb") as g:
            out.append(g.read())
    return out


def knn(x, k):
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    return d.topk(k, largest=False).indices.cpu().numpy()


def bf16_fc7(model, photos):
    files = read_all(os.path.join(photos, "small"), 500)
    x = torch.from_numpy(np.stack([preprocess(b, 256, 224, False) for b in files])).to(DEV)
    outs = {}
    for precision in ("fp32", "bf16"):
        m = load(model, precision)
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        with torch.inference_mode():
            o = [m(x[i:i + 100].to(dtype)) for i in range(0, len(x), 100)]
        outs[precision] = (torch.cat([fc7(t).float() for t in o]), torch.cat([t["logits"].float() for t in o]))
    a, b = outs["fp32"][0].double(), outs["bf16"][0].double()
    diff = (a - b).abs()
    top1 = (outs["fp32"][1].argmax(1) == outs["bf16"][1].argmax(1)).double().mean().item()
    na, nb = knn(a, 10), knn(b, 10)
    agree = float(np.mean([len(set(na[i]) & set(nb[i])) / 10 for i in range(len(na))]))
    say("bf16-fc7", model=os.path.splitext(os.path.basename(model))[0], images=len(files),
        max_abs_diff=diff.max().item(), median_abs_diff=diff.median().item(), fc7_max=a.abs().max().item(),
        top1_agreement=top1, knn10_agreement=agree)


def pil_rate(files, draft):
    t0 = time.perf_counter()
    for b in files:
        preprocess(b, 256, 224, draft)
    return len(files) / (time.perf_counter() - t0)


_FILES = []


def _pil_chunk(args):
    lo, hi, draft = args
    for b in _FILES[lo:hi]:
        preprocess(b, 256, 224, draft)
    return hi - lo


def pil_pool_rate(files, draft, workers):
    global _FILES
    _FILES = files
    chunks = [(i, min(i + 8, len(files)), draft) for i in range(0, len(files), 8)]
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(_pil_chunk, chunks[:workers])  # warm every worker
        t0 = time.perf_counter()
        n = sum(pool.map(_pil_chunk, chunks))
        return n / (time.perf_counter() - t0)


def gpu_preprocess(imgs):
    from torchvision.transforms import functional as F
    out = []
    for im in imgs:
        im = F.resize(im, 256, antialias=True)
        out.append(F.center_crop(im, 224))
    x = torch.stack(out).float().div_(255)
    return (x - MEAN.to(DEV)) / STD.to(DEV)


def decode_jpegs(chunk):
    """torchvision >= 0.19 decodes a list in one batched nvJPEG call; older ones (Debian's, for a dry run) one by one."""
    import torchvision
    from torchvision.io import decode_jpeg
    if tuple(int(p) for p in torchvision.__version__.split(".")[:2]) >= (0, 19):
        return decode_jpeg(chunk, device=DEV)
    return [decode_jpeg(c, device=DEV) for c in chunk]


def nvjpeg_rate(files, batch, seconds, with_preprocess):
    datas = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in files]
    state = {"i": 0}

    def step():
        i = state["i"]
        chunk = [datas[(i + j) % len(datas)] for j in range(batch)]
        state["i"] = (i + batch) % len(datas)
        imgs = decode_jpegs(chunk)
        if with_preprocess:
            gpu_preprocess(imgs)

    return timed(step, seconds, batch)


def decode(photos, seconds, n_small, n_large, workers):
    for name, limit, nv_batch in (("small", n_small, 128), ("large", n_large, 16)):
        d = os.path.join(photos, name)
        files = read_all(d, limit)
        pooled = files * max(1, (workers * 8 * 3) // len(files) + 1) if name == "large" else read_all(d)
        for draft in (False, True):
            pil_rate(files[:4], draft)
            one = pil_rate(files, draft)
            many = pil_pool_rate(pooled, draft, workers)
            say("decode", set=name, decoder="pil-draft" if draft else "pil-full", processes=1, images_per_s=one,
                images=len(files))
            say("decode", set=name, decoder="pil-draft" if draft else "pil-full", processes=workers,
                images_per_s=many, images=len(pooled))
        for pre in (False, True):
            rate = nvjpeg_rate(files, nv_batch, seconds, pre)
            say("decode", set=name, decoder="nvjpeg" + ("+preprocess" if pre else ""), processes=1,
                batch=nv_batch, images_per_s=rate, images=len(files))


def pipeline(model, photos, workers):
    from torch.utils.data import DataLoader
    m = load(model, "fp32")
    for name in ("small", "large"):
        data = Photos(os.path.join(photos, name))
        if name == "large":
            data.files = data.files * max(1, 400 // len(data.files))
        batch = 256 if name == "small" else 64
        n = 0
        t0 = time.perf_counter()
        with torch.inference_mode():
            for x in DataLoader(data, batch_size=batch, num_workers=workers, pin_memory=DEV != "cpu"):
                fc7(m(x.to(DEV, non_blocking=True))).cpu()
                n += x.shape[0]
        s = time.perf_counter() - t0
        say("pipeline", set=name, loader="dataloader-pil", workers=workers, batch=batch, images=n,
            seconds=s, images_per_s=n / s)
        n = 0
        t0 = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, len(data.files), batch):
                chunk = [torch.frombuffer(bytearray(open(f, "rb").read()), dtype=torch.uint8)
                         for f in data.files[i:i + batch]]
                fc7(m(gpu_preprocess(decode_jpegs(chunk)))).cpu()
                n += len(chunk)
        s = time.perf_counter() - t0
        say("pipeline", set=name, loader="nvjpeg", workers=1, batch=batch, images=n, seconds=s, images_per_s=n / s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("photos")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--pil-small", type=int, default=500)
    ap.add_argument("--pil-large", type=int, default=24)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--parts", default="forward,copy,bf16,decode,pipeline")
    a = ap.parse_args()
    parts = a.parts.split(",")
    import torchvision
    say("env", torch=torch.__version__, torchvision=torchvision.__version__, cuda=torch.version.cuda,
        device=torch.cuda.get_device_name(0).replace(" ", "_") if DEV != "cpu" else "cpu",
        cpus=os.cpu_count(), workers=a.workers)
    torch.backends.cudnn.benchmark = True
    for part, run in (("forward", lambda: forward(a.models, a.seconds)),
                      ("copy", lambda: copy(a.seconds)),
                      ("bf16", lambda: bf16_fc7(a.models[0], a.photos)),
                      ("decode", lambda: decode(a.photos, a.seconds, a.pil_small, a.pil_large, a.workers)),
                      ("pipeline", lambda: pipeline(a.models[0], a.photos, a.workers))):
        if part in parts:
            t0 = time.perf_counter()
            try:
                run()
            except Exception as e:  # one part failing must not lose the others' figures
                say("failed", part=part, error=repr(e).replace(" ", "_")[:300])
            say("part", name=part, seconds=time.perf_counter() - t0)


if __name__ == "__main__":
    main()

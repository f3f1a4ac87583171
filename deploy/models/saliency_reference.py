#!/usr/bin/env python3
"""PyTorch's vanilla-gradient and occlusion maps for an exported model's reference inputs.

Reads <model dir>/<arch>.pt and reference/input.f32 (written by export_torchvision.py), adds seeded
noise (so max-pooling meets no ties), and writes reference/saliency.json, the noisy input and one
float32 file per map, so cnnlens's Java methods can be checked
against PyTorch on the same weights and inputs (tests: SaliencyReferenceTest). Definitions as in
cnnlens (common/.../attribution):
  gradient : max over channels of |d logit[target] / d input|, target = the predicted class
  occlusion: (probabilities in float64 from the float32 logits) square `size` filled with 0 (the dataset mean in normalised input) at positions
             0, stride, 2*stride, ... plus one flush with the far edge; pixel value = mean over
             the windows covering it of p(x)[target] - p(occluded)[target]
Usage: saliency_reference.py --model DIR --arch squeezenet1_1 [--size 32 --stride 16]
"""
import argparse
import json
import os

import numpy as np
import torch


def positions(extent, w, stride):
    out = list(range(0, extent - w + 1, stride))
    if out[-1] + w < extent:
        out.append(extent - w)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--stride", type=int, default=16)
    args = ap.parse_args()
    ref = os.path.join(args.model, "reference")
    meta = json.load(open(os.path.join(ref, "reference.json")))
    shape = meta["arrays"]["input"]["shape"]
    x = torch.from_numpy(np.fromfile(os.path.join(ref, "input.f32"), dtype="<f4").reshape(shape))
    # The reference PNGs are 8-bit, so neighbouring pixels are often equal and max-pooling meets
    # exact ties, which PyTorch versions may route to different inputs in the backward pass.
    # A little seeded noise makes every value distinct; the maps are computed on this tensor.
    g = torch.Generator().manual_seed(7)
    x = (x + 0.01 * torch.randn(x.shape, generator=g)).float()
    x.numpy().astype("<f4").tofile(os.path.join(ref, "saliency_input.f32"))
    m = torch.jit.load(os.path.join(args.model, args.arch + ".pt")).eval()
    n, c, h, w = shape

    with torch.no_grad():
        logits = m(x)["logits"]
    targets = logits.argmax(1)

    xg = x.clone().requires_grad_(True)
    out = m(xg)["logits"]
    out.gather(1, targets[:, None]).sum().backward()
    grad = xg.grad.abs().amax(1)  # n, h, w

    ys, xs = positions(h, args.size, args.stride), positions(w, args.size, args.stride)
    occ = torch.zeros(n, h, w, dtype=torch.float64)
    cnt = torch.zeros(n, h, w, dtype=torch.float64)
    with torch.no_grad():
        # probabilities in float64 from the float32 logits: a float32 near 1 resolves only 6e-8
        base = torch.softmax(logits.double(), 1).gather(1, targets[:, None])[:, 0]
        for i in range(n):
            copies = []
            for y0 in ys:
                for x0 in xs:
                    t = x[i].clone()
                    t[:, y0:y0 + args.size, x0:x0 + args.size] = 0
                    copies.append(t)
            p = torch.softmax(m(torch.stack(copies))["logits"].double(), 1)[:, targets[i]]
            k = 0
            for y0 in ys:
                for x0 in xs:
                    occ[i, y0:y0 + args.size, x0:x0 + args.size] += float(base[i] - p[k])
                    cnt[i, y0:y0 + args.size, x0:x0 + args.size] += 1
                    k += 1
    occ = (occ / cnt.clamp(min=1)).float()

    grad.numpy().astype("<f4").tofile(os.path.join(ref, "saliency_gradient.f32"))
    occ.numpy().astype("<f4").tofile(os.path.join(ref, "saliency_occlusion.f32"))
    json.dump({"torch": torch.__version__, "targets": targets.tolist(),
               "occlusion": {"size": args.size, "stride": args.stride, "fill": 0.0},
               "arrays": {"input": {"file": "saliency_input.f32", "shape": [n, c, h, w]},
                          "gradient": {"file": "saliency_gradient.f32", "shape": [n, h, w]},
                          "occlusion": {"file": "saliency_occlusion.f32", "shape": [n, h, w]}}},
              open(os.path.join(ref, "saliency.json"), "w"), indent=1)
    print("targets", targets.tolist(), "max gradient", float(grad.max()), "max occlusion", float(occ.abs().max()))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Export a torchvision CNN as TorchScript whose forward returns a dict of named tensors, with a
cnnlens model spec and PyTorch's own outputs for a few inputs as a reference.

    python3 export_torchvision.py --arch alexnet --out models/alexnet [--weights alexnet.pth]

Writes into --out:
  <arch>.pt            TorchScript; forward(x) -> {"conv1": ..., "conv5": ..., "fc7": ..., "logits": ...}
  <arch>.properties    the cnnlens model spec (conf/models format)
  labels.txt           class names (ImageNet's, from torchvision's metadata: no download)
  reference/           input PNGs at the model's input size, and reference.json + *.f32 arrays:
                       PyTorch's fc7 and logits for them, and the input gradient of the top logit
                       of the first image (for gradient cross-checks)

Nothing is downloaded: without --weights the model keeps torchvision's seeded random
initialisation (enough to cross-check an engine; use --weights with a state_dict you have for a
trained model). Needs torch and torchvision (Debian: python3-torch python3-torchvision).
"""
import argparse
import json
import os
from typing import Dict

import numpy as np
import torch
import torchvision
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class AlexNetTaps(torch.nn.Module):
    """torchvision AlexNet / VGG: taps after each conv block's last ReLU, fc6/fc7 after ReLU, logits."""

    def __init__(self, model, conv_relu_indices):
        super().__init__()
        self.features = model.features
        self.avgpool = model.avgpool
        self.classifier = model.classifier
        self.conv_relu_indices = conv_relu_indices

    def forward(self, x) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        block = 1
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.conv_relu_indices:
                out["conv%d" % block] = x
                block += 1
        x = torch.flatten(self.avgpool(x), 1)
        c = self.classifier  # [Dropout,] Linear, ReLU, Dropout, Linear, ReLU, [Dropout,] Linear
        linears = [m for m in c if isinstance(m, torch.nn.Linear)]
        x = torch.relu(linears[0](x))
        out["fc6"] = x
        x = torch.relu(linears[1](x))
        out["fc7"] = x
        out["logits"] = linears[2](x)
        return out


class ResNetTaps(torch.nn.Module):
    """torchvision ResNet: conv1 (after bn+relu), conv2..conv5 = layer1..layer4, fc7 = pooled features."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, x) -> Dict[str, torch.Tensor]:
        m = self.m
        out: Dict[str, torch.Tensor] = {}
        x = m.relu(m.bn1(m.conv1(x)))
        out["conv1"] = x
        x = m.maxpool(x)
        for name, layer in (("conv2", m.layer1), ("conv3", m.layer2), ("conv4", m.layer3), ("conv5", m.layer4)):
            x = layer(x)
            out[name] = x
        x = torch.flatten(m.avgpool(x), 1)
        out["fc7"] = x
        out["logits"] = m.fc(x)
        return out


class SqueezeNetTaps(torch.nn.Module):
    """torchvision SqueezeNet 1.1: conv1 (first conv, after ReLU), conv5 = last fire module, fc7 = its global average."""

    def __init__(self, model):
        super().__init__()
        self.features = model.features
        self.classifier = model.classifier

    def forward(self, x) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        x = self.features[1](self.features[0](x))
        out["conv1"] = x
        for i in range(2, len(self.features)):
            x = self.features[i](x)
        out["conv5"] = x
        out["fc7"] = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
        out["logits"] = torch.flatten(self.classifier(x), 1)
        return out


def build(arch):
    if arch == "alexnet":
        m = torchvision.models.alexnet(weights=None)
        return m, AlexNetTaps(m, [1, 4, 7, 9, 11]), torchvision.models.AlexNet_Weights.IMAGENET1K_V1
    if arch == "vgg16":
        m = torchvision.models.vgg16(weights=None)
        return m, AlexNetTaps(m, [3, 8, 15, 22, 29]), torchvision.models.VGG16_Weights.IMAGENET1K_V1
    if arch == "resnet50":
        m = torchvision.models.resnet50(weights=None)
        return m, ResNetTaps(m), torchvision.models.ResNet50_Weights.IMAGENET1K_V1
    if arch == "squeezenet1_1":
        m = torchvision.models.squeezenet1_1(weights=None)
        return m, SqueezeNetTaps(m), torchvision.models.SqueezeNet1_1_Weights.IMAGENET1K_V1
    raise SystemExit("unknown --arch " + arch)


def geometry_lines(taps):
    """`layers.geometry` for plain conv/pool stacks (AlexNet, VGG): receptive fields for `patches`.
    A conv whose ReLU is a tap gets the tap's name (conv1..conv5); the other layers get their index."""
    if not isinstance(taps, AlexNetTaps):
        return ["# no layers.geometry: the network branches, so `patches` cannot crop receptive fields"]
    tap_convs = {i - 1: "conv%d" % (n + 1) for n, i in enumerate(taps.conv_relu_indices)}
    parts = []
    for i, layer in enumerate(taps.features):
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
            k, s, p = (layer.kernel_size, layer.stride, layer.padding)
            k, s, p = (v[0] if isinstance(v, tuple) else v for v in (k, s, p))
            kind = "conv" if isinstance(layer, torch.nn.Conv2d) else "pool"
            parts.append("%s k%d s%d p%d" % (tap_convs.get(i, "%s_%d" % (kind, i)), k, s, p))
    return ["layers.geometry=" + ", ".join(parts)]


def reference_images(n, size, seed):
    """Smooth, seeded colour images at the model's input size (so resizing is the identity)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(n):
        img = np.zeros((size, size, 3))
        for c in range(3):
            for _ in range(3):
                fx, fy, ph = rng.uniform(0.5, 6), rng.uniform(0.5, 6), rng.uniform(0, 6.28)
                img[..., c] += np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
        img = (img - img.min()) / (img.max() - img.min()) * 255
        images.append(img.round().astype(np.uint8))
    return images


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=["alexnet", "vgg16", "resnet50", "squeezenet1_1"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", help="a torchvision state_dict (.pth) to load; default: seeded random init")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--references", type=int, default=4)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    model, tapped, meta = build(args.arch)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model.eval()
    tapped.eval()
    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)

    example = torch.zeros(1, 3, args.size, args.size)
    with torch.no_grad():
        scripted = torch.jit.trace(tapped, example, strict=False)
    pt = os.path.join(args.out, args.arch + ".pt")
    scripted.save(pt)

    labels = meta.meta["categories"]
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")

    with open(os.path.join(args.out, args.arch + ".properties"), "w") as f:
        f.write("\n".join([
            "# torchvision %s exported by deploy/models/export_torchvision.py (%s weights)"
            % (args.arch, "given" if args.weights else "seeded random"),
            "name=%s" % args.arch,
            "format=torchscript",
            "weights=%s.pt" % args.arch,
            "input.channels=3",
            "input.height=%d" % args.size,
            "input.width=%d" % args.size,
            "input.resize=center-crop",
            "input.resize.size=%d" % round(args.size * 256 / 224),  # torchvision: Resize(256), CenterCrop(224)
            "input.mean=%s" % ",".join(str(v) for v in MEAN),
            "input.std=%s" % ",".join(str(v) for v in STD),
            "taps.features=fc7",
            "taps.logits=logits",
            "taps.conv=conv5",
            "taps.first-conv=conv1",
            "labels=labels.txt",
        ] + geometry_lines(tapped)) + "\n")

    # reference: PyTorch's outputs for PNG inputs. The PNGs are resize.size square, so the
    # spec's Resize(shorter side) is the identity and CenterCrop an exact crop: cnnlens must
    # reproduce these inputs bit for bit, then the outputs to float precision.
    resize = round(args.size * 256 / 224)
    off = (resize - args.size) // 2
    names, batch = [], []
    for i, img in enumerate(reference_images(args.references, resize, args.seed + 1)):
        name = "ref-%02d.png" % i
        Image.fromarray(img).save(os.path.join(args.out, "reference", name))
        names.append(name)
        crop = img[off:off + args.size, off:off + args.size]
        x = torch.from_numpy(crop.astype(np.float32) / 255).permute(2, 0, 1)
        x = (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
        batch.append(x)
    x = torch.stack(batch)
    with torch.no_grad():
        out = scripted(x)
    arrays = {}

    def save(key, t):
        t = t.detach().contiguous().float()
        t.numpy().astype("<f4").tofile(os.path.join(args.out, "reference", key + ".f32"))
        arrays[key] = {"file": key + ".f32", "shape": list(t.shape)}

    save("input", x)
    save("fc7", out["fc7"])
    save("logits", out["logits"])
    x0 = x[:1].clone().requires_grad_(True)
    logits0 = scripted(x0)["logits"]
    target = int(logits0.argmax(1))
    logits0[0, target].backward()
    save("input_grad", x0.grad)
    with open(os.path.join(args.out, "reference", "reference.json"), "w") as f:
        json.dump({"arch": args.arch, "torch": torch.__version__, "images": names,
                   "grad_target": target, "arrays": arrays}, f, indent=1)
    print("exported %s -> %s (%d reference images, %s)" % (args.arch, pt, len(names), torch.__version__))


if __name__ == "__main__":
    main()

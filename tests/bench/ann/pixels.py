"""Fashion-MNIST's raw 784 pixels (0..255 as float32) as .fvecs, train and test, in file order.
Usage: python3 pixels.py <fashion-mnist dir> <out dir>"""
import gzip, sys
import numpy as np
src, out = sys.argv[1], sys.argv[2]
for split, name in (("train", "train-images-idx3-ubyte.gz"), ("t10k", "t10k-images-idx3-ubyte.gz")):
    with gzip.open(f"{src}/{name}") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype('<f4')
    tag = "train" if split == "train" else "test"
    np.hstack([np.full((len(x), 1), 784, '<i4').view('<f4'), x]).tofile(f"{out}/pixels-{tag}.fvecs")
    print(f"pixels: {len(x)} {tag} vectors")

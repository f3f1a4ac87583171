#!/usr/bin/python3
"""scikit-learn's side of tests/bench/tsne.sh: PCA to 50 dimensions, then Barnes-Hut t-SNE
(perplexity 30, PCA start, learning rate 'auto', 1000 iterations, angle 0.5) of the vectors
TsneVectors.java wrote; prints one line: seconds (PCA + t-SNE), kNN-10 accuracy of the map
(leave-one-out majority vote), trustworthiness (k = 10) against the original vectors, and KL.
Usage: tsne_sklearn.py <prefix> <rows> <dims> [quality sample (default 10000)] [map .f32 to score instead]
"""
import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.neighbors import NearestNeighbors


def knn_accuracy(y, labels, k=10):
    nn = NearestNeighbors(n_neighbors=k + 1).fit(y)
    idx = nn.kneighbors(y, return_distance=False)
    correct = 0
    for i in range(len(y)):
        votes = [labels[j] for j in idx[i] if j != i][:k]
        best, best_count = None, 0
        for v in votes:
            c = votes.count(v)
            if c > best_count:
                best, best_count = v, c
        correct += best == labels[i]
    return correct / len(y)


prefix, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
quality = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
x = np.fromfile(prefix + ".f32", dtype="<f4").reshape(n, d)
labels = open(prefix + ".labels").read().split("\n")[:n]
t0 = time.time()
x50 = PCA(n_components=50, random_state=0).fit_transform(x)
tsne = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", n_iter=1000, angle=0.5,
            method="barnes_hut", random_state=0)
y = tsne.fit_transform(x50)
seconds = time.time() - t0
sample = np.random.default_rng(1).permutation(n)[:quality] if quality < n else np.arange(n)
lab = [labels[i] for i in sample]
print(f"sklearn: seconds {seconds:.1f} knn10 {knn_accuracy(y[sample], lab):.4f} "
      f"trust10 {trustworthiness(x[sample], y[sample], n_neighbors=10):.4f} kl {tsne.kl_divergence_:.4f}")

#!/usr/bin/python3
"""Regenerates the scikit-learn reference numbers that BarnesHutTsneTest compares against.

Writes common/src/test/resources/io/cnnlens/embedding/tsne-sklearn.txt.gz (found from this
script's own folder): seeded clustered points, scikit-learn's joint affinities P for the first
300 of them (perplexity 10, its own kNN), and the quality of scikit-learn's Barnes-Hut t-SNE
of all of them (perplexity 30, PCA start, learning rate 'auto'). Needs Debian python3-sklearn.
Usage: tests/reference/tsne_sklearn.py
"""
import gzip
import os

import numpy as np
import sklearn
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities_nn
from sklearn.neighbors import NearestNeighbors

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "..", "common", "src", "test", "resources", "io", "cnnlens", "embedding",
                   "tsne-sklearn.txt.gz")

rng = np.random.default_rng(11)
n, d, classes = 1000, 10, 6
centres = rng.normal(0, 4, size=(classes, d))
labels = rng.integers(0, classes, size=n)
scales = np.array([0.6, 0.8, 1.0, 1.2, 1.5, 2.0])
x = (centres[labels] + rng.normal(0, 1, size=(n, d)) * scales[labels][:, None]).astype(np.float32)


def knn_accuracy(y, labels, k=10):
    """Leave-one-out majority vote of the k nearest (ties: the nearest tied label), as MapQuality."""
    d2 = ((y[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    correct = 0
    for i in range(len(y)):
        nn = np.lexsort((np.arange(len(y)), d2[i]))[:k]
        votes = list(labels[nn])
        best, best_count = -1, 0
        for v in votes:
            c = votes.count(v)
            if c > best_count:
                best, best_count = v, c
        correct += best == labels[i]
    return correct / len(y)


# P for the first 300 points, perplexity 10, k = 3·perplexity + 1 neighbours (scikit-learn's choice)
m, perplexity_p = 300, 10.0
k = int(3 * perplexity_p + 1)
nn = NearestNeighbors(n_neighbors=k, metric="euclidean").fit(x[:m])
dist = nn.kneighbors_graph(mode="distance")
dist.data **= 2
p = _joint_probabilities_nn(dist, perplexity_p, 0).tocoo()

tsne = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto", method="barnes_hut", angle=0.5,
            random_state=0)
y = tsne.fit_transform(x)

with gzip.open(out, "wt") as f:
    f.write(f"# scikit-learn {sklearn.__version__}; regenerate with tests/reference/tsne_sklearn.py\n")
    f.write(f"points {n} {d}\n")
    for i in range(n):
        f.write(f"{labels[i]} " + " ".join(f"{v:.7g}" for v in x[i]) + "\n")
    entries = [(i, j, v) for i, j, v in zip(p.row, p.col, p.data) if i < j]
    f.write(f"p {m} {perplexity_p} {k} {len(entries)}\n")
    for i, j, v in entries:
        f.write(f"{i} {j} {v:.8g}\n")
    f.write(f"tsne 30 kl {tsne.kl_divergence_:.6f} knn10 {knn_accuracy(y, labels):.6f} "
            f"trust10 {trustworthiness(x, y, n_neighbors=10):.6f}\n")
print("wrote", os.path.normpath(out))

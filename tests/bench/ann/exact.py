"""Exact top-k (L2) of each query among the base vectors, by numpy matrix products; writes .ivecs.
Usage: python3 exact.py base.fvecs queries.fvecs out.ivecs [k]"""
import sys
import numpy as np

def fvecs(path):
    a = np.fromfile(path, dtype='<i4')
    d = a[0]
    return a.reshape(-1, d + 1)[:, 1:].copy().view('<f4')

base, queries, out = fvecs(sys.argv[1]), fvecs(sys.argv[2]), sys.argv[3]
k = int(sys.argv[4]) if len(sys.argv) > 4 else 100
bn = (base.astype(np.float64) ** 2).sum(1)
rows = []
for s in range(0, len(queries), 1000):
    q = queries[s:s + 1000].astype(np.float64)
    d = bn[None, :] - 2 * q @ base.T.astype(np.float64)
    idx = np.argpartition(d, k, axis=1)[:, :k]
    part = np.take_along_axis(d, idx, 1)
    order = np.argsort(part, axis=1, kind='stable')
    rows.append(np.take_along_axis(idx, order, 1))
top = np.vstack(rows).astype('<i4')
np.hstack([np.full((len(top), 1), k, '<i4'), top]).tofile(out)
print(f"exact: {len(queries)} queries x {len(base)} base, top {k} -> {out}")

"""hnswlib and FAISS HNSW on the same vectors as cnnlens's index: build time (threads as given),
then single-thread queries/s and recall@10 at each ef. Prints TSV rows: lib, ef, recall, qps, load.
Usage: python3 anchors.py base.fvecs queries.fvecs gt.ivecs M efC threads nq ef1,ef2,..."""
import os, sys, time
import numpy as np
import hnswlib
import faiss

def fvecs(p):
    a = np.fromfile(p, dtype='<i4'); d = a[0]
    return a.reshape(-1, d + 1)[:, 1:].copy().view('<f4')

def ivecs(p):
    a = np.fromfile(p, dtype='<i4'); d = a[0]
    return a.reshape(-1, d + 1)[:, 1:]

base, queries, gt = fvecs(sys.argv[1]), fvecs(sys.argv[2]), ivecs(sys.argv[3])
M, efc, threads, nq = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
efs = [int(x) for x in sys.argv[8].split(',')]
queries = queries[:nq]
load = lambda: os.getloadavg()[0]

def recall(got, i):
    return len(set(got[:10]) & set(gt[i, :10].tolist())) / 10.0

t = time.time()
h = hnswlib.Index(space='l2', dim=base.shape[1])
h.init_index(max_elements=len(base), ef_construction=efc, M=M, random_seed=42)
h.add_items(base, np.arange(len(base)), num_threads=threads)
print(f"build\thnswlib\t{time.time() - t:.1f}\t{threads} threads\tload {load():.2f}", flush=True)
faiss.omp_set_num_threads(threads)
t = time.time()
f = faiss.IndexHNSWFlat(base.shape[1], M)
f.hnsw.efConstruction = efc
f.add(base)
print(f"build\tfaiss\t{time.time() - t:.1f}\t{threads} threads\tload {load():.2f}", flush=True)
faiss.omp_set_num_threads(1)
h.set_num_threads(1)
for ef in efs:
    h.set_ef(ef)
    f.hnsw.efSearch = ef
    for lib in ("hnswlib", "faiss"):
        times = []
        for rep in range(4):  # rep 0 warms up; the median of the other three is reported, as IndexBench does
            got = []
            t = time.time()  # only the searches are timed; recall is counted after
            for i in range(len(queries)):
                q = queries[i:i + 1]
                if lib == "hnswlib":
                    got.append(h.knn_query(q, k=10)[0][0])
                else:
                    got.append(f.search(q, 10)[1][0])
            if rep > 0:
                times.append(time.time() - t)
            r = sum(recall(g.tolist(), i) for i, g in enumerate(got))
        dt = sorted(times)[1]
        print(f"{lib}\t{ef}\t{r / len(queries):.4f}\t{len(queries) / dt:.0f}\t{load():.2f}", flush=True)

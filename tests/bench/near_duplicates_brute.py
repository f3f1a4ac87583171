"""Every near-duplicate pair of an audit run, by brute force, against the audit's own table.

The audit finds near-duplicates from top-k candidate lists (docs/methods.md#near-duplicates): a
pair of contents counts when their fc7 cosine is at least --near-duplicate-cosine and their 16x16
thumbnails correlate at --near-duplicate-pixels or more. This script applies that definition to
every pair of distinct contents (NumPy, blocked products; no lists, no index) and compares:
recall and precision of the audit's pairs against the definition, pairs and leakage pairs (by
path, the split folders as the audit reads them), and for each missed pair how crowded its two
contents are (how many other contents pass the pixel threshold with each).

Inputs are the run's own columns (the quality table's thumbnails, the features table's fc7), so
what is checked is the search and confirmation, not the measures. Tables are read with DuckDB
(tests/duckdb, `npm ci` there first); the features table's live files come from its Delta log.

usage: /usr/bin/python3 tests/bench/near_duplicates_brute.py <out>/audit/<run> <out>/features [cosine] [pixels] [k]
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
QUERY = os.path.join(HERE, "..", "duckdb", "query.mjs")
SPLITS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def query(sql):
    out = subprocess.run(["node", QUERY, sql], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line]


def live_files(table):
    """The parquet files of a Delta table's latest version (adds minus removes, in log order)."""
    log = os.path.join(table, "_delta_log")
    files = set()
    for name in sorted(f for f in os.listdir(log) if f.endswith(".json")):
        with open(os.path.join(log, name)) as f:
            for line in f:
                action = json.loads(line)
                if "add" in action:
                    files.add(action["add"]["path"])
                elif "remove" in action:
                    files.discard(action["remove"]["path"])
    return [os.path.join(table, p) for p in sorted(files)]


def split_of(path):
    """The nearest split folder on the path (the audit's rule), or None."""
    for part in reversed(path.split("/")[:-1]):
        if part.lower() in SPLITS:
            return SPLITS[part.lower()]
    return None


def main():
    run, features = sys.argv[1], sys.argv[2]
    cosine = float(sys.argv[3]) if len(sys.argv) > 3 else 0.85
    pixels = float(sys.argv[4]) if len(sys.argv) > 4 else 0.985
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    t0 = time.time()
    quality = query(f"SELECT path, image_id, thumbnail FROM '{run}/quality/*.parquet'")
    files = ", ".join(f"'{p}'" for p in live_files(features))
    fc7_rows = query(f"SELECT DISTINCT ON (image_id) image_id, fc7 FROM read_parquet([{files}]) WHERE fc7 IS NOT NULL")
    table = query(f"SELECT path_a, path_b, leakage FROM '{run}/near_duplicates/*.parquet'")
    print(f"read {len(quality)} images, {len(fc7_rows)} fc7 contents, {len(table)} audit pairs in {time.time() - t0:.1f} s")

    fc7 = {r["image_id"]: np.asarray(r["fc7"], dtype=np.float64) for r in fc7_rows}
    thumbs = {}
    for r in quality:
        if r["thumbnail"] is not None and r["image_id"] in fc7:
            thumbs.setdefault(r["image_id"], np.asarray(r["thumbnail"], dtype=np.float64))
    ids = sorted(thumbs)
    t = np.stack([thumbs[i] for i in ids])
    t -= t.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(t, axis=1)
    keep = norms > 1e-9                       # flat thumbnails correlate with nothing
    ids = [i for i, kp in zip(ids, keep) if kp]
    t = (t[keep] / norms[keep, None]).astype(np.float32)
    f = np.stack([fc7[i] for i in ids])
    f = (f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    n = len(ids)

    # every pair of distinct contents: correlation at the pixel threshold, then the fc7 cosine
    t1 = time.time()
    passing = []                              # (i, j, correlation, cosine), i < j
    crowd = np.zeros(n, dtype=np.int64)       # other contents at the pixel threshold, per content
    block = 1024
    for s in range(0, n, block):
        c = t[s:s + block] @ t.T
        rows, cols = np.nonzero(c >= pixels - 1e-4)  # a margin for float rounding, resolved in float64 below
        for a, b in zip(rows + s, cols):
            if a == b:
                continue
            corr = float(np.dot(t[a].astype(np.float64), t[b].astype(np.float64)))
            if corr < pixels:
                continue
            crowd[a] += 1
            if a < b:
                passing.append((a, b, corr, float(np.dot(f[a].astype(np.float64), f[b].astype(np.float64)))))
    truth = {(ids[a], ids[b]) for a, b, corr, cos in passing if cos >= cosine}
    near_cos = sum(1 for a, b, corr, cos in passing if abs(cos - cosine) < 1e-4)
    print(f"brute force: {n} contents, {len(passing)} pairs at pixels >= {pixels}, {len(truth)} of them at cosine >= {cosine} "
          f"({near_cos} within 1e-4 of the cosine threshold) in {time.time() - t1:.1f} s")

    # the audit's pairs by content (pairs of one content at two paths are exact duplicates, not compared here)
    id_of = {r["path"]: r["image_id"] for r in quality}
    found = set()
    for r in table:
        a, b = id_of.get(r["path_a"]), id_of.get(r["path_b"])
        if a is not None and b is not None and a != b:
            found.add((min(a, b), max(a, b)))
    both = truth & found
    missed = truth - found
    extra = found - truth
    print(f"content pairs: truth {len(truth)}, audit {len(found)}, both {len(both)}; "
          f"recall {len(both) / max(1, len(truth)):.4f}, precision {len(both) / max(1, len(found)):.4f}")
    index = {c: i for i, c in enumerate(ids)}
    crowded_both = sum(1 for a, b in missed if crowd[index[a]] >= k and crowd[index[b]] >= k)
    print(f"missed {len(missed)}: both contents crowded (>= {k} others at the pixel threshold) in {crowded_both}; "
          f"extra {len(extra)}")
    if missed:
        least = sorted((min(crowd[index[a]], crowd[index[b]]) for a, b in missed))
        print(f"missed pairs' smaller crowd: min {least[0]}, median {least[len(least) // 2]}, max {least[-1]}")

    # by path, with the leakage flag: every path pair of a true content pair, plus exact copies
    paths = {}
    for r in quality:
        paths.setdefault(r["image_id"], []).append(r["path"])
    leak_truth = 0
    for a, b in truth:
        for pa in paths[a]:
            for pb in paths[b]:
                sa, sb = split_of(pa), split_of(pb)
                leak_truth += sa is not None and sb is not None and sa != sb
    leak_audit = 0
    leak_both = 0
    for r in table:
        a, b = id_of.get(r["path_a"]), id_of.get(r["path_b"])
        if r["leakage"] and a != b:
            leak_audit += 1
            leak_both += (min(a, b), max(a, b)) in truth
    print(f"leakage path pairs of distinct contents: truth {leak_truth}, audit {leak_audit}, both {leak_both}; "
          f"recall {leak_both / max(1, leak_truth):.4f}")
    # per image rather than per pair: what a user acts on
    in_truth = {c for pair in truth for c in pair}
    in_found = {c for pair in found for c in pair}
    print(f"contents with a near-duplicate: truth {len(in_truth)}, audit {len(in_found & in_truth)}; "
          f"recall {len(in_found & in_truth) / max(1, len(in_truth)):.4f}")
    leak_paths_truth = set()
    for a, b in truth:
        for pa in paths[a]:
            for pb in paths[b]:
                sa, sb = split_of(pa), split_of(pb)
                if sa is not None and sb is not None and sa != sb:
                    leak_paths_truth.update((pa, pb))
    leak_paths_found = {p for r in table if r["leakage"] and id_of.get(r["path_a"]) != id_of.get(r["path_b"])
                        for p in (r["path_a"], r["path_b"])}
    print(f"paths in a leakage pair: truth {len(leak_paths_truth)}, audit {len(leak_paths_found & leak_paths_truth)}; "
          f"recall {len(leak_paths_found & leak_paths_truth) / max(1, len(leak_paths_truth)):.4f}")
    # groups: connected components of the pairs; the audit's pairs give the same groups when they span each one
    def groups(pairs):
        parent = {}
        def find(x):
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x
        for a, b in pairs:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
        out = {}
        for x in parent:
            out.setdefault(find(x), set()).add(x)
        return {frozenset(g) for g in out.values()}
    gt, gf = groups(truth), groups(found)
    print(f"groups (connected components): truth {len(gt)}, audit {len(gf)}, identical {len(gt & gf)}; "
          f"largest truth group {max(map(len, gt), default=0)}")
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()

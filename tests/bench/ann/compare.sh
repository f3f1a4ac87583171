#!/usr/bin/env bash
# cnnlens's index beside hnswlib and FAISS HNSW: same vectors, same M / efConstruction / ef, one
# script, the sides alternated per data set; build time, then single-thread recall@10 and
# queries/s at each ef, and queries/s at recall 0.90 / 0.95 / 0.99 (interpolated) with the ratio
# cnnlens / hnswlib.
# Usage: tests/bench/ann/compare.sh <data dir> [M] [efC] [build threads] [queries] [efs]
#   <data dir> holds fc7-{train,test}.fvecs + fc7-gt.ivecs and pixels-{train,test}.fvecs + pixels-gt.ivecs:
#   DumpVectors.java (fc7 from a features table), pixels.py (raw 784 pixels), exact.py (ground truth).
# Needs: python3-hnswlib python3-faiss (Debian), the project built (mvn package).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../../.." && pwd)"
dir="$1"; m="${2:-16}"; efc="${3:-200}"; threads="${4:-2}"; nq="${5:-10000}"; efs="${6:-10,16,24,32,48,64,96,128,192,256}"
cp="$(ls "$home"/common/target/cnnlens-common-*.jar | grep -v tests | head -n1):$(cat "$home/jobs/target/local-classpath.txt")"
out="$(mktemp)"
for set in fc7 pixels; do
  echo "== $set: $(uptime)"
  java -Xmx6g -cp "$cp" "$here/IndexBench.java" build "$dir/$set-train.fvecs" "$dir/$set-test.fvecs" "$dir/$set-gt.ivecs" \
    "$m" "$efc" "$threads" "$nq" "$efs" 2>/dev/null | sed "s/^/$set\t/" | tee -a "$out"
  "${PYTHON:-/usr/bin/python3}" "$here/anchors.py" "$dir/$set-train.fvecs" "$dir/$set-test.fvecs" "$dir/$set-gt.ivecs" "$m" "$efc" "$threads" "$nq" "$efs" \
    | sed "s/^/$set\t/" | tee -a "$out"
done
python3 - "$out" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 5 and f[1] in ("cnnlens", "hnswlib", "faiss") and f[2].isdigit():
        rows[(f[0], f[1])].append((float(f[3]), float(f[4])))
def qps_at(pts, target):
    pts = sorted(pts)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return q0 + (q1 - q0) * ((target - r0) / (r1 - r0) if r1 > r0 else 0)
    return pts[0][1] if pts and pts[0][0] >= target else float("nan")
print("set\trecall\tcnnlens_qps\thnswlib_qps\tfaiss_qps\tcnnlens/hnswlib")
for s in ("fc7", "pixels"):
    for t in (0.90, 0.95, 0.99):
        c, h, f = (qps_at(rows[(s, l)], t) for l in ("cnnlens", "hnswlib", "faiss"))
        print(f"{s}\t{t:.2f}\t{c:.0f}\t{h:.0f}\t{f:.0f}\t{c / h:.2f}")
PY
rm -f "$out"

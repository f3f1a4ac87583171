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
rounds="${ROUNDS:-2}"
# KERNELS: the index's distance kernels to run, alternated per round (docs/index.md#distance-kernels);
# "panama" rows are labelled cnnlens (the default), the others cnnlens-<kernel>; the panama run also
# searches the same graph file with JVector's own searcher and scores (rows labelled jvector)
kernels="${KERNELS:-panama scalar}"
for set in ${SETS:-fc7 pixels}; do
  for round in $(seq 1 "$rounds"); do
    for k in $kernels; do
      label=cnnlens; [ "$k" = panama ] || label="cnnlens-$k"
      echo "== $set round $round $label: $(uptime)"
      jv=false; [ "$k" = panama ] && jv=true  # JVector's own searcher on the same graph, once per round
      java -Xmx6g --add-modules=jdk.incubator.vector -Dcnnlens.vector="$k" -Dbench.jvector="$jv" -cp "$cp" "$here/IndexBench.java" build \
        "$dir/$set-train.fvecs" "$dir/$set-test.fvecs" "$dir/$set-gt.ivecs" "$m" "$efc" "$threads" "$nq" "$efs" 2>/dev/null \
        | sed -e "s/^cnnlens\b/$label/" -e "s/^build\tcnnlens\b/build\t$label/" -e "s/^/$set\t$round\t/" | tee -a "$out"
    done
    echo "== $set round $round anchors: $(uptime)"
    "${PYTHON:-/usr/bin/python3}" "$here/anchors.py" "$dir/$set-train.fvecs" "$dir/$set-test.fvecs" "$dir/$set-gt.ivecs" "$m" "$efc" "$threads" "$nq" "$efs" \
      | sed "s/^/$set\t$round\t/" | tee -a "$out"
  done
done
"${PYTHON:-/usr/bin/python3}" - "$out" <<'PY'
import sys, collections, statistics
rows = collections.defaultdict(list)   # (set, lib, round) -> [(recall, qps)]
builds = collections.defaultdict(list)  # (set, lib) -> [seconds]
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 6 and f[2] == "build":
        builds[(f[0], f[3])].append(float(f[4]))
    elif len(f) >= 6 and f[2].startswith(("cnnlens", "jvector", "hnswlib", "faiss")) and f[3].isdigit():
        rows[(f[0], f[2], f[1])].append((float(f[4]), float(f[5])))
def qps_at(pts, target):
    pts = sorted(pts)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return q0 + (q1 - q0) * ((target - r0) / (r1 - r0) if r1 > r0 else 0)
    return pts[0][1] if pts and pts[0][0] >= target else float("nan")
libs = sorted({k[1] for k in rows}, key=lambda l: (l != "cnnlens", l))
others = [l for l in libs if l != "cnnlens"]
print("# queries/s at each recall@10: per round (interpolated between ef settings), then the median over rounds")
print("set\trecall\t" + "\t".join(libs) + "".join(f"\tcnnlens/{l}" for l in others))
for s in sorted({k[0] for k in rows}):
    for t in (0.90, 0.95, 0.99):
        med = {}
        for l in libs:
            per = [qps_at(rows[k], t) for k in rows if k[0] == s and k[1] == l]
            med[l] = statistics.median(per) if per else float("nan")
        print(f"{s}\t{t:.2f}\t" + "\t".join(f"{med[l]:.0f}" for l in libs) + "".join(f"\t{med['cnnlens'] / med[l]:.2f}" for l in others))
print("# build seconds (median over rounds)")
for (s, l), v in sorted(builds.items()):
    print(f"{s}\tbuild\t{l}\t{statistics.median(v):.1f}\t({len(v)} runs)")
PY
rm -f "$out"

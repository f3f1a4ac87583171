#!/usr/bin/env bash
# The index at scale: grows a features table to N rows (its rows, then copies with seeded Gaussian
# noise of NOISE x each coordinate's standard deviation: tests/bench/TsneNoisyCopies.java), builds
# the index over it with `cnnlens index` on local Spark (timed), then ScaleBench.java: recall@10
# of the first Q query vectors against brute force over every stored vector, queries/s, the
# opened index's heap and bytes per vector on disk; last, `cnnlens serve` over the index and its
# resident memory after /health and 200 queries.
# Usage: tests/bench/ann/scale.sh <features out> <queries.fvecs> <work dir> [rows=1000000] [noise=0.25] [shard rows=500000] [queries=1000]
# Needs the project built (mvn -B -q install -DskipTests). Writes only under <work dir>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../../.." && pwd)"
features="$1"; queries="$2"; work="$3"; rows="${4:-1000000}"; noise="${5:-0.25}"; shard="${6:-500000}"; nq="${7:-1000}"
jar="$(ls "$home"/jobs/target/cnnlens-jobs-*-job.jar | head -n1)"
cp="$jar:$(cat "$home/jobs/target/local-classpath.txt")"
mkdir -p "$work"
uptime
if [ ! -d "$work/table/features" ]; then
  java -Xmx8g -cp "$cp" "$home/tests/bench/TsneNoisyCopies.java" "$features" fc7 "$rows" "$noise" "$work/table" 2>/dev/null
fi
rm -rf "$work/out"
start=$(date +%s.%N)
"$home/bin/cnnlens" index --features "$work/table/features" --out "$work/out" --master 'local[2]' --shard-rows "$shard" 2>&1 | grep -E '^index:' | tail -n 3
echo "index build wall: $(echo "$(date +%s.%N) - $start" | bc) s (JVM and Spark start included)"
uptime
java -Xmx8g --add-modules=jdk.incubator.vector -cp "$cp" "$here/ScaleBench.java" "$work/out/index" "$queries" "$nq" "${EFS:-16,32,64,128}" 2>/dev/null
port=18081
log="$work/serve.log"
"$home/bin/cnnlens" serve --index "$work/out/index" --port "$port" --threads 2 --master 'local[1]' >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for i in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 1; done
curl -s "http://127.0.0.1:$port/health"; echo
"${PYTHON:-/usr/bin/python3}" - "$queries" "$port" <<'PY'
import json, sys, urllib.request
import numpy as np
a = np.fromfile(sys.argv[1], dtype='<i4'); d = a[0]
q = a.reshape(-1, d + 1)[:, 1:].copy().view('<f4')
for i in range(200):
    body = json.dumps({"vector": q[i].tolist()}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[2]}/search", data=body, headers={"Content-Type": "application/json"})
    json.load(urllib.request.urlopen(req))
print("serve: 200 vector queries answered")
PY
grep -m1 -E 'VmRSS' "/proc/$pid/status" | awk '{printf "serve resident memory: %.0f MiB\n", $2/1024}'

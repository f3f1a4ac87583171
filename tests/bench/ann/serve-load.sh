#!/usr/bin/env bash
# serve under load on loopback: starts bin/cnnlens serve over an index, runs ServeLoad.java by
# vector and by image (8 clients x 2,000 queries, 100 malformed requests mixed in), stops it.
# Usage: tests/bench/ann/serve-load.sh <index dir> <queries.fvecs> <folder of query PNGs> [clients] [per client] [malformed]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../../.." && pwd)"
index="$1"; vectors="$2"; images="$3"; clients="${4:-8}"; per="${5:-2000}"; bad="${6:-100}"
port=18080
log="$(mktemp)"
"$home/bin/cnnlens" serve --index "$index" --port "$port" --threads 8 --master 'local[1]' >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for i in $(seq 1 180); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 1
done
curl -s "http://127.0.0.1:$port/health"; echo
uptime
java -cp "$here" "$here/ServeLoad.java" "http://127.0.0.1:$port" vector "$vectors" "$clients" "$per" "$bad"
java -cp "$here" "$here/ServeLoad.java" "http://127.0.0.1:$port" image "$images" "$clients" "$per" "$bad"
echo "request log lines: $(grep -c 'IndexServer' "$log")"; grep 'IndexServer' "$log" | tail -n 3
ps -o rss= -p "$pid" | awk '{printf "serve resident memory: %.0f MiB\n", $1/1024}'

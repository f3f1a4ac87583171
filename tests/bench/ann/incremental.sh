#!/usr/bin/env bash
# Incremental index: a copy of a built index (e.g. 60,000 train fc7), --mode add of another
# features table (e.g. the 10,000 test images), --mode delete of 1,000 ids; prints each step's
# time beside the build's, the manifest counts, and recall@10 of the result (IndexBench open).
# Usage: tests/bench/ann/incremental.sh <built index dir> <features out to add> <work dir> [delete N]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../../.." && pwd)"
src="$1"; add="$2"; work="$3"; n="${4:-1000}"
cp="$(ls "$home"/common/target/cnnlens-common-*.jar | grep -v tests | head -n1):$(cat "$home/jobs/target/local-classpath.txt")"
rm -rf "$work"; mkdir -p "$work"; cp -r "$src" "$work/index"
uptime
"$home/bin/cnnlens" index --mode add --features "$add" --out "$work" --master 'local[2]' --build-threads 2 2>&1 | grep -E '^index:'
java -cp "$cp" "$here/ListIds.java" "$work/index" "$n" 2>/dev/null > "$work/delete.txt"
"$home/bin/cnnlens" index --mode delete --ids-file "$work/delete.txt" --out "$work" --master 'local[1]' 2>&1 | grep -E '^index:'
uptime

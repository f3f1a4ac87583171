#!/usr/bin/env bash
# Incremental index: a copy of a built index (e.g. 60,000 train fc7), --mode add of another
# features table (e.g. the 10,000 test images), --mode delete of N ids; prints each step's
# time beside the build's and the manifest counts. Then a fresh build of the same live set (the
# tables' union less the deleted ids: FreshTable.java) and ScaleBench.java over both: recall@10 of
# each against brute force over the live vectors, and the share of top-10 lists they have in common.
# Usage: tests/bench/ann/incremental.sh <built index dir> <features out it was built from> <features out to add> <work dir> <queries.fvecs> [delete N] [queries]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../../.." && pwd)"
src="$1"; base="$2"; add="$3"; work="$4"; queries="$5"; n="${6:-1000}"; nq="${7:-10000}"
jar="$(ls "$home"/jobs/target/cnnlens-jobs-*-job.jar | head -n1)"
cp="$jar:$(cat "$home/jobs/target/local-classpath.txt")"
rm -rf "$work"; mkdir -p "$work"; cp -r "$src" "$work/index"
uptime
"$home/bin/cnnlens" index --mode add --features "$add" --out "$work" --master 'local[2]' --build-threads 2 2>&1 | grep -E '^index:' | tail -n 2
java -cp "$cp" "$here/ListIds.java" "$work/index" "$n" 2>/dev/null > "$work/delete.txt"
start=$(date +%s.%N)
"$home/bin/cnnlens" index --mode delete --ids-file "$work/delete.txt" --out "$work" --master 'local[1]' 2>&1 | grep -E '^index:' | tail -n 2
echo "delete wall: $(echo "$(date +%s.%N) - $start" | bc) s (JVM start included)"
java -cp "$cp" "$here/FreshTable.java" "$work/fresh-table" "$work/delete.txt" "$base" "$add" 2>/dev/null
"$home/bin/cnnlens" index --features "$work/fresh-table/features" --out "$work/fresh" --master 'local[2]' --build-threads 2 --partitions 1 2>&1 | grep -E '^index:' | tail -n 2
uptime
java -Xmx8g --add-modules=jdk.incubator.vector -cp "$cp" "$here/ScaleBench.java" "$work/index" "$queries" "$nq" "${EFS:-10,16,32,64}" "$work/fresh/index" 2>/dev/null

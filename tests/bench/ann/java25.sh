#!/usr/bin/env bash
# The same index searched on Java 17 (the project's) and on Java 25 with JVector's SIMD paths
# (jdk.incubator.vector), rounds alternated in one script: is a newer JDK worth it?
# Usage: tests/bench/ann/java25.sh <index dir> <base.fvecs.tsv> <queries.fvecs> <gt.ivecs> [queries] [efs] [java25 home]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../../.." && pwd)"
index="$1"; tsv="$2"; q="$3"; gt="$4"; nq="${5:-2000}"; efs="${6:-10,16,32}"; j25="${7:-/usr/lib/jvm/temurin-25-jdk-amd64}"
cp="$(ls "$home"/common/target/cnnlens-common-*.jar | grep -v tests | head -n1):$(cat "$home/jobs/target/local-classpath.txt")"
for round in 1 2; do
  echo "round $round java 17: $(uptime)"
  java -Xmx4g -cp "$cp" "$here/IndexBench.java" open "$index" "$tsv" "$q" "$gt" "$nq" "$efs" 2>/dev/null
  echo "round $round java 25 + jdk.incubator.vector: $(uptime)"
  "$j25/bin/java" -Xmx4g --add-modules jdk.incubator.vector -cp "$cp" "$here/IndexBench.java" open "$index" "$tsv" "$q" "$gt" "$nq" "$efs" 2>&1 | grep -v -E "WARNING|^\s*$" 
done

#!/usr/bin/env bash
# JVector vs Lucene HNSW on the same vectors (tests/bench/ann/AnnChoice.java), one process.
# Usage: tests/bench/ann/ann-choice.sh <dir with fc7-train.fvecs, fc7-test.fvecs, fc7-gt.ivecs> [M] [efC] [threads] [queries] [java]
# (make the files with DumpVectors.java and exact.py; see docs/index.md#measurements)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$1"; m="${2:-16}"; efc="${3:-200}"; threads="${4:-1}"; nq="${5:-2000}"; java="${6:-java}"
m2="$HOME/.m2/repository"
cp="$m2/io/github/jbellis/jvector/4.0.0-rc.5/jvector-4.0.0-rc.5.jar:$m2/org/apache/lucene/lucene-core/9.12.3/lucene-core-9.12.3.jar"
cp="$cp:$m2/org/agrona/agrona/1.20.0/agrona-1.20.0.jar:$m2/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar"
cp="$cp:$(find "$m2/org/slf4j/slf4j-api" -name 'slf4j-api-2*.jar' | sort | tail -n1)"
uptime
"$java" -Xmx4g -cp "$cp" "$here/AnnChoice.java" "$dir/fc7-train.fvecs" "$dir/fc7-test.fvecs" "$dir/fc7-gt.ivecs" "$m" "$efc" "$threads" "$nq"

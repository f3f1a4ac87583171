#!/usr/bin/env bash
# The audit at scale (AuditBench, bench profile): an incremental second audit after +10 % images
# (model runs, seconds per check, ratio of totals), a third audit with nothing added (the floor),
# and the drift test's false-alarm rate over
# same-distribution batches and its detection of inverted batches.
# Usage: tests/bench/audit.sh [images (default 5000)] [drift batches per reference (default 100)]
# Prints the "audit bench:" lines, each with the machine's load.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
mvn -B -q -Pbench -pl tests -am verify -Dtest=AuditBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dcnnlens.bench.audit.n="${1:-5000}" -Dcnnlens.bench.audit.batches="${2:-100}" 2>&1 | grep "audit bench:" || true

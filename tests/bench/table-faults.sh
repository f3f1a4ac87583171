#!/usr/bin/env bash
# Crashes and concurrent runs against the Delta tables, locally (docs/tables.md), for `features`
# and one analysis job (`saliency`): for each case, the exit codes, the rows and distinct keys a
# reader sees (read by DuckDB from a fresh export of the committed version) and the version the
# commit log names. Executor and worker kills need a cluster: StandaloneClusterFaultTest (features,
# saliency) and StandaloneClusterSoakBench.
# Usage: tests/bench/table-faults.sh [images per class (default 20, of the bundled sample)] [jobs (default "features saliency")]
# Needs: node + npm (tests/duckdb is installed with npm ci on first use).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
per="${1:-20}"
jobs="${2:-features saliency}"
work="$(mktemp -d)"
trap 'pkill -f "cnnlens.home=$here.*--out $work" 2>/dev/null || true; rm -rf "$work"' EXIT
cl="$here/bin/cnnlens"
[ -d "$here/tests/duckdb/node_modules/@duckdb/node-api" ] || (cd "$here/tests/duckdb" && npm ci --silent --no-audit --no-fund)
# a small input: the first $per images of each class of the bundled sample
for d in "$here"/conf/sample/fashion-mnist/*/; do
  mkdir -p "$work/images/$(basename "$d")"
  mapfile -t all < <(find "$d" -name '*.png' | sort)
  cp "${all[@]:0:$per}" "$work/images/$(basename "$d")/"
done
inputs=$(find "$work/images" -name '*.png' | wc -l)
echo "inputs: $inputs images"

# what a reader sees: rows, distinct keys (DuckDB over an export) and the logged version
seen() { # <out> <table> <key SQL>
  rm -rf "$work/export"
  "$cl" export "$1/$2" --to "$work/export" --master 'local[2]' 2> /dev/null | sed -n 's/.*(Delta version \([0-9]*\)).*/\1/p' > "$work/version"
  node "$here/tests/duckdb/query.mjs" "SELECT count(*) AS r, count(DISTINCT $3) AS k FROM read_parquet('$work/export/*.parquet')" \
    | sed 's/[{}"]//g; s/r:/rows /; s/,k:/, distinct keys /' | tr -d '\n'
  echo ", reader sees version $(cat "$work/version")"
}
job() { # <job> <out> [extra java opts]
  local j="$1" o="$2"; shift 2
  local args=(--images "$work/images" --out "$o" --master 'local[2]')
  [ "$j" = saliency ] && args+=(--sample 0 --methods gradient)
  CNNLENS_JAVA_OPTS="${*:-}" "$cl" "$j" "${args[@]}"
}
# the names of the part files the job's tasks have written so far (features: into its table; others: under staging)
parts() { # <out> <job>
  if [ "$2" = features ]; then find "$1/features" -name 'part-*' 2> /dev/null; else find "$1/_staging" -path "*/$2/*" -name 'part-*' 2> /dev/null; fi \
    | xargs -r -n1 basename | sort -u
}
for j in $jobs; do
  table=$j; key="image_id"; [ $j = saliency ] && key="path || method"
  o="$work/out-$j"
  [ $j = saliency ] && { job features "$o" > /dev/null 2>&1; }
  job $j "$o" > "$work/log" 2>&1; echo "$j first run: exit $?; $(seen "$o" $table "$key")"

  # driver killed mid-stage: kill -9 as soon as this run's first task has started writing
  parts "$o" $j > "$work/parts-before"
  job $j "$o" > "$work/log" 2>&1 & pid=$!
  until [ -n "$(parts "$o" $j | comm -13 "$work/parts-before" -)" ] || ! kill -0 $pid 2> /dev/null; do sleep 0.05; done
  pkill -9 -f "Cli $j --images $work/images --out $o" || true; wait $pid 2> /dev/null && rc=0 || rc=$?
  [ $rc = 137 ] && landed="the kill landed mid-stage" || landed="THE KILL MISSED: the run had finished"
  echo "$j driver kill -9 mid-stage: exit $rc ($landed); $(seen "$o" $table "$key"); staging left: $(ls "$o/_staging" 2> /dev/null | wc -l)"
  job $j "$o" > "$work/log" 2>&1 && rc=0 || rc=$?; echo "$j re-run: exit $rc; $(seen "$o" $table "$key")"

  # driver killed mid-commit: the deterministic hook halts the JVM after the first table's commit
  job $j "$o" -Dcnnlens.commit.haltAt=after-table:$table > "$work/log" 2>&1 && rc=0 || rc=$?
  echo "$j driver halted after-table:$table: exit $rc; $(seen "$o" $table "$key")"
  job $j "$o" > "$work/log" 2>&1 && rc=0 || rc=$?; echo "$j re-run: exit $rc; $(seen "$o" $table "$key")"

  # two runs into one --out at once
  job $j "$o" > "$work/a.log" 2>&1 & a=$!
  job $j "$o" > "$work/b.log" 2>&1 & b=$!
  wait $a && ra=0 || ra=$?; wait $b && rb=0 || rb=$?
  echo "$j two concurrent runs: exits $ra and $rb; $(seen "$o" $table "$key")"
  grep -h "another cnnlens run" "$work/a.log" "$work/b.log" | sed 's/^/  loser says: /' | cut -c1-220 || true
  [ -d "$o/$table/$table" ] && echo "  NESTED TABLE $o/$table/$table" || true
done

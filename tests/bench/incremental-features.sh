#!/usr/bin/env bash
# Incremental features against another checkout's (e.g. before a change), alternating rounds: the
# same base table (every image of <images> but the last <added> of its sorted listing) updated with
# `features --incremental` once the <added> images are back (a collection that grew), then once
# more with nothing changed. Prints each run's seconds and the table step's line from the job's
# log ("merged as" / "appended as"), then the medians and the ratio this / other.
# Usage: tests/bench/incremental-features.sh <other checkout> <images dir> <work dir> [added=7000] [rounds=2]
# Both checkouts are built by their bin/cnnlens on first use. <images dir> is not modified: the
# work dir holds hard links to it (same file system).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
other="$(cd "$1" && pwd)"; images="$(cd "$2" && pwd)"; work="$3"; added="${4:-7000}"; rounds="${5:-2}"
mkdir -p "$work"; work="$(cd "$work" && pwd)"
rm -rf "$work/images" "$work/base" "$work/out"
cp -al "$images" "$work/images"
(cd "$images" && find . -type f | sort | tail -n "$added") > "$work/added.txt"
(cd "$work/images" && xargs rm < "$work/added.txt")
"$here/bin/cnnlens" features --images "$work/images" --out "$work/base" > "$work/base.log" 2>&1
declare -A add same
for ((r = 0; r < rounds; r++)); do
  if ((r % 2 == 0)); then order="other this"; else order="this other"; fi
  for v in $order; do
    if [ "$v" = other ]; then bin="$other/bin/cnnlens"; else bin="$here/bin/cnnlens"; fi
    rm -rf "$work/out"; cp -r "$work/base" "$work/out"
    (cd "$images" && while read -r f; do ln -f "$f" "$work/images/$f"; done < "$work/added.txt")
    t0=$(date +%s.%N)
    "$bin" features --incremental --images "$work/images" --out "$work/out" > "$work/$v-$r-add.log" 2>&1
    t1=$(date +%s.%N)
    "$bin" features --incremental --images "$work/images" --out "$work/out" > "$work/$v-$r-same.log" 2>&1
    t2=$(date +%s.%N)
    (cd "$work/images" && xargs rm < "$work/added.txt")
    a=$(echo "$t1 - $t0" | bc); s=$(echo "$t2 - $t1" | bc)
    add[$v]="${add[$v]:-} $a"; same[$v]="${same[$v]:-} $s"
    echo "incremental features: round $r $v: +$added images ${a} s ($(grep -oE '(merged|appended) as Delta version [0-9]+ in [0-9.]+ s' "$work/$v-$r-add.log" || echo 'no table line')), unchanged ${s} s ($(grep -oE '(merged|appended) as Delta version [0-9]+ in [0-9.]+ s' "$work/$v-$r-same.log" || echo 'no table line')); load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for kind in add same; do
  declare -n runs="$kind"
  t=$(echo "${runs[this]}" | median); o=$(echo "${runs[other]}" | median)
  echo "incremental features: $kind: median this ${t} s, other ${o} s, this / other $(echo "scale=3; $t / $o" | bc)"
done

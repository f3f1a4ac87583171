#!/usr/bin/env bash
# The cost of the table format: `features` over the same images with two checkouts (e.g. the
# commit before Delta and this one), in alternating rounds, and the metadata each writes.
# Usage: tests/bench/table-cost.sh <before checkout> [after checkout (default: this one)] [images] [rounds]
#   images: a folder of images (default: 10,000 Fashion-MNIST test PNGs made with `sample`)
# Prints per round each side's wall seconds and images/s (from the job's summary line), then the
# median ratio after/before of images/s, and the bytes of table metadata (_delta_log, _cnnlens_log).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
before="$(cd "${1:?usage: table-cost.sh <before checkout> [after checkout] [images] [rounds]}" && pwd)"
after="$(cd "${2:-$here}" && pwd)"
rounds="${4:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
images="${3:-}"
if [ -z "$images" ]; then
  images="$work/images"
  "$after/bin/cnnlens" sample --split test --per-class 1000 --out "$images" > /dev/null
fi
rate() { sed -n 's/.*features: inputs \([0-9]*\), rows.*, \([0-9.]*\) s, \([0-9.]*\) images\/s.*/\3/p' "$1" | tail -1; }
ratios=()
for ((r = 1; r <= rounds; r++)); do
  order=(before after); (( r % 2 == 0 )) && order=(after before)
  for side in "${order[@]}"; do
    tree="$before"; [ "$side" = after ] && tree="$after"
    rm -rf "$work/out-$side"
    start=$(date +%s.%N)
    "$tree/bin/cnnlens" features --images "$images" --out "$work/out-$side" --master 'local[2]' > "$work/$side.log" 2>&1 \
      || { cat "$work/$side.log" >&2; exit 1; }
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    eval "rate_$side=$(rate "$work/$side.log")"
    printf 'round %d %-6s wall %6.1f s  %s images/s\n' "$r" "$side" "$wall" "$(rate "$work/$side.log")"
  done
  ratios+=("$(echo "scale=4; $rate_after / $rate_before" | bc)")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "images/s after/before per round: ${ratios[*]}; median $median"
for side in before after; do
  meta=$(find "$work/out-$side" \( -path '*/_delta_log/*' -o -path '*/_cnnlens_log/*' \) -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  data=$(find "$work/out-$side" -name '*.parquet' -not -path '*/_cnnlens_log/*' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  echo "$side: table metadata $meta bytes, data files $data bytes"
done

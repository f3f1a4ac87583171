#!/usr/bin/env bash
# Peak memory of `saliency --sample 0` as the collection grows: 2,500, 5,000 and 10,000
# Fashion-MNIST test images (Debian's dataset-fashion-mnist), one JVM per size, local[2].
# Local mode runs the executor inside the driver JVM, so the JVM's figures are the executor's:
# the largest heap occupancy after a GC (from the GC log: what the job keeps live) and the
# process's peak resident set (/usr/bin/time). Flat figures = memory does not grow with n.
# Usage: [CNNLENS_DRIVER_MEMORY=600m] tests/bench/saliency-memory.sh [checkout] [sizes...]
#   (a small heap makes the figure after each GC close to what the job keeps live)
#   checkout: the tree whose bin/cnnlens to run (default: this one), so an older checkout
#   can be measured the same way; sizes default to 2500 5000 10000.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tree="$(cd "${1:-$here}" && pwd)"
shift || true
[ $# -gt 0 ] && sizes=("$@") || sizes=(2500 5000 10000)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 2; }
"$tree/bin/cnnlens" sample --split test --per-class 1000 --out "$work/all" > /dev/null
mapfile -t files < <(find "$work/all" -name '*.png' | sort)
printf '%-8s %-12s %-22s %-14s %s\n' images seconds "max heap after GC MB" "peak RSS MB" summary
for n in "${sizes[@]}"; do
  rm -rf "$work/in" "$work/out"
  # the first n files dealt across the classes (every 10,000/n-th of the sorted list)
  step=$(( ${#files[@]} / n ))
  for ((i = 0; i < ${#files[@]} && i / step < n; i += step)); do
    f="${files[$i]}"; d="$work/in/$(basename "$(dirname "$f")")"; mkdir -p "$d"; cp "$f" "$d/"
  done
  start=$(date +%s.%N)
  CNNLENS_JAVA_OPTS="-Xlog:gc:file=$work/gc.log" /usr/bin/time -f '%M' -o "$work/rss" \
    "$tree/bin/cnnlens" saliency --images "$work/in" --out "$work/out" --sample 0 --methods gradient --master 'local[2]' \
    > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  heap=$(grep -oE '[0-9]+M->[0-9]+M' "$work/gc.log" | sed 's/.*->//; s/M//' | sort -n | tail -1)
  rss=$(( $(cat "$work/rss") / 1024 ))
  printf '%-8s %-12.1f %-22s %-14s %s\n' "$n" "$secs" "${heap:-?}" "$rss" "$(grep -m1 '^saliency: inputs' "$work/log")"
done

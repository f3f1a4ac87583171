#!/usr/bin/env bash
# Peak memory of `saliency --sample 0` as the collection grows: 2,500, 5,000 and 10,000
# Fashion-MNIST test images (Debian's dataset-fashion-mnist), one JVM per size, local[2].
# Local mode runs the executor inside the driver JVM, so the JVM's figures are the executor's:
# the live heap (every 3 s a full GC is forced with jcmd GC.run; the occupancy after those full
# GCs is what the job keeps live: their largest, median and last), the largest occupancy after any
# GC, and the process's peak resident set (/usr/bin/time). Flat figures = memory does not grow with n.
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
printf '%-8s %-9s %-24s %-16s %-12s %s\n' images seconds "live MB max/median/last" "after any GC MB" "peak RSS MB" summary
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
    > "$work/log" 2>&1 &
  job=$!
  while kill -0 "$job" 2>/dev/null; do
    sleep 3
    pid=$(pgrep -f "Cli saliency --images $work/in" | head -1 || true)
    [ -n "$pid" ] && jcmd "$pid" GC.run >> "$work/jcmd.log" 2>&1 || true
  done
  wait "$job" || { cat "$work/log" >&2; exit 1; }
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  # the forced full GCs' occupancy: its largest (a task's transient peak can land in it), its
  # median and the last one (late in the run: what is still held after most images are done)
  grep 'Pause Full' "$work/gc.log" | grep -oE '[0-9]+M->[0-9]+M' | sed 's/.*->//; s/M//' > "$work/live" || true
  live="$(sort -n "$work/live" | tail -1)/$(sort -n "$work/live" | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "?"}')/$(tail -1 "$work/live")"
  heap=$(grep -oE '[0-9]+M->[0-9]+M' "$work/gc.log" | sed 's/.*->//; s/M//' | sort -n | tail -1)
  rss=$(( $(cat "$work/rss") / 1024 ))
  printf '%-8s %-9.1f %-24s %-16s %-12s %s\n' "$n" "$secs" "$live" "${heap:-?}" "$rss" "$(grep -m1 '^saliency: inputs' "$work/log")"
done

#!/usr/bin/env bash
# Peak memory of `saliency --sample 0` as the collection grows: 2,500, 5,000 and 10,000
# Fashion-MNIST test images (Debian's dataset-fashion-mnist), one JVM per size, local[2].
# Local mode runs the executor inside the driver JVM, so the JVM's figures are the executor's:
# the live heap (a full GC is forced with jcmd GC.run every 3 s, every second after the pass; the
# occupancy after those full GCs is what the job keeps live), split in two phases at the job's
# "pass done" log line: the pass (executor tasks: decode, maps, overlays, Parquet writer; its
# largest, median and last sample) and the end (driver side: errors table, counts, the picture's
# images, commit; its largest and last), the largest occupancy after any GC, and the process's
# peak resident set (/usr/bin/time). Flat figures = memory does not grow with n.
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
printf '%-8s %-9s %-24s %-18s %-16s %-12s %s\n' images seconds "pass live MB max/med/last" "end live MB max/last" \
  "after any GC MB" "peak RSS MB" summary
for n in "${sizes[@]}"; do
  rm -rf "$work/in" "$work/out" "$work/gc.log" "$work/samples"
  touch "$work/samples"
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
  phase=pass
  while kill -0 "$job" 2>/dev/null; do
    [ "$phase" = pass ] && sleep 3 || sleep 1
    # the phase is read before the GC is forced: a sample marked "end" is surely after the pass
    # (an older checkout prints no such line: all its samples count as the pass)
    grep -q 'SaliencyJob: pass done' "$work/log" && phase=end
    pid=$(pgrep -f "Cli saliency --images $work/in" | head -1 || true)
    [ -n "$pid" ] && jcmd "$pid" GC.run >> "$work/jcmd.log" 2>&1 || continue
    # this sample's full GC: the last one the JVM logged for a Diagnostic Command, once per GC id
    g=$(grep 'Pause Full (Diagnostic Command)' "$work/gc.log" 2>/dev/null | tail -1 | grep -oE 'GC\([0-9]+\)|[0-9]+M->[0-9]+M' \
      | tr '\n' ' ' || true)
    [ -n "$g" ] && ! grep -qF "${g%% *}" "$work/samples" && echo "$g $phase" >> "$work/samples"
  done
  wait "$job" || { cat "$work/log" >&2; exit 1; }
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  # per phase, the forced full GCs' occupancy: its largest (a task's transient peak can land in
  # it), its median and last (pass), its largest and last (end)
  stats() { # phase -> max/median/last of its samples' MB after the GC
    awk -v p="$1" '$3 == p {sub(/.*->/, "", $2); sub(/M/, "", $2); print $2}' "$work/samples" > "$work/live.$1"
    if [ ! -s "$work/live.$1" ]; then echo "-"; return; fi
    echo "$(sort -n "$work/live.$1" | tail -1)/$(sort -n "$work/live.$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')/$(tail -1 "$work/live.$1") ($(wc -l < "$work/live.$1"))"
  }
  pass=$(stats pass)
  end=$(stats end)
  [ "$end" != - ] && end="$(echo "$end" | cut -d/ -f1)/$(echo "$end" | cut -d/ -f3)"
  heap=$(grep -oE '[0-9]+M->[0-9]+M' "$work/gc.log" | sed 's/.*->//; s/M//' | sort -n | tail -1)
  rss=$(( $(cat "$work/rss") / 1024 ))
  printf '%-8s %-9.1f %-24s %-18s %-16s %-12s %s\n' "$n" "$secs" "$pass" "$end" "${heap:-?}" "$rss" \
    "$(grep -m1 '^saliency: inputs' "$work/log")"
done

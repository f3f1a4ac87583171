#!/usr/bin/env bash
# Training throughput of one `tune` trial (DJL, PyTorch engine) against the PyTorch peer
# (tests/bench/torch_train.py: the same network, optimiser, batch size and threads), in alternating rounds.
# Usage: tests/bench/tune-throughput.sh [rounds=3] [train-size=3000] [epochs=1] [batch=128] [threads=2] [width=1]
# Prints each side's images/s per round, `uptime` with each, and the median ratio DJL/PyTorch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"; n="${2:-3000}"; epochs="${3:-1}"; bs="${4:-128}"; threads="${5:-2}"; width="${6:-1}"
data=/usr/share/datasets/fashion-mnist
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
printf 'lr = 0.002\nwidth = %s\nbatch-size = %s\ndropout = 0.3\n' "$width" "$bs" > "$work/space.txt"
ratios=()
for ((r = 1; r <= rounds; r++)); do
  order=(djl torch); (( r % 2 == 0 )) && order=(torch djl)
  for side in "${order[@]}"; do
    if [ "$side" = djl ]; then
      rm -rf "$work/out"
      "$here/bin/cnnlens" tune --steps search --mode grid --space "$work/space.txt" --train-size "$n" --val-size 1000 \
        --min-epochs "$epochs" --max-epochs "$epochs" --refine-top 0 --threads "$threads" --out "$work/out" --master "local[1]" \
        > "$work/djl.log" 2>&1 || { cat "$work/djl.log" >&2; exit 1; }
      djl=$(sed -n 's/.*median training throughput \([0-9.]*\) images\/s.*/\1/p' "$work/djl.log" | tail -1)
      echo "round $r djl   $djl images/s   load: $(uptime | sed 's/.*load average: //')"
    else
      torch=$(/usr/bin/python3 "$here/tests/bench/torch_train.py" "$data" "$n" "$epochs" "$bs" "$threads" "$width" 0.002 | tee "$work/torch.log" \
        | sed -n 's/.*, \([0-9.]*\) images\/s.*/\1/p')
      echo "round $r torch $torch images/s   load: $(uptime | sed 's/.*load average: //')   ($(cat "$work/torch.log"))"
    fi
  done
  ratios+=("$(echo "scale=3; $djl / $torch" | bc)")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "DJL/PyTorch images/s per round: ${ratios[*]}; median $median (batch $bs, threads $threads, width $width, $n images × $epochs epochs)"

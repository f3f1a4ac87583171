#!/usr/bin/env bash
# The tune job's "must show" runs, small enough for 2 loaded cores. Usage:
#   tests/bench/tune-show.sh check   OUT  # the checklist on the bundled recipe (width 1, batch 128, Adam 2e-3, Xavier init)
#   tests/bench/tune-show.sh compare OUT [trials=9] [train-size=1000]
#        # random vs grid at equal budget over lr × weight decay + dropout (hardly matters), 1 epoch each,
#        # best validation accuracy after each trial (trial order), and each run's hyperparameter picture
#   tests/bench/tune-show.sh patterns OUT # real trials made to show LR far too high / far too low / no regularisation on 200 images
# Prints the job's lines and `uptime` load; pictures under OUT/*/pictures/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
what="${1:?usage: tune-show.sh check|compare|patterns OUT}"; out="${2:?OUT}"
mkdir -p "$out"
load() { echo "load: $(uptime | sed 's/.*load average: //')"; }
case "$what" in
  check)
    printf 'lr = 0.002\n' > "$out/bundled-space.txt"   # the bundled recipe as it is
    load
    "$here/bin/cnnlens" tune --steps check --space "$out/bundled-space.txt" --out "$out/check" --master 'local[2]' \
      --overfit-images 50 --overfit-iterations 300 --range-steps 100 --train-size 5000 --val-size 1000 2>/dev/null | grep -vE ' INFO | WARN '
    load ;;
  compare)
    trials="${3:-9}"; n="${4:-1000}"
    points=$(/usr/bin/python3 -c "import math; print(round(math.sqrt($trials)))")
    cat > "$out/space-random.txt" <<SPACE
lr = loguniform 1e-5 1e-1
weight-decay = loguniform 1e-6 1e-1
dropout = uniform 0 0.5
width = 0.25
batch-size = 50
init = small-last
SPACE
    # the grid: sqrt(trials) values of lr and of weight decay, dropout fixed at the range's middle (a 3rd grid axis would
    # multiply the budget); equal budget = the same number of trials
    sed 's/^dropout = .*/dropout = 0.25/' "$out/space-random.txt" > "$out/space-grid.txt"
    for mode in random grid; do
      load
      "$here/bin/cnnlens" tune --steps search --mode "$mode" --trials "$trials" --grid-points "$points" --space "$out/space-$mode.txt" \
        --train-size "$n" --val-size 1000 --min-epochs 1 --max-epochs 1 --refine-top 0 --out "$out/$mode" --master 'local[2]' \
        --threads 1 2>/dev/null | grep -vE ' INFO | WARN '
      /usr/bin/python3 - "$out/$mode" "$mode" <<'PY'
import json, glob, sys
recs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/_tune/*/*.json")]
recs.sort(key=lambda r: r["index"])
best, curve = 0.0, []
for r in recs:
    if r["status"] == "ok":
        best = max(best, r["bestValAcc"])
    curve.append(round(best, 4))
print(f"{sys.argv[2]}: best validation accuracy after each of {len(recs)} trials: {curve}")
print(f"{sys.argv[2]}: distinct lr values tried: {len(set(r['recipe']['lr'] for r in recs))}")
PY
    done
    load ;;
  patterns)
    printf 'lr = choice 1e-7 0.002 3\ninit = small-last\nwidth = 0.5\nbatch-size = 20\ndropout = 0\noptimizer = adam\nschedule = constant\n' > "$out/space-patterns.txt"
    load
    "$here/bin/cnnlens" tune --steps search --mode grid --space "$out/space-patterns.txt" --train-size 200 --val-size 1000 \
      --min-epochs 30 --max-epochs 30 --refine-top 0 --out "$out/patterns" --master 'local[2]' --threads 1 2>/dev/null | grep -vE ' INFO | WARN '
    /usr/bin/python3 - "$out/patterns" <<'PY'
import json, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/_tune/*/*.json")):
    r = json.load(open(f))
    print(f"{r['id']} lr {r['recipe']['lr']}: {r['status']}, diagnosis {r['diagnosis']}: {r['evidence']}")
PY
    load ;;
  *) echo "unknown: $what" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Real photographs at speed (issue 14): `cnnlens features` against the script a PyTorch user would
# write instead (tests/bench/photo_dataloader.py: DataLoader, 2 workers, PIL decode, Resize 256 +
# CenterCrop 224 + Normalize, the same TorchScript file through torch.jit.load, 2 intra-op threads),
# on the same files, in alternating rounds in this one script; and each side's forward-only ceiling.
#
# Usage: tests/bench/photo-features.sh [rounds=2] [seed=1] [master=local[2]] [small=2000] [large=200]
#   PHOTOS=<dir> keeps the photo sets there (built once for a seed, reused when present); else a temp dir.
#   SETS="small large" picks the sets.
# Photo sets: tests/bench/photos/make_photos.py <dir> <seed> (seeded crops of Debian python3-skimage's
# colour photographs): <dir>/small, 500 x 375 JPEGs; <dir>/large, 4032 x 3024 (12 MP) JPEGs.
# Model: the SqueezeNet 1.1 TorchScript fixture, tests/src/test/resources/models/squeezenet1_1.
# Sides per round, order rotated each round:
#   features      cnnlens features, its defaults (the executor pipeline: decode threads ahead of the forward)
#   features-off  cnnlens features --decode-queue 0 (decode on the task thread between forward passes: before the pipeline)
#   dataloader    photo_dataloader.py loader, 2 workers, 2 intra-op threads, batch 64
# and once per round the forward alone on random batches of 64: cnnlens (tests/bench/ForwardOnly.java,
# as the job's tasks run it: one thread per core of <master>, 1 intra-op thread each) and PyTorch
# (2 intra-op threads). features images/s is the job's own figure (inputs / seconds of the whole run,
# model check, listing and commit included; JVM start-up not). Prints every run with `uptime`'s load
# and, per set, the median of the rounds' ratios features/dataloader, features-off/dataloader,
# features/forward-only (cnnlens) and cnnlens forward / PyTorch forward.
# MARGINAL=1 adds, per set, a twice as large set (<dir>-x2: the same seeded files and as many more) and runs
# features and dataloader on both in every round: a side's marginal rate is N / (seconds at 2N - seconds at
# N), the per-image throughput with each side's fixed costs (JVM-side: model check, listing, Delta
# transaction, errors table and commit log; Python-side: worker start-up) taken out; it prints the
# median marginal ratios features/dataloader and features/forward-only beside the whole-run ones.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-2}"; seed="${2:-1}"; master="${3:-local[2]}"; small="${4:-2000}"; large="${5:-200}"
sets="${SETS:-small large}"
py="${PYTHON:-/usr/bin/python3}"
model="$here/tests/src/test/resources/models/squeezenet1_1/squeezenet1_1.properties"
pt="$here/tests/src/test/resources/models/squeezenet1_1/squeezenet1_1.pt"
cores="$(echo "$master" | sed -n 's/^local\[\([0-9]*\)\]$/\1/p')"; cores="${cores:-2}"
# bin/cnnlens rebuilds a stale checkout with `mvn install`; a benchmark must not (it would replace the
# shared local-repository artifacts), so it refuses a stale build instead
jar="$(find "$here/jobs/target" -maxdepth 1 -name 'cnnlens-jobs-*.jar' ! -name '*-job.jar' ! -name '*-tests.jar' ! -name '*-sources.jar' 2>/dev/null | sort | tail -n 1)"
common_jar="$(find "$here/common/target" -maxdepth 1 -name 'cnnlens-common-*.jar' ! -name '*-tests.jar' ! -name '*-sources.jar' 2>/dev/null | sort | tail -n 1)"
if [ -z "$jar" ] || [ -z "$common_jar" ] || [ -n "$(find "$here/jobs" -name '*.java' -newer "$jar" -not -path '*/target/*' -print -quit)" ] \
    || [ -n "$(find "$here/common" -name '*.java' -newer "$common_jar" -not -path '*/target/*' -print -quit)" ]; then
  echo "photo-features.sh: the build is missing or older than the sources; run 'mvn -B -q package -DskipTests' first" >&2
  exit 2
fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
photos="${PHOTOS:-$work/photos}"
build_photos() { # <dir> <small> <large>
  if [ ! -f "$1/.seed-$seed-$2-$3" ]; then
    rm -rf "$1"; mkdir -p "$1"
    "$py" "$here/tests/bench/photos/make_photos.py" "$1" "$seed" --small "$2" --large "$3"
    touch "$1/.seed-$seed-$2-$3"
  fi
}
build_photos "$photos" "$small" "$large"
marginal="${MARGINAL:-0}"
[ "$marginal" = 1 ] && build_photos "$photos-x2" $((2 * small)) $((2 * large))
load() { uptime | sed 's/.*load average: //'; }
opens=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)

features() { # <photos dir> <set> <extra options...>: prints "rate inputs rows errors seconds"
  local dir="$1" set="$2"; shift 2
  rm -rf "$work/out"
  "$here/bin/cnnlens" features --images "$dir/$set" --out "$work/out" --model "$model" --master "$master" "$@" \
    > "$work/features.log" 2>&1 || { tail -40 "$work/features.log" >&2; exit 1; }
  sed -n 's/.*features: inputs \([0-9]*\), rows \([0-9]*\), errors \([0-9]*\), \([0-9.]*\) s, \([0-9.]*\) images\/s.*/\5 \1 \2 \3 \4/p' "$work/features.log" | tail -1
}
dataloader() { # <photos dir> <set>: prints "rate seconds line"
  local line
  line=$("$py" "$here/tests/bench/photo_dataloader.py" loader "$1/$2" "$pt" 2 2 64)
  echo "$(echo "$line" | sed -n 's/.*, \([0-9.]*\) images\/s.*/\1/p') $(echo "$line" | sed -n 's/.*images, \([0-9.]*\) s,.*/\1/p') $line"
}

# the forward-only JVM gets the allocator bin/cnnlens gives features (docs/executor-runtime.md#memory-allocator)
preload=""
tc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
if [ "${CNNLENS_MALLOC:-tcmalloc}" != system ] && [ -r "$tc" ]; then preload="$tc"; fi
echo "JVM allocator: ${preload:-glibc malloc}"
declare -A runs
for ((r = 1; r <= rounds; r++)); do
  # forward-only ceilings
  djl_fwd=$(env ${preload:+LD_PRELOAD=$preload} java -Xmx4g "${opens[@]}" -Dai.djl.offline=true -Dlog4j2.configurationFile="$here/conf/log4j2.properties" \
    -cp "$jar:$(cat "$here/jobs/target/local-classpath.txt")" "$here/tests/bench/ForwardOnly.java" "$model" "$cores" 1 64 15 \
    | sed -n 's/.*, \([0-9.]*\) images\/s.*/\1/p')
  torch_fwd=$("$py" "$here/tests/bench/photo_dataloader.py" forward "$pt" 2 64 15 | sed -n 's/.*, \([0-9.]*\) images\/s.*/\1/p')
  echo "round $r forward-only: cnnlens $djl_fwd images/s ($cores threads x 1 intra-op), PyTorch $torch_fwd images/s (2 intra-op)   load: $(load)"
  runs[fwd,$r]="$djl_fwd"; runs[tfwd,$r]="$torch_fwd"
  for set in $sets; do
    sides=(features features-off dataloader)
    k=$(( (r - 1) % 3 )); sides=("${sides[@]:$k}" "${sides[@]:0:$k}")
    for side in "${sides[@]}"; do
      case "$side" in
        features) read -r rate inputs rows errors secs < <(features "$photos" "$set"); extra="inputs $inputs rows $rows errors $errors, $secs s" ;;
        features-off) read -r rate inputs rows errors secs < <(features "$photos" "$set" --decode-queue 0); extra="inputs $inputs rows $rows errors $errors, $secs s" ;;
        dataloader) read -r rate secs extra < <(dataloader "$photos" "$set") ;;
      esac
      runs[$set,$side,$r]="$rate"; runs[$set,$side,$r,s]="$secs"
      printf 'round %d %-5s %-12s %7s images/s   load: %s   (%s)\n' "$r" "$set" "$side" "$rate" "$(load)" "$extra"
      if [ "$marginal" = 1 ] && [ "$side" != features-off ]; then
        case "$side" in
          features) read -r rate inputs rows errors secs < <(features "$photos-x2" "$set"); extra="inputs $inputs rows $rows errors $errors, $secs s" ;;
          dataloader) read -r rate secs extra < <(dataloader "$photos-x2" "$set") ;;
        esac
        n=$(find "$photos/$set" -name '*.jpg' | wc -l)
        m=$(echo "scale=2; $n / ($secs - ${runs[$set,$side,$r,s]})" | bc)
        runs[$set,$side,$r,m]="$m"
        printf 'round %d %-5s %-12s %7s images/s   load: %s   (twice the set: %s; marginal %s images/s)\n' "$r" "$set" "$side" "$rate" "$(load)" "$extra" "$m"
      fi
    done
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { echo "scale=3; $1 / $2" | bc; }
echo "median of the rounds' ratios ($rounds rounds, $master, SqueezeNet 1.1, batch 64):"
fwd_ratio=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[fwd,$r]}" "${runs[tfwd,$r]}"; done | median)
echo "  forward-only cnnlens/PyTorch: $fwd_ratio"
for set in $sets; do
  a=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[$set,features,$r]}" "${runs[$set,dataloader,$r]}"; done | median)
  b=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[$set,features-off,$r]}" "${runs[$set,dataloader,$r]}"; done | median)
  c=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[$set,features,$r]}" "${runs[fwd,$r]}"; done | median)
  d=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[$set,features,$r]}" "${runs[$set,features-off,$r]}"; done | median)
  echo "  $set: features/dataloader $a, features-off/dataloader $b, features/forward-only $c, features/features-off $d"
  if [ "$marginal" = 1 ]; then
    e=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[$set,features,$r,m]}" "${runs[$set,dataloader,$r,m]}"; done | median)
    f=$(for ((r = 1; r <= rounds; r++)); do ratio "${runs[$set,features,$r,m]}" "${runs[fwd,$r]}"; done | median)
    echo "  $set marginal (per image, fixed costs out): features/dataloader $e, features/forward-only $f"
  fi
done

#!/usr/bin/env bash
# Decode throughput per core on photographs, before and after the native scaled JPEG decode, beside PIL,
# and the fc7 agreement of the two cnnlens decodes (docs/decode.md).
# Usage: tests/bench/photo-decode.sh [photos dir] [rounds (default 2)] [seed (default 1)]
#   photos dir: a folder with small/ and large/ as tests/bench/photos/make_photos.py makes them; made
#   there (or in a temporary folder when none is given) when missing: 2,000 JPEGs of 500 x 375 and 200 of
#   4032 x 3024 (SMALL=N / LARGE=N make fewer), seeded, from skimage's colour photographs.
# For each set, per round, in alternating order: one JVM (tests/bench/PhotoDecode.java) decodes +
# preprocesses every file on one thread with the old decoder (ImageIO at full size, then the Resize
# policy) and the new one (OpenCV libjpeg-turbo at the largest DCT reduction covering the model's
# resize, then the same policy), alternating; one Python (tests/bench/photo_decode_pil.py) does PIL full
# decode + resize and PIL draft decode + resize, alternating. Model: the committed SqueezeNet 1.1
# TorchScript fixture (Resize 256 + CenterCrop 224; seeded random weights). Prints each round's
# images/s with the load, the mean of the rounds and the ratios, then (unless AGREE=0) the agreement
# of old and new decode: model pixels, max |fc7 diff| and kNN-10 agreement on fc7; on the large set
# also against PIL's full and draft decodes of the same policy (torchvision's Resize + CenterCrop).
# Also how many of 100 small photos damaged inside their entropy-coded data each decoder refuses
# (libjpeg's own 'Corrupt JPEG data' lines on stderr are dropped). ROUNDS=0 skips the throughput rounds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${2:-2}"
[ "${ROUNDS:-}" = 0 ] && rounds=0
seed="${3:-1}"
py="${PYTHON:-/usr/bin/python3}"
jar0="$(find "$here/jobs/target" -maxdepth 1 -name 'cnnlens-jobs-*.jar' ! -name '*-job.jar' ! -name '*-tests.jar' ! -name '*-sources.jar' 2>/dev/null | sort | tail -n 1)"
common="$(find "$here/common/target" -maxdepth 1 -name 'cnnlens-common-*.jar' ! -name '*-tests.jar' ! -name '*-sources.jar' 2>/dev/null | sort | tail -n 1)"
if [ -z "$jar0" ] || [ -z "$common" ] || [ -n "$(find "$here/jobs" -name '*.java' -newer "$jar0" -not -path '*/target/*' -print -quit)" ] \
   || [ -n "$(find "$here/common" -name '*.java' -newer "$common" -not -path '*/target/*' -not -path '*/src/test/*' -print -quit)" ]; then
  echo "photo-decode.sh: the build is missing or older than the sources; run 'mvn -B -q package -DskipTests' first" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
photos="${1:-$work/photos}"
if [ ! -d "$photos/small" ] || [ ! -d "$photos/large" ]; then
  "$py" "$here/tests/bench/photos/make_photos.py" "$photos" "$seed" --small "${SMALL:-2000}" --large "${LARGE:-200}"
fi
spec="$here/tests/src/test/resources/models/squeezenet1_1/squeezenet1_1.properties"
opens=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
jvm() {
  java -Xmx6g -Dai.djl.offline=true "${opens[@]}" -Dlog4j2.configurationFile="$here/conf/log4j2.properties" \
    -cp "$jar0:$(cat "$here/jobs/target/local-classpath.txt")" "$here/tests/bench/PhotoDecode.java" "$@"
}
for set in $( ((rounds > 0)) && echo small large); do
  dir="$photos/$set"
  echo "== $set: $(find "$dir" -name '*.jpg' | wc -l) JPEGs in $dir"
  : > "$work/$set.txt"
  for ((r = 1; r <= rounds; r++)); do
    order=(jvm pil); (( r % 2 == 0 )) && order=(pil jvm)
    for side in "${order[@]}"; do
      load="$(uptime | sed 's/.*load average: //')"
      if [ "$side" = jvm ]; then
        out="$(jvm throughput "$dir" "$spec" 1 2> "$work/jvm.log")" || { cat "$work/jvm.log" >&2; exit 1; }
      else
        out="$("$py" "$here/tests/bench/photo_decode_pil.py" "$dir" 1)"
      fi
      echo "$out" | sed "s/^round 1/round $r/" | tee -a "$work/$set.txt" | sed "s/\$/  (load $load)/"
    done
  done
  awk -v set="$set" '{ s[$3] += $4; n[$3]++ }
    END {
      for (k in s) m[k] = s[k] / n[k]
      printf "%s: images/s per core (mean of rounds): old %.1f, new %.1f, pil-full %.1f, pil-draft %.1f\n", set, m["old"], m["new"], m["pil-full"], m["pil-draft"]
      printf "%s: ratios: new/old %.2f, new/pil-full %.2f, new/pil-draft %.2f, old/pil-full %.2f, pil-draft/pil-full %.2f\n", set,
        m["new"] / m["old"], m["new"] / m["pil-full"], m["new"] / m["pil-draft"], m["old"] / m["pil-full"], m["pil-draft"] / m["pil-full"]
    }' "$work/$set.txt"
done
if [ "${AGREE:-1}" != 0 ]; then
  echo "small agreement:"
  jvm agree "$photos/small" "$spec" 2> "$work/jvm.log" || { cat "$work/jvm.log" >&2; exit 1; }
  # the large set (200 x 0.6 MB of model input each) against PIL's full and draft inputs too: how much two
  # accepted implementations of Resize 256 + CenterCrop 224 differ, for scale
  "$py" "$here/tests/bench/photo_decode_pil.py" --tensors "$photos/large" "$work/pil-full.f32" full
  "$py" "$here/tests/bench/photo_decode_pil.py" --tensors "$photos/large" "$work/pil-draft.f32" draft
  jvm corrupt "$photos/small" "$spec" 2> /dev/null | tail -1
  echo "large agreement:"
  jvm agree "$photos/large" "$spec" pil-full="$work/pil-full.f32" pil-draft="$work/pil-draft.f32" 2> "$work/jvm.log" \
    || { cat "$work/jvm.log" >&2; exit 1; }
fi

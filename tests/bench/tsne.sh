#!/usr/bin/env bash
# t-SNE side by side: scikit-learn's Barnes-Hut t-SNE (Debian python3-sklearn: PCA 50, perplexity 30,
# PCA start, learning rate 'auto', 1000 iterations) and `cnnlens embed` (its defaults: PCA 50,
# perplexity 30, Barnes-Hut, every point fitted up to the driver limit) on the same vectors, in
# alternating rounds in this one script.
# Usage: tests/bench/tsne.sh [features dir] [rounds (default 2)] [master (default local[2])]
#   features dir: a features table's --out folder (default: the bundled model on the 10,000
#   Fashion-MNIST test images, made here with `sample` and `features`).
# Prints per round each side's seconds (scikit-learn: PCA + t-SNE; embed: the job's own seconds,
# and of them the kNN affinities on Spark and the Barnes-Hut fit), kNN-10 accuracy of the map and
# trustworthiness (k = 10) against the fc7 vectors (embed: on its 10,000-point quality sample;
# scikit-learn: a seeded 10,000-point sample when there are more), the machine's load, and the
# ratio embed-seconds / scikit-learn-seconds. Each side's process CPU seconds (user + sys of the whole
# process: the JVM with Spark, JIT and the quality figures; Python with PCA and the quality figures)
# are printed too, less sensitive than wall time to what else the machine runs.
# KEEP=<dir> copies the last embed output (table, pictures) there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${2:-2}"
master="${3:-local[2]}"
py="${PYTHON:-/usr/bin/python3}"
# bin/cnnlens rebuilds a stale checkout with `mvn install`; a benchmark must not (it would replace the
# shared local-repository artifacts), so it refuses a stale build instead
jar0="$(find "$here/jobs/target" -maxdepth 1 -name 'cnnlens-jobs-*.jar' ! -name '*-job.jar' ! -name '*-tests.jar' ! -name '*-sources.jar' 2>/dev/null | sort | tail -n 1)"
if [ -z "$jar0" ] || [ -n "$(find "$here/common" "$here/jobs" -name '*.java' -newer "$jar0" -not -path '*/target/*' -print -quit)" ]; then
  echo "tsne.sh: the build is missing or older than the sources; run 'mvn -B -q package -DskipTests' first" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
features="${1:-}"
if [ -z "$features" ]; then
  "$here/bin/cnnlens" sample --split test --per-class 1000 --out "$work/images" > /dev/null
  "$here/bin/cnnlens" features --images "$work/images" --out "$work/f" --master "$master" > "$work/features.log" 2>&1 \
    || { cat "$work/features.log" >&2; exit 1; }
  features="$work/f"
fi
features="$(cd "$features" && pwd)"
jar="$(find "$here/jobs/target" -maxdepth 1 -name 'cnnlens-jobs-*.jar' ! -name '*-job.jar' ! -name '*-tests.jar' ! -name '*-sources.jar' | sort | tail -n 1)"
opens=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
read -r rows dims < <(java -Xmx4g "${opens[@]}" -Dlog4j2.configurationFile="$here/conf/log4j2.properties" \
  -cp "$jar:$(cat "$here/jobs/target/local-classpath.txt")" "$here/tests/bench/TsneVectors.java" \
  "$features" fc7 "$work/fc7" 2> "$work/vectors.log" | tail -1) || { cat "$work/vectors.log" >&2; exit 1; }
echo "vectors: $rows x $dims fc7 from $features"
ratios=()
for ((r = 1; r <= rounds; r++)); do
  order=(sklearn embed); (( r % 2 == 0 )) && order=(embed sklearn)
  for side in "${order[@]}"; do
    load="$(uptime | sed 's/.*load average: //')"
    if [ "$side" = sklearn ]; then
      line="$(/usr/bin/time -f '%U %S' -o "$work/time" "$py" "$here/tests/bench/tsne_sklearn.py" "$work/fc7" "$rows" "$dims")"
      sk="$(echo "$line" | awk '{print $3}')"
      cpu="$(awk '{print $1 + $2}' "$work/time")"
      printf 'round %d sklearn %s process-cpu %s s  (load %s)\n' "$r" "$line" "$cpu" "$load"
    else
      rm -rf "$work/out"
      /usr/bin/time -f '%U %S' -o "$work/time" \
        "$here/bin/cnnlens" embed --features "$features" --out "$work/out" --master "$master" > "$work/embed.log" 2>&1 \
        || { cat "$work/embed.log" >&2; exit 1; }
      job="$(sed -n 's/^embed: inputs [0-9]*, rows [0-9]*, \([0-9.]*\) s,.*/\1/p' "$work/embed.log" | tail -1)"
      knn_s="$(sed -n 's/.*each on Spark \([0-9.]*\) s.*/\1/p' "$work/embed.log" | tail -1)"
      fit_s="$(sed -n 's/.*driver threads \([0-9.]*\) s.*/\1/p' "$work/embed.log" | tail -1)"
      kl="$(sed -n 's/.*, KL \([0-9.]*\)).*/\1/p' "$work/embed.log" | tail -1)"
      knn="$(sed -n 's/.*accuracy: .*t-SNE \([0-9.]*\); trust.*/\1/p' "$work/embed.log" | tail -1)"
      trust="$(sed -n 's/.*trustworthiness (k=10): .*t-SNE \([0-9.]*\)$/\1/p' "$work/embed.log" | tail -1)"
      mode="$(sed -n 's/^embed: inputs.*t-SNE \([a-z]*\):.*/\1/p' "$work/embed.log" | tail -1)"
      em="$job"
      cpu="$(awk '{print $1 + $2}' "$work/time")"
      printf 'round %d embed:  seconds %s (kNN affinities %s + fit %s) knn10 %s trust10 %s kl %s mode %s process-cpu %s s  (load %s)\n' \
        "$r" "$job" "$knn_s" "$fit_s" "$knn" "$trust" "$kl" "$mode" "$cpu" "$load"
      [ -n "${KEEP:-}" ] && { rm -rf "$KEEP"; cp -r "$work/out" "$KEEP"; }
    fi
  done
  ratios+=("$(echo "scale=3; $em / $sk" | bc)")
done
echo "embed job seconds / scikit-learn seconds per round: ${ratios[*]}"

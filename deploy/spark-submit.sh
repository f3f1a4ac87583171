#!/usr/bin/env bash
# Submit a cnnlens job to a cluster:  deploy/spark-submit.sh <cpu|small|gpu> <job> [job options]
#   e.g. deploy/spark-submit.sh cpu features --images s3a://bucket/photos --out s3a://bucket/cnnlens
# Spark is found by SPARK_HOME ($SPARK_HOME/bin/spark-submit), else spark-submit on PATH.
# Extra spark-submit flags go in SPARK_SUBMIT_OPTS_EXTRA (e.g. "--master yarn --deploy-mode cluster",
# "--master spark://host:7077"). For a standalone master the script first checks that some worker
# is big enough for the profile's executor, since Spark would otherwise wait without a word.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/.." && pwd)"
profile="${1:?usage: spark-submit.sh <cpu|small|gpu> <job> [options]}"; shift
case "$profile" in
  cpu) defaults="$home/conf/spark-defaults-cluster.conf" ;;
  small) defaults="$home/conf/spark-defaults-small.conf" ;;
  gpu) defaults="$home/conf/spark-defaults-gpu.conf" ;;
  *) echo "profile must be cpu, small or gpu" >&2; exit 2 ;;
esac
if [ -n "${SPARK_HOME:-}" ]; then
  submit="$SPARK_HOME/bin/spark-submit"
  [ -x "$submit" ] || { echo "SPARK_HOME=$SPARK_HOME has no bin/spark-submit" >&2; exit 2; }
else
  submit="$(command -v spark-submit || true)"
  [ -n "$submit" ] || { echo "set SPARK_HOME to a Spark 4.2 installation (or put spark-submit on PATH)" >&2; exit 2; }
fi
jar="$(ls "$home"/jobs/target/cnnlens-jobs-*-job.jar 2>/dev/null | head -1)"
[ -n "$jar" ] || { echo "build the job jar first: mvn -B -DskipTests package" >&2; exit 2; }
# a client-mode driver lists the input here: give it a UTF-8 locale for file names, as bin/cnnlens does
case "$(locale charmap 2>/dev/null || true)" in UTF-8) ;; *) export LC_ALL=C.UTF-8 ;; esac

# --- standalone: does any worker fit one executor of this profile? ------------------------------
# a setting as spark-submit will see it: a --conf in SPARK_SUBMIT_OPTS_EXTRA over the profile's file
setting() {
  local over; over="$(grep -o -- "--conf[ =]$1=[^ ]*" <<< "${SPARK_SUBMIT_OPTS_EXTRA:-}" | tail -1 | sed 's/.*=//')" || true
  [ -n "$over" ] && echo "$over" || awk -v k="$1" '$1 == k { print $2 }' "$defaults" | tail -1
}
mb() { case "$1" in *g|*G) echo $(( ${1%[gG]} * 1024 ));; *m|*M) echo "${1%[mM]}";; *) echo 0;; esac; }
master="$(sed -n 's/.*--master[ =]\(spark:\/\/[^ ]*\).*/\1/p' <<< "${SPARK_SUBMIT_OPTS_EXTRA:-}")"
if [ -n "$master" ] && [ -z "${CNNLENS_SKIP_FIT_CHECK:-}" ] && command -v curl > /dev/null && command -v python3 > /dev/null; then
  cores="$(setting spark.executor.cores)"; memory="$(mb "$(setting spark.executor.memory)")"
  host="${master#spark://}"; host="${host%%:*}"
  ui="http://$host:${SPARK_MASTER_WEBUI_PORT:-8080}/json/"
  if json="$(curl -fsS --max-time 5 "$ui" 2> /dev/null)"; then
    verdict="$(python3 -c '
import json, sys
need_cores, need_mb = int(sys.argv[1]), int(sys.argv[2])
ws = [w for w in json.loads(sys.stdin.read()).get("workers", []) if w.get("state") == "ALIVE"]
fit = [w for w in ws if w["cores"] >= need_cores and w["memory"] >= need_mb]
if not fit:
    sizes = ", ".join("%s: %d cores, %d MB" % (w["host"], w["cores"], w["memory"]) for w in ws) or "no live worker"
    print("no worker can hold one executor of %d cores and %d MB (%s)" % (need_cores, need_mb, sizes))
' "$cores" "$memory" <<< "$json")"
    if [ -n "$verdict" ]; then
      echo "cnnlens: profile '$profile' asks $cores cores and $memory MB per executor, but $verdict." >&2
      echo "  Spark would wait for resources without a word. Use the 'small' profile, or pass smaller" >&2
      echo "  --conf spark.executor.cores=/spark.executor.memory= in SPARK_SUBMIT_OPTS_EXTRA (CNNLENS_SKIP_FIT_CHECK=1 skips this check)." >&2
      exit 2
    fi
  fi
fi
exec "$submit" --class io.cnnlens.jobs.cli.Cli --properties-file "$defaults" \
  ${SPARK_SUBMIT_OPTS_EXTRA:-} "$jar" "$@"

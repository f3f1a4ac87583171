#!/usr/bin/env bash
# Submit a cnnlens job to a cluster:  deploy/spark-submit.sh <cpu|gpu> <job> [job options]
#   e.g. deploy/spark-submit.sh cpu features --images s3a://bucket/photos --out s3a://bucket/cnnlens
# Extra spark-submit flags go in SPARK_SUBMIT_OPTS_EXTRA (e.g. "--master yarn --deploy-mode cluster").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/.." && pwd)"
profile="${1:?usage: spark-submit.sh <cpu|gpu> <job> [options]}"; shift
case "$profile" in
  cpu) defaults="$home/conf/spark-defaults-cluster.conf" ;;
  gpu) defaults="$home/conf/spark-defaults-gpu.conf" ;;
  *) echo "profile must be cpu or gpu" >&2; exit 2 ;;
esac
jar="$(ls "$home"/jobs/target/cnnlens-jobs-*-job.jar 2>/dev/null | head -1)"
[ -n "$jar" ] || { echo "build the job jar first: mvn -B -DskipTests package" >&2; exit 2; }
# a client-mode driver lists the input here: give it a UTF-8 locale for file names, as bin/cnnlens does
case "$(locale charmap 2>/dev/null || true)" in UTF-8) ;; *) export LC_ALL=C.UTF-8 ;; esac
exec spark-submit --class io.cnnlens.jobs.cli.Cli --properties-file "$defaults" \
  ${SPARK_SUBMIT_OPTS_EXTRA:-} "$jar" "$@"

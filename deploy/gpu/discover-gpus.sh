#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs this
# executor may use as Spark's ResourceInformation JSON, e.g. {"name":"gpu","addresses":["0","1"]}.
set -euo pipefail
ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' | paste -sd, -)
addrs=$(echo "$ids" | sed -e 's/\([0-9][0-9]*\)/"\1"/g')
echo "{\"name\":\"gpu\",\"addresses\":[${addrs}]}"

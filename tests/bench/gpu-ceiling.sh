#!/usr/bin/env bash
# GPU ceilings for issue 14: the PyTorch forward of the project's TorchScript models on a GPU machine, the
# host->GPU copy, bf16's effect on fc7 there, JPEG decode rates (PIL full / draft on one and on every core,
# nvJPEG on the GPU) and a PyTorch user's whole GPU pipeline (tests/bench/gpu_ceiling.py says what each
# line is). The JVM pipeline does not run there (no JDK): these are the figures it is held to.
#
# Two steps:
#   tests/bench/gpu-ceiling.sh --stage <dir>
#       here (Debian python3-skimage installed): copies the eight source photographs make_photos.py crops
#       (skimage's data folder) into <dir>, a folder inside the checkout that git ignores, so that it
#       travels to the GPU machine
#   tests/bench/gpu-ceiling.sh <sources dir> [small=2000] [large=48] [out dir=$OUT or ./gpu-ceiling-out]
#       on the GPU machine (python3 with torch, torchvision, PIL, numpy): builds the seeded photo sets
#       (make_photos.py seed 1 --sources: the same first files as photo-features.sh's sets), exports
#       AlexNet and ResNet-50 with deploy/models/export_torchvision.py (seeded random weights, the
#       project's tap layout) beside the committed SqueezeNet 1.1 fixture, runs gpu_ceiling.py on the
#       three, and writes its output to <out dir>/gpu-ceiling.txt as well as stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
py="${PYTHON:-python3}"
if [ "${1:-}" = "--stage" ]; then
  dest="$2"; mkdir -p "$dest"
  src="$("$py" -c 'import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), "data"))')"
  for f in astronaut.png chelsea.png coffee.png rocket.jpg motorcycle_left.png motorcycle_right.png hubble_deep_field.jpg retina.jpg; do
    cp "$src/$f" "$dest/"
  done
  du -sh "$dest"
  exit 0
fi
sources="$1"; small="${2:-2000}"; large="${3:-48}"; out="${4:-${OUT:-$PWD/gpu-ceiling-out}}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
export PYTHONUNBUFFERED=1
t0=$SECONDS
"$py" "$here/tests/bench/photos/make_photos.py" "$work/photos" 1 --small "$small" --large "$large" --sources "$sources"
echo "photos built in $((SECONDS - t0)) s"
models=("$here/tests/src/test/resources/models/squeezenet1_1/squeezenet1_1.pt")
for arch in alexnet resnet50; do
  "$py" "$here/deploy/models/export_torchvision.py" --arch "$arch" --out "$work/models/$arch" > "$work/export-$arch.log" 2>&1 \
    && models+=("$work/models/$arch/$arch.pt") || { echo "export $arch failed:"; tail -5 "$work/export-$arch.log"; }
done
echo "models exported in $((SECONDS - t0)) s"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
"$py" "$here/tests/bench/gpu_ceiling.py" "$work/photos" "${models[@]}" ${CEILING_ARGS:-} 2>&1 | tee "$out/gpu-ceiling.txt"
echo "total $((SECONDS - t0)) s"

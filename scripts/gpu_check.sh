#!/usr/bin/env bash
# The CUDA checks of the project, on one lent GPU machine, in under 8 minutes:
#   1. install the package's missing wheels from .gpu/whl (carried; nothing is downloaded there),
#   2. `pytest -m gpu` (the tests marked as needing CUDA; 3 minutes at most),
#   3. `swaptalk bench render` at 1920x1080 with the CUDA provider (4 minutes at most),
# and writes gpu.txt, providers.txt, pytest.txt, bench_render_1080p.json and log.txt to $OUT.
#
#   here:    bash scripts/gpu_check.sh --fetch-wheels        # fills .gpu/whl (ignored by git)
#            bash scripts/gpu_check.sh --smoke               # the script itself, on this CPU
#   device:  run(command="bash scripts/gpu_check.sh", carry=[".gpu"], timeout_s=540)
#
# Status: written 2026-12-03 in a session that was lent no device, so it has not run on a GPU
# yet; `--smoke` has run here. The first session with a device should run it and record the
# bench table in docs/benchmarks.md ("Range renderer, CUDA").
#
# The device image has Python 3.12 with onnxruntime-gpu, numpy and OpenCV; the wheels fetched
# are the others the render path imports (PyAV, soundfile, platformdirs, MediaPipe's face
# models, scikit-image for the bench's public-domain face, pytest). Step 1 lists any import
# still missing in log.txt and stops there, so a short run says what to carry next time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fetch-wheels" ]; then
  mkdir -p .gpu/whl
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/whl av==18.1.0 platformdirs==4.14.5 \
    soundfile==0.14.0 cffi pycparser mediapipe==0.10.21 absl-py==2.5.1 attrs==26.1.0 \
    flatbuffers==25.12.19 scikit-image==0.26.0 lazy-loader imageio tifffile pytest==9.2.0 \
    pytest-timeout==2.4.0 pluggy iniconfig packaging
  du -sh .gpu   # run() carries 64 MiB at most
  exit 0
fi
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
out=${OUT:-runs/gpu-check}
mkdir -p "$out"
log="$out/log.txt"
: > "$log"
export PYTHONUNBUFFERED=1
if [ $smoke = 1 ]; then
  py=.venv/bin/python; provider=cpu; height=360; frames=12
else
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl \
    2>&1 | tail -n 3 | tee -a "$log"
  export PYTHONPATH=/tmp/site:$PWD
  py=python3; provider=cuda; height=1080; frames=75
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
    | tee "$out/gpu.txt"
fi
t0=$SECONDS
if ! $py - <<'PY' 2>&1 | tee "$out/providers.txt"; then
import importlib, sys
missing = []
for name in ("numpy", "av", "cv2", "soundfile", "platformdirs", "onnxruntime", "mediapipe",
             "skimage", "pytest"):
    try:
        importlib.import_module(name)
    except Exception as err:  # noqa: BLE001 - listing what the image lacks
        missing.append(f"{name} ({err})")
if missing:
    print("missing: " + "; ".join(missing))
    sys.exit(1)
import onnxruntime
print("onnxruntime", onnxruntime.__version__, onnxruntime.get_available_providers())
PY
  echo "stopped: imports missing (see providers.txt); carry their wheels in .gpu/whl" \
    | tee -a "$log"
  exit 1
fi
if [ $smoke = 0 ] && ! grep -q CUDAExecutionProvider "$out/providers.txt"; then
  echo "stopped: onnxruntime has no CUDA provider here" | tee -a "$log"
  exit 1
fi
timeout --signal=INT 180 $py -m pytest -m gpu -q -p no:cacheprovider --continue-on-collection-errors \
  tests 2>&1 \
  | tail -n 15 > "$out/pytest.txt" || true
tail -n 3 "$out/pytest.txt" | tee -a "$log"
echo "pytest -m gpu: $((SECONDS - t0)) s" | tee -a "$log"
t1=$SECONDS
width=$((height * 16 / 9 / 2 * 2))
# the renderer's provider is "auto": CUDA where onnxruntime has it (checked above)
timeout --signal=INT 240 $py -m swaptalk_desktop bench render --frames $frames --height $height \
  --json "$out/bench_render_${height}p.json" 2>&1 | tail -n 8 | tee -a "$log" || true
echo "bench render ${width}x${height} on $provider: $((SECONDS - t1)) s" | tee -a "$log"
echo "total: $((SECONDS - t0)) s" | tee -a "$log"

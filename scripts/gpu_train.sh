#!/usr/bin/env bash
# Train the code-level stages (lip-sync expert, sync module, face swap) on one lent GPU in
# under 8 minutes, from a data pack made here on the CPU:
#
#   here:    .venv/bin/swaptalk train encode --data runs/data --vqgan runs/small-v2/vqgan \
#                --pack .gpu/pack                       # codes + mel + audio times, no pixels
#            bash scripts/gpu_train.sh --fetch-wheels   # the few wheels the GPU image lacks
#            cp ../shared/weights/mobilefacenet_128d.onnx .gpu/   # identity teacher (not shipped)
#   device:  run(command="bash scripts/gpu_train.sh", carry=[".gpu"], timeout_s=560)
#   here:    put each returned STAGE-best.safetensors / STAGE-state.json as RUNS/STAGE/best.safetensors
#            and state.json beside runs/small-v2/vqgan, then `swaptalk train export`.
#
# .gpu/ is ignored by git. The stage budgets below sum to ~7 minutes of training; each stage
# checkpoints often and is cut by `timeout`, keeping its best weights so far.
# Options: --fetch-wheels (here), --smoke (CPU, a few steps each: checks the script itself).
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=.gpu/pack
if [ "${1:-}" = "--fetch-wheels" ]; then
  mkdir -p .gpu/whl
  # PyAV, platformdirs and soundfile are imported by the package and absent from the image
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/whl av==18.1.0 platformdirs==4.14.5 \
    soundfile==0.14.0 cffi pycparser
  du -sh .gpu
  exit 0
fi
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
out=${OUT:-runs/gpu-out}   # what comes back: 8 files at most
runs=${GPU_RUNS:-/tmp/gpu-runs}
[ $smoke = 1 ] && runs=runs/gpu-smoke
mkdir -p "$out" "$runs"
if [ $smoke = 1 ]; then
  py=.venv/bin/python; dev=cpu; budget=(400 400 400); steps=(20 10 4)
else
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
  py=python3; dev=cuda; budget=(110 190 150); steps=(30000 20000 8000)
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
fi
export PYTHONUNBUFFERED=1
train() {  # stage seconds steps args...
  local stage=$1 secs=$2 n=$3; shift 3
  local t0=$SECONDS
  timeout --signal=INT "$secs" $py -m swaptalk_desktop train "$stage" --data $PACK \
    --run "$runs/$stage" --vqgan $PACK/vqgan --device $dev --steps "$n" \
    --checkpoint-every 500 --validate-every 1000 --log-every 100 "$@" 2>&1 \
    | tail -n 5 | tee -a "$out/log.txt" || true
  echo "$stage: $((SECONDS - t0)) s" | tee -a "$out/log.txt"
}
train expert "${budget[0]}" "${steps[0]}" --batch 512 --lr 1e-3
train sync "${budget[1]}" "${steps[1]}" --batch 64 --expert "$runs/expert"
train swap "${budget[2]}" "${steps[2]}" --batch 64 --identity-teacher .gpu/mobilefacenet_128d.onnx
for s in expert sync swap; do
  grep '"val"' "$runs/$s/log.jsonl" | tail -n 1 | sed "s/^/$s /" | tee -a "$out/log.txt" || true
  for f in best.safetensors state.json; do
    [ -f "$runs/$s/$f" ] && cp "$runs/$s/$f" "$out/$s-$f"
  done
done

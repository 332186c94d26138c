#!/usr/bin/env bash
# The held-out measurements in models/swaptalk-small-v2/MODEL_CARD.md, for a model set:
#   bash scripts/eval_small_v2.sh SET_ID [OUT_DIR]
# Needs the dataset made by scripts/train_small_v2.sh (runs/data) and ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
set_id=${1:?model set id}
out=${2:-runs/eval}
mkdir -p "$out"
S=../shared/data
T=$S/videos/talking
# held-out photos (never trained on: a UTKFace face and an LFW person the dataset holds out)
# onto the four held-out talking-head clips, frames 0-44
photos=("$S/faces/utkface/16_0_0_20170110231219975.jpg.chip.jpg"
        "$S/faces/lfw/Bill_Clancy/Bill_Clancy_0001.jpg")
swaps=()
# CASCADE="--cascade --cascade-photo PHOTO" adds the unified-vs-cascade table
for clip in hdtf_tedlieu_60s lp_d20_young_man styletalk_feifeili_muxed vox_00098; do
  for p in "${photos[@]}"; do swaps+=(--swap "$T/$clip.mp4,$p,0,45"); done
done
.venv/bin/swaptalk eval --data runs/data --model-set "$set_id" --skip sync \
  --per-clip 24 --listen-clips-per-identity 3 "${swaps[@]}" \
  ${CASCADE:-} --json "$out/$set_id.json" 2>&1 \
  | tee "$out/$set_id.txt"

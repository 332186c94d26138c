#!/usr/bin/env bash
# The held-out measurements in models/swaptalk-small-v2/MODEL_CARD.md, for a model set:
#   bash scripts/eval_small_v2.sh SET_ID [OUT_DIR]
# Needs the dataset made by scripts/train_small_v2.sh (runs/data) and ../shared/data.
# SWAP_ONLY=1 runs the face swaps alone; CASCADE="--cascade --cascade-photo PHOTO" adds the
# unified-vs-cascade table.
set -euo pipefail
cd "$(dirname "$0")/.."
set_id=${1:?model set id}
out=${2:-runs/eval}
mkdir -p "$out"
S=../shared/data
V=$S/videos
# held-out photos (never trained on: UTKFace faces and LFW people the dataset holds out)
photos=("$S/faces/utkface/16_0_0_20170110231219975.jpg.chip.jpg"
        "$S/faces/utkface/53_1_2_20170105174705949.jpg.chip.jpg"
        "$S/faces/utkface/75_0_1_20170111202743587.jpg.chip.jpg"
        "$S/faces/lfw/Bill_Clancy/Bill_Clancy_0001.jpg"
        "$S/faces/lfw/Patricia_Heaton/Patricia_Heaton_0002.jpg"
        "$S/faces/lfw/Jacob_Frenkel/Jacob_Frenkel_0001.jpg")
# onto clips of held-out speakers: the four talking heads (frames 0-44) and five of the
# speaker clips (frames 0-29: they are short)
clips=("talking/hdtf_tedlieu_60s.mp4,0,45" "talking/lp_d20_young_man.mp4,0,45"
       "talking/styletalk_feifeili_muxed.mp4,0,45" "talking/vox_00098.mp4,0,45"
       "speakers/grid/sbia1a.mp4,0,30" "speakers/lrs3/00002.mp4,0,30"
       "speakers/mead/M030_level_3_angry_016.mp4,0,30"
       "speakers/mead/W036_level_3_happy_007.mp4,0,30" "speakers/lrw_ar/00159.mp4,0,30")
swaps=()
for c in "${clips[@]}"; do
  IFS=, read -r clip a b <<< "$c"
  for p in "${photos[@]}"; do swaps+=(--swap "$V/$clip,$p,$a,$b"); done
done
skip=(--skip sync)
[ -n "${SWAP_ONLY:-}" ] && skip+=(--skip reconstruction --skip listen)
.venv/bin/swaptalk eval --data runs/data --model-set "$set_id" "${skip[@]}" \
  --per-clip 24 --listen-clips-per-identity 3 "${swaps[@]}" \
  ${CASCADE:-} --json "$out/$set_id${SWAP_ONLY:+-swap}.json" 2>&1 \
  | tee "$out/$set_id${SWAP_ONLY:+-swap}.txt"

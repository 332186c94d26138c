#!/usr/bin/env bash
# The recipe of swaptalk-small-v2 on a CPU, from ../shared/data. Every step resumes where it
# stopped (rerun the script after an interruption); work goes to runs/ (ignored by git).
#   bash scripts/train_small_v2.sh [STEP...]     STEP: prepare vqgan expert sync swap export eval
set -euo pipefail
cd "$(dirname "$0")/.."
S=../shared/data
DATA=${DATA:-runs/data}
RUNS=${RUNS:-runs/small-v2}
THREADS=${THREADS:-2}
V1=models/swaptalk-small-v1/swaptalk-small-v1.train.safetensors
st() { .venv/bin/swaptalk "$@"; }
# Whole speakers are held out: four LRW-AR newsreader clusters, one BBC, one TED, two MEAD
# actors, one GRID speaker, and the four talking-head clips v1 held out.
HOLDOUT=ar_c005,ar_c012,ar_c019,ar_c024,lrs2_00004,lrs3_00002,M030,W036,grid_sbia1a
HOLDOUT=$HOLDOUT,hdtf_tedlieu_60s,lp_d20_young_man,styletalk_feifeili_muxed,vox_00098
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(prepare vqgan expert sync swap export eval)

for step in "${steps[@]}"; do
  case $step in
    prepare)  # 1,901 clips of 73 speakers, then 250 LFW people and 250 UTKFace faces
      st train prepare --videos $S/videos/speakers --videos $S/videos/talking \
        --identity-map $S/videos/speakers/speakers.csv --holdout-identities $HOLDOUT \
        --out "$DATA" --workers 2 --quiet
      st train prepare --videos $S/videos/speakers --videos $S/videos/talking \
        --images $S/faces/lfw --images $S/faces/utkface --max-images-per-identity 1 \
        --max-images 250 --identity-map $S/videos/speakers/speakers.csv \
        --holdout-identities $HOLDOUT --out "$DATA" --workers 1 --quiet ;;
    vqgan)  # v1's VQGAN fine-tuned on 60k frames of 50 more faces
      # (stopped at step 1131 to save CPU time; best = the step-1000 validation)
      st train vqgan --data "$DATA" --run "$RUNS/vqgan" --init $V1 --steps 2000 --lr 1e-4 \
        --validate-every 1000 --checkpoint-every 250 --cache-gb 10 --threads "$THREADS" ;;
    expert)
      st train expert --data "$DATA" --run "$RUNS/expert" --vqgan "$RUNS/vqgan" --steps 6000 \
        --validate-every 1000 --checkpoint-every 1000 --threads "$THREADS" ;;
    sync)  # code loss only (run beside the expert to fit the session's CPU time)
      st train sync --data "$DATA" --run "$RUNS/sync" --vqgan "$RUNS/vqgan" \
        --steps 2500 --validate-every 500 --checkpoint-every 250 --threads "$THREADS" ;;
    swap)
      st train swap --data "$DATA" --run "$RUNS/swap" --vqgan "$RUNS/vqgan" \
        --identity-teacher ../shared/weights/mobilefacenet_128d.onnx --steps 1500 --batch 4 \
        --validate-every 500 --checkpoint-every 250 --threads "$THREADS" ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done

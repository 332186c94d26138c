#!/usr/bin/env bash
# Creates .venv beside the repository's files and installs SwapTalk Desktop into it.
#   bash scripts/setup.sh          # the app and the command line
#   bash scripts/setup.sh --dev    # plus training (torch CPU build), tests and linters
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"

[ -x .venv/bin/python ] || "$python" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q -e ".${extra}"
# mediapipe's metadata pins numpy<2 and opencv-contrib-python; the face models we use run with
# numpy 2 and the headless OpenCV above, and a second OpenCV wheel would clash with it.
.venv/bin/python -m pip install -q --no-deps mediapipe==0.10.21
.venv/bin/python -c "import swaptalk_desktop, mediapipe, onnxruntime, av" 2>/dev/null \
  || { .venv/bin/python -c "import swaptalk_desktop, mediapipe, onnxruntime, av"; echo "setup: the installed environment does not import" >&2; exit 1; }
echo "setup: .venv ready"

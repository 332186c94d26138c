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
# mediapipe 0.10.21 with only its metadata rewritten to fit our pins (numpy 2, protobuf 6, the
# headless OpenCV): installer/mediapipe_wheel.py says why; made once into .whl/ (ignored).
mediapipe_wheel=$(.venv/bin/python installer/mediapipe_wheel.py .whl)
.venv/bin/python -m pip install -q -e ".${extra}" "$mediapipe_wheel"
.venv/bin/python -c "import swaptalk_desktop, mediapipe, onnxruntime, av" 2>/dev/null \
  || { .venv/bin/python -c "import swaptalk_desktop, mediapipe, onnxruntime, av"; echo "setup: the installed environment does not import" >&2; exit 1; }
echo "setup: .venv ready"

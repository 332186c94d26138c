#!/usr/bin/env bash
# Sets up .venv with the dev extras and runs the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q --durations=15 "$@"

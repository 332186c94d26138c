#!/usr/bin/env bash
# Builds the app's wheel and the metadata-rewritten mediapipe wheel into OUT_DIR, using PIP
# (a python -m pip command line, e.g. a fresh venv's). Used by wheel_smoke.sh and build.sh.
#   bash installer/build_wheels.sh OUT_DIR PYTHON
# The wheel is built from a copy of what git would commit (tracked files, and untracked ones
# that .gitignore does not name), so stale build/ output or local caches cannot leak into it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$1
python=$2
src=$(mktemp -d "${TMPDIR:-/tmp}/swaptalk-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
mkdir -p "$out"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$src"
rm -f "$out"/swaptalk_desktop-*.whl
"$python" -m pip wheel -q --no-deps "$src" -w "$out"
"$python" "$repo/installer/mediapipe_wheel.py" "$out" >/dev/null

#!/usr/bin/env bash
# Builds the one-folder application bundle with PyInstaller (installer/README.md says why):
#   bash installer/build.sh [BUILD_DIR]    # default build/installer (ignored by git)
# Result: BUILD_DIR/dist/swaptalk/ with the programs swaptalk and swaptalk-desktop; copy or
# archive that folder as a whole. The build venv (BUILD_DIR/venv) is kept and reused.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
build=$(mkdir -p "${1:-$repo/build/installer}" && cd "${1:-$repo/build/installer}" && pwd)
export PIP_DISABLE_PIP_VERSION_CHECK=1
t0=$(date +%s)
stamp() { echo "build: $1 ($(( $(date +%s) - t0 )) s)"; }

venv=$build/venv
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
bash "$repo/installer/build_wheels.sh" "$build/wheels" "$venv/bin/python"
# the app and its pinned dependencies exactly as a user's pip install gets them, plus PyInstaller
"$venv/bin/python" -m pip install -q "$build"/wheels/*.whl \
  pyinstaller==6.22.3 pyinstaller-hooks-contrib==2026.9
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$build"/wheels/swaptalk_desktop-*.whl
"$venv/bin/python" -m pip check
stamp "build venv ready"
rm -rf "$build/dist/swaptalk"
(cd "$build" && "$venv/bin/python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$build/dist" --workpath "$build/work" "$repo/installer/swaptalk.spec")
stamp "bundle $build/dist/swaptalk: $(du -sh "$build/dist/swaptalk" | cut -f1), $(find "$build/dist/swaptalk" -type f | wc -l) files"

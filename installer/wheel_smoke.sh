#!/usr/bin/env bash
# Is SwapTalk Desktop installable? Builds the wheel from this checkout, installs it into a fresh
# venv outside the repository and runs `swaptalk demo` there from another folder, with empty
# user folders and no checkout on sys.path.
#   bash installer/wheel_smoke.sh [WORK_DIR]   # default: a new folder under /tmp, removed after
# Needs python3 (PYTHON=...) with venv, git, and PyPI (or a pip cache that has the wheels).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
if [ -n "${1:-}" ]; then work=$(mkdir -p "$1" && cd "$1" && pwd); keep=1
else work=$(mktemp -d "${TMPDIR:-/tmp}/swaptalk-wheel.XXXXXX"); keep=0; fi
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1
t0=$(date +%s)
stamp() { echo "wheel_smoke: $1 ($(( $(date +%s) - t0 )) s)"; }

rm -rf "$work/dist" "$work/venv" "$work/run"
mkdir -p "$work/run"
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip)
bash "$repo/installer/build_wheels.sh" "$work/dist" "$work/venv/bin/python"
ls -l "$work/dist"
stamp "built $(cd "$work/dist" && ls swaptalk_desktop-*.whl)"

cd "$work/run"
t_install=$(date +%s)
"${pip[@]}" install -q "$work"/dist/*.whl
stamp "installed into a fresh venv in $(( $(date +%s) - t_install )) s"
"${pip[@]}" check
unset PYTHONPATH
export XDG_DATA_HOME="$work/run/data" XDG_CACHE_HOME="$work/run/cache" \
  XDG_CONFIG_HOME="$work/run/config" SWAPTALK_MODELS_DIR=""
"$work/venv/bin/python" - "$repo" <<'PY'
import sys
from pathlib import Path
repo = Path(sys.argv[1]).resolve()
import swaptalk_desktop
from swaptalk_desktop.core.resources import resource
from swaptalk_desktop.inference import builtin_model_dir
for what, path in (("package", Path(swaptalk_desktop.__file__)), ("models", builtin_model_dir()),
                   ("resources", Path(str(resource("styles/editor.qss"))))):
    path = path.resolve()
    assert not path.is_relative_to(repo), f"{what} loaded from the checkout: {path}"
    assert "site-packages" in path.parts, f"{what} not from the venv: {path}"
    print(f"wheel_smoke: {what} from {path}")
PY
"$work/venv/bin/swaptalk" models verify
t_demo=$(date +%s)
"$work/venv/bin/swaptalk" demo -o "$work/run/demo"
test -s "$work/run/demo/demo_result.mp4"
stamp "swaptalk demo ran in $(( $(date +%s) - t_demo )) s: $(du -h "$work/run/demo/demo_result.mp4" | cut -f1) demo_result.mp4"
QT_QPA_PLATFORM=offscreen "$work/venv/bin/python" -m swaptalk_desktop.ui.smoke 2>/dev/null \
  | tee "$work/run/editor_smoke.json" | grep -q '"ok": true' \
  || { cat "$work/run/editor_smoke.json"; echo "wheel_smoke: the editor did not come up" >&2; exit 1; }
stamp "the editor came up: $(cat "$work/run/editor_smoke.json")"
echo "wheel_smoke: ok"

#!/usr/bin/env bash
# Screenshots of the editor for the README (docs/screenshots/*.png), on a virtual X display.
# Material is generated or public domain (see scripts/screenshots.py); nothing else is shown.
set -euo pipefail
cd "$(dirname "$0")/.."

# Xvfb, plus the X client libraries Qt's xcb platform loads (present on desktops, not servers).
packages=()
command -v xvfb-run >/dev/null 2>&1 || packages+=(xvfb xauth)
libs=$(ldconfig -p || true)
for pair in libxcb-cursor.so.0:libxcb-cursor0 libxkbcommon-x11.so.0:libxkbcommon-x11-0 \
            libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 \
            libxcb-shape.so.0:libxcb-shape0 libxcb-render-util.so.0:libxcb-render-util0 \
            libxcb-image.so.0:libxcb-image0 libEGL.so.1:libegl1 libGL.so.1:libgl1; do
    case "$libs" in *"${pair%%:*}"*) ;; *) packages+=("${pair##*:}") ;; esac
done
if [ ${#packages[@]} -gt 0 ]; then
    echo "installing ${packages[*]}..."
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

export QT_QPA_PLATFORM=xcb
export SDL_AUDIODRIVER=dummy
exec xvfb-run --auto-servernum --server-args="-screen 0 1440x900x24" \
    .venv/bin/python scripts/screenshots.py "$@"

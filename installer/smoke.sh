#!/usr/bin/env bash
# Smoke test of the one-folder bundle: the bundled `swaptalk demo` renders its result, and the
# bundled editor starts under a virtual X display (Xvfb), shows its window and quits.
#   bash installer/smoke.sh [BUNDLE_DIR]   # default build/installer/dist/swaptalk
# Runs with empty user folders in a temporary folder (removed after). Prints the start times.
# Without Xvfb it installs it (Debian's xvfb, and the X client libraries Qt's xcb plug-in
# loads) when it can; SWAPTALK_SMOKE_QPA=offscreen skips the X server altogether.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(cd "${1:-$repo/build/installer/dist/swaptalk}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/swaptalk-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
unset PYTHONPATH PYTHONHOME
export XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" \
  XDG_STATE_HOME="$work/state" SWAPTALK_MODELS_DIR="" SDL_AUDIODRIVER=dummy
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "smoke: bundle $bundle ($(du -sh "$bundle" | cut -f1))"
t=$(now); "$bundle/swaptalk" --version
echo "smoke: swaptalk --version took $(since "$t") s"
"$bundle/swaptalk" models verify | tail -1
t=$(now); "$bundle/swaptalk" demo -o "$work/demo" --quiet
test -s "$work/demo/demo_result.mp4"
echo "smoke: swaptalk demo took $(since "$t") s, wrote $(du -h "$work/demo/demo_result.mp4" | cut -f1) demo_result.mp4"

qpa=${SWAPTALK_SMOKE_QPA:-xcb}
if [ "$qpa" = xcb ]; then
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
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "smoke: installing ${packages[*]} (Debian) for the virtual display"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
        else
            echo "smoke: missing ${packages[*]}; install them or set SWAPTALK_SMOKE_QPA=offscreen" >&2
            exit 1
        fi
    fi
    run_gui=(xvfb-run --auto-servernum --server-args="-screen 0 1440x900x24")
else
    run_gui=()
fi
t=$(now)
QT_QPA_PLATFORM=$qpa "${run_gui[@]}" "$bundle/swaptalk-desktop" --smoke \
  --screenshot "$work/editor.png" > "$work/editor.json" 2> "$work/editor.log" || true
seconds=$(since "$t")
if ! grep -q '"ok": true' "$work/editor.json"; then
    cat "$work/editor.json" "$work/editor.log" >&2
    echo "smoke: the bundled editor did not come up" >&2
    exit 1
fi
[ -z "${SWAPTALK_SMOKE_SCREENSHOT:-}" ] || cp "$work/editor.png" "$SWAPTALK_SMOKE_SCREENSHOT"
echo "smoke: the editor came up on $qpa in $seconds s (process start to quit): $(cat "$work/editor.json")"
echo "smoke: ok"

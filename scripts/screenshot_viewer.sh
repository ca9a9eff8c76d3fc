#!/usr/bin/env bash
# Screenshot of the real viewer under Xvfb -> docs/viewer.png
#
#   scripts/screenshot_viewer.sh [--weights W] [--seconds 5] [--out docs/viewer.png] [--calib FILE]
#
# Plays the bundled sample clip in the real window on a virtual 1600x900 X screen,
# grabs the window and saves it (python -m scripts.screenshot_viewer). Installs Xvfb and
# the X libraries PyQt5's xcb plugin needs when they are missing (Debian/Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/.."

XCB_LIBS="libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0 \
libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-util1"

install() {
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: $* (apt-get update, then apt-get install -y)"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v xvfb-run >/dev/null 2>&1; then
    echo "xvfb-run not found"
    install xvfb xauth $XCB_LIBS
elif ! ldconfig -p | grep -q libxcb-icccm.so.4; then
    echo "the X libraries of PyQt5's xcb platform plugin are missing"
    install $XCB_LIBS
fi

if [ -f .venv/bin/activate ]; then
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi
echo "running the viewer under Xvfb (screen 1600x900x24) on the bundled sample clip"
exec xvfb-run -a -s "-screen 0 1600x900x24" python -m scripts.screenshot_viewer "$@"

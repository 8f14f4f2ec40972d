#!/usr/bin/env bash
# Set up Postroom and open the desktop app on the embedded local profile
# (no root, no mail server needed). Installs Qt's few system libraries when
# they are missing, creates .venv, installs Postroom into it and starts `postroom`.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
          libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1)
bash scripts/apt-ensure.sh "${packages[@]}"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e .
exec .venv/bin/postroom "$@"

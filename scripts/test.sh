#!/usr/bin/env bash
# Set up everything the test suite needs and run all of it:
# system packages, the venv, ruff, mypy, the import-linter contract and pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/receive -x`).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(swaks m4 openssl openssh-server openssh-client strace
          xvfb xauth libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
          libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1 fonts-dejavu-core
          lintian python3-venv libpython3.11)
bash scripts/apt-ensure.sh "${packages[@]}"

# Some tests run the CLI as `nobody` (restrictmailq, restrictqrun): the checkout must be
# readable by other users. A clone made in a private temporary directory is not.
[ "$(id -u)" = 0 ] && chmod o+rx .

[ -x .venv/bin/python ] || python3 -m venv .venv
# The program agent runs |programs -- Postroom's own vacation among them -- as the
# unprivileged owner, with this interpreter: other users must be able to reach it
# (pyenv keeps it under /root). Only search permission (o+x) is added, on its folders.
if [ "$(id -u)" = 0 ]; then
  dir=$(dirname "$(readlink -f .venv/bin/python)")
  while [ "$dir" != / ]; do chmod o+x "$dir"; dir=$(dirname "$dir"); done
fi
.venv/bin/pip install -q -e '.[dev]'

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; PYTHONPATH=typecheck .venv/bin/lint-imports
echo "== pytest"; .venv/bin/pytest "$@"

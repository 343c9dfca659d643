#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (root or a sudo user). Idempotent.
#   ./dev.sh run     set up, then run the main job: the dashboard on the simulated sensor,
#                    or the terminal live view when there is no display
#   ./dev.sh test    set up, then run every test (what CI runs)
#   ./dev.sh setup   only set up (system packages, .venv, the project in editable mode)
#   ./dev.sh bench   set up, then run the benchmarks (bench/README.md)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  python3 python3-venv python3-dev          # the machine's Python 3.11 and venv
  dbus-daemon                               # private bus for the fake-BlueZ (BLE) tests and face
  libegl1 libgl1 libfontconfig1 libfreetype6 libxkbcommon0 libglib2.0-0 libdbus-1-3
  fonts-dejavu-core libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1
  libpulse0                                 # Qt libraries (notes/qt.md)
  poppler-utils                             # pdftotext/pdftoppm: report checks in tests
)

apt_setup() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "dev.sh: missing system packages (${missing[*]}) and no apt-get; install them by hand" >&2
    return 0
  fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "dev.sh: installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys, venv; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  echo "dev.sh: need Python >= 3.11 with venv" >&2; exit 3
}

venv_setup() {
  local py; py=$(pick_python)
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  local stamp=.venv/.installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "dev.sh: installing Python packages into .venv (log: .venv/pip.log)"
    if ! { .venv/bin/python -m pip install --upgrade pip &&
           .venv/bin/python -m pip install -e ".[dev]"; } >.venv/pip.log 2>&1; then
      tail -n 30 .venv/pip.log >&2
      echo "dev.sh: pip install failed (full log: .venv/pip.log)" >&2
      exit 1
    fi
    touch "$stamp"
  fi
}

setup() { apt_setup; venv_setup; }

cmd=${1:-run}; shift || true
case "$cmd" in
  setup) setup ;;
  test)
    setup
    exec .venv/bin/python -m pytest "$@"
    ;;
  bench)
    setup
    exec .venv/bin/python -m bench "$@"
    ;;
  run)
    setup
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      exec .venv/bin/posture dashboard --device "sim:desk_day?speed=1" "$@"
    else
      echo "dev.sh: no display found; starting the terminal live view (Ctrl-C to stop)"
      exec .venv/bin/posture monitor --device "sim:desk_day?speed=1" "$@"
    fi
    ;;
  *) echo "usage: ./dev.sh [run|test|setup|bench] [args...]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Prints the Python that scripts/setup.sh builds .venv with: CONTINUUM_PYTHON if set; else
# the first Python ≥ 3.11 found (python3.11 … python3 on PATH, then the system's own,
# CONTINUUM_SYSTEM_PYTHONS) whose executable is linked statically and can make a venv; else
# the first Python ≥ 3.11 found. An executable that loads libpython as a shared library
# (pyenv's --enable-shared builds, for one) runs Python code slower: on the 2-core test
# machine Debian's python3.11 (static, built with profile-guided optimisation) needed 16 %
# less CPU than pyenv's shared 3.11.7 on a pure-Python probe and 7 % less on the web and core
# tests (README, Tests). Exits 1 with a message when there is no Python 3.11 or newer.
set -euo pipefail
python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
python_static() {
  "$1" -c 'import sys
try:
    maps = open("/proc/self/maps").read()
except OSError:
    sys.exit(1)
sys.exit("libpython" in maps)' >/dev/null 2>&1
}
if [ -n "${CONTINUUM_PYTHON:-}" ]; then
  python_ok "$CONTINUUM_PYTHON" || {
    echo "CONTINUUM_PYTHON=$CONTINUUM_PYTHON is not Python 3.11 or newer" >&2; exit 1; }
  echo "$CONTINUUM_PYTHON"
  exit 0
fi
candidates=()
for name in python3.11 python3.12 python3.13 python3; do
  found="$(command -v "$name" 2>/dev/null || true)"
  if [ -n "$found" ]; then candidates+=("$found"); fi
done
for found in ${CONTINUUM_SYSTEM_PYTHONS-/usr/bin/python3.11 /usr/bin/python3.12 /usr/bin/python3.13}; do
  if [ -x "$found" ]; then candidates+=("$found"); fi
done
for candidate in "${candidates[@]}"; do
  if python_ok "$candidate" && python_static "$candidate" &&
     "$candidate" -c 'import ensurepip' >/dev/null 2>&1; then
    echo "$candidate"; exit 0
  fi
done
for candidate in "${candidates[@]}"; do
  if python_ok "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "ECMO Continuum needs Python 3.11 or newer (none found on PATH)" >&2
exit 1

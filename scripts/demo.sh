#!/usr/bin/env bash
# Quick start 1: set up and start the demo (embedded SQLite, simulated demo programme).
# Extra arguments go to `continuum demo`, e.g. scripts/demo.sh --port 8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/continuum demo "$@"

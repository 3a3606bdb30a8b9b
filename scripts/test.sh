#!/usr/bin/env bash
# Quick start 2: set up and run every test (lint, SQLite, PostgreSQL, browser).
# PostgreSQL tests need 127.0.0.1:5432 (user postgres) and browser tests /usr/bin/chromium;
# without them those tests skip, unless CONTINUUM_REQUIRE_ALL=1 (as in .ci/run) makes them fail.
# Tests run in parallel (pytest-xdist). --dist loadfile: each test file runs whole on one
# worker, so its module-scoped fixtures (a demo copy, a served app, a logged-in browser page)
# are built once; --no-loadscope-reorder keeps the order tests/conftest.py gives (the
# longest files first, waiting ones spread out: tests/file_order.py). (--dist
# loadgroup's xdist_group marks do nothing under pytest 9: xdist 3.8 renames node ids through
# an attribute pytest 9 no longer reads.) Workers: one more than the cores (CONTINUUM_TEST_WORKERS=N, or 0 for one
# process): many tests wait on PostgreSQL, started processes and the browser, and an extra
# worker runs while another waits. Each worker has its own template databases and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,load
.venv/bin/ruff check src tests benchmarks
# Compiled modules are kept (in __pycache__, ignored by git), pytest's assertion-rewritten test
# modules too: with PYTHONDONTWRITEBYTECODE set, every worker rewrote and compiled all the
# test modules again at each run (about 6 s of CPU per worker).
unset PYTHONDONTWRITEBYTECODE
workers="${CONTINUUM_TEST_WORKERS:-$(($(nproc) + 1))}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider \
  -n "$workers" --dist loadfile --no-loadscope-reorder "$@"

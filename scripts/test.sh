#!/usr/bin/env bash
# Quick start 2: set up and run every test (lint, SQLite, PostgreSQL, browser).
# PostgreSQL tests need 127.0.0.1:5432 (user postgres) and browser tests /usr/bin/chromium;
# without them those tests skip, unless CONTINUUM_REQUIRE_ALL=1 (as in .ci/run) makes them fail.
# Tests run in parallel (pytest-xdist, one worker per core; CONTINUUM_TEST_WORKERS=N or 0 to
# change it). --dist loadgroup keeps every browser test on one worker (tests/e2e/conftest.py),
# so one Chromium runs beside the other tests (CONTINUUM_BROWSER_GROUPS=2 splits them in two);
# each worker has its own template databases.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,load
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest -q -p no:cacheprovider \
  -n "${CONTINUUM_TEST_WORKERS:-auto}" --dist loadgroup "$@"

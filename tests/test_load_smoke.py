"""The load test's runner end to end, small: benchmarks/load/run_load.py for 10 s with 5
clinicians and 10 ORU^R01 messages/s against two app processes and the MLLP listener on a
fresh PostgreSQL database. Proves the runner, the Locust scenario and its forms still fit the
app (a changed form makes its POST fail here), with no error anywhere. The real figures come
from the on-demand 10-minute run (README, Performance)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need, postgres_available

RUNNER = Path(__file__).resolve().parent.parent / "benchmarks" / "load" / "run_load.py"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_load_runner_smoke_has_no_errors(tmp_path: Path) -> None:
    # Not imported here: locust patches the standard library (gevent) as it is imported.
    need(
        importlib.util.find_spec("locust") is not None,
        "the optional 'load' dependencies (pip install -e '.[load]'; scripts/test.sh does)",
    )
    need(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    out = tmp_path / "load.json"
    args = [
        "--seconds",
        "10",
        "--users",
        "5",
        "--oru-rate",
        "10",
        "--wait",
        "0.5,1.5",
        "--spawn-rate",
        "5",
        "--json",
        str(out),
    ]
    done = subprocess.run(
        [sys.executable, str(RUNNER), *args], capture_output=True, text=True, timeout=400
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["errors"] == 0, result["failures"] or result["server_errors"]
    counts = {f"{r['kind']} {r['name']}": r["count"] for r in result["rows"]}
    for entry in (
        "POST /login",
        "GET /rounds (board)",
        "GET /runs/[id]",
        "MLLP ORU^R01 send→AA (committed)",
        "INGEST send→visible (DB poll)",
    ):
        assert counts.get(entry, 0) > 0, (entry, counts)
    assert counts["MLLP ORU^R01 send→AA (committed)"] >= 50  # ~10/s for 10 s
    assert "slowest page p95" in done.stdout and "ingest lag" in done.stdout

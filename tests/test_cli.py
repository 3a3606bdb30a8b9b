"""The stable command line (docs/contracts.md §4), run as a user would: the installed
`continuum` command against the database named by CONTINUUM_DATABASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONTINUUM = str(Path(sys.executable).parent / "continuum")


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": url}
    return subprocess.run([CONTINUUM, *args], env=env, capture_output=True, text=True, timeout=120)


def test_script_the_basics_on_a_new_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(url, "db", "upgrade").returncode == 0
    added = run(
        url,
        "patient",
        "add",
        "--mrn",
        "MRN9",
        "--name",
        "Cli Person",
        "--birth-date",
        "1980-02-03",
        "--sex",
        "female",
        "--height-cm",
        "170",
        "--weight-kg",
        "65",
    )
    assert added.returncode == 0, added.stderr
    started = run(
        url,
        "run",
        "start",
        "--mrn",
        "MRN9",
        "--support",
        "pulmonary",
        "--mode",
        "VV",
        "--start",
        "2026-01-02T03:04:00Z",
    )
    assert started.returncode == 0, started.stderr
    shown = run(url, "run", "show", started.stdout.strip(), "--format", "json")
    data = json.loads(shown.stdout)
    assert {
        "id",
        "patient_id",
        "support",
        "mode",
        "started_at",
        "observations",
        "open_alerts",
    } <= set(data)
    assert (data["mode"], data["support"], data["started_at"]) == (
        "VV",
        "pulmonary",
        "2026-01-02T03:04:00+00:00",
    )
    assert data["patient_id"] == int(added.stdout)


@pytest.mark.parametrize(
    "args, message",
    [
        (["patient", "add", "--mrn", "M1", "--name", "X", "--sex", "robot"], "sex"),
        (
            ["patient", "add", "--mrn", "M1", "--name", "X", "--sex", "male", "--height-cm", "900"],
            "height_cm",
        ),
        (
            ["run", "start", "--mrn", "NOPE", "--support", "pulmonary", "--mode", "VV"],
            "no patient with MRN NOPE",
        ),
        (["run", "start", "--mrn", "M1", "--support", "lunar", "--mode", "VV"], "support_type"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(sqlite_url: str, args, message):
    result = run(sqlite_url, *args)  # a migrated database (the tests' template copy)
    assert result.returncode in (1, 2) and message in result.stderr
    assert "Traceback" not in result.stderr
    if args[0] == "patient" or "lunar" in args:
        assert result.returncode == 2


def test_simulate_and_show_help(tmp_path: Path) -> None:
    out = tmp_path / "sim.csv"
    result = run(
        "sqlite:///unused.db",
        "simulate",
        "--scenario",
        "hemolysis",
        "--mode",
        "VV",
        "--hours",
        "6",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("time,")
    assert json.loads(out.with_suffix(".truth.json").read_text())

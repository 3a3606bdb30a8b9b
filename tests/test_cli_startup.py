"""Start-up stays light: `continuum --help`, `continuum calc`, `replay --help`, `simulate --list`
and `evaluate --help` import no web or database code (structural, not timed; the timing is
benchmarks/bench_startup.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "plotly", "jinja2", "uvicorn")
PROBE = """
import atexit, sys
atexit.register(lambda: print("MODULES " + " ".join(sorted(sys.modules)), file=sys.stderr))
from continuum.cli import main
main(sys.argv[1:])
"""


def imported_by(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m.startswith("continuum.web")}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["calc", "bsa", "--json", '{"height_cm": 175, "weight_kg": 70}'],
        ["calc", "--list"],
        ["replay", "--help"],
        ["simulate", "--list"],
        ["evaluate", "--help"],
        ["db", "--help"],
        ["quality", "--help"],
        ["proxy-config", "--upstream", "127.0.0.1:8001", "--upstream", "127.0.0.1:8002"],
        ["backup", "--help"],
        ["restore", "--help"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_command_imports_no_web_or_database_code(args: list[str]) -> None:
    modules = imported_by(*args)
    assert "continuum.cli" in modules  # the probe really ran the command line
    assert heavy(modules) == set()


def test_help_does_not_load_numpy_either() -> None:
    modules = imported_by("--help")
    assert "numpy" not in modules and "continuum.calculators" not in modules


def test_the_probe_sees_a_database_command_load_the_database() -> None:
    """Guards the probe itself: a command that needs SQLAlchemy is seen loading it."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CONTINUUM_DATABASE_URL": "sqlite://", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "sqlalchemy" in result.stderr.split("MODULES ", 1)[1].split()


def test_a_database_command_installs_the_hooks_without_loading_what_they_call(
    sqlite_url: str,
) -> None:
    """Every database command installs every domain's hooks; the register of adverse events,
    its screen and the transport service load only when a hook is called (they were ~120 ms
    of each command's start-up), while the hooks themselves are installed."""
    probe = PROBE.replace(
        "main(sys.argv[1:])",
        "from continuum.core import run_view, transfers\n"
        "try:\n    main(sys.argv[1:])\nfinally:\n"
        "    print('HOOKS', len(run_view.ADVERSE_EVENT_OFFERS), len(transfers.ARRIVAL_PROVIDERS),"
        " file=sys.stderr)\n",
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "run", "show", "1", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CONTINUUM_DATABASE_URL": sqlite_url, "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    modules = set(result.stderr.split("MODULES ", 1)[1].split())
    assert "sqlalchemy" in modules and "continuum.quality.hooks" in modules
    late = {"continuum.quality.adverse_events", "continuum.quality.possible_events",
            "continuum.transport.service"}  # fmt: skip
    assert modules & late == set()
    hooks = next(x for x in result.stderr.splitlines() if x.startswith("HOOKS "))
    assert hooks.split()[1:] == ["1", "1"]  # the quality and transport hooks are in place

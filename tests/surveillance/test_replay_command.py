"""`continuum replay FILE.csv --mode VV|VA [--format json|text]` without a database."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from surveillance_shapes import minute_times, ramp, step
from typer.testing import CliRunner

from continuum.commands.replay import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # keeps `replay` a sub-command
        """test app"""

    return app


def write_run(path: Path, extra_header: str = "", extra_cell: str = "") -> Path:
    times = minute_times()
    post = ramp(230, 215)
    access = step(-40, -120, 30)
    lines = ["time,blood_flow,pump_speed,p_access,p_preoxy,p_postoxy" + extra_header]
    for i, tm in enumerate(times):
        stamp = np.datetime_as_string(tm, unit="s") + "Z"
        lines.append(f"{stamp},4.5,3500,{access[i]:.1f},250,{post[i]:.1f}{extra_cell}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_output_is_the_contract_alert_list(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["replay", str(write_run(tmp_path / "r.csv")), "--mode", "VV", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    alerts = json.loads(result.stdout)
    assert {a["detector"] for a in alerts} == {
        "transmembrane_gradient_rise",
        "access_insufficiency",
    }
    assert all(
        set(a) == {"detector", "severity", "raised_at", "cleared_at", "summary", "evidence"}
        for a in alerts
    )


def test_text_output_is_readable(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(write_run(tmp_path / "r.csv")), "--mode", "va"])
    assert result.exit_code == 0
    assert "[CRITICAL] transmembrane_gradient_rise" in result.stdout
    assert "rule:" in result.stdout


def test_reader_problems_go_to_stderr_and_json_stays_clean(
    app: typer.Typer, tmp_path: Path
) -> None:
    path = write_run(tmp_path / "r.csv", ",mystery", ",1")
    result = CliRunner().invoke(app, ["replay", str(path), "--mode", "VV", "--format", "json"])
    assert result.exit_code == 0
    json.loads(result.stdout)
    assert "unknown column 'mystery'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "ECMO"], "--mode must be one of VV, VA"),
        (["--mode", "VV", "--format", "xml"], "--format must be json or text"),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    app: typer.Typer, tmp_path: Path, args: list, message: str
) -> None:
    result = CliRunner().invoke(app, ["replay", str(write_run(tmp_path / "r.csv")), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "empty"),
        ("flow,time\n1,2\n", "first column"),
        ("time,blood_flow\nnot-a-time,4.5\n", "no readable observations"),
    ],
)
def test_bad_files_exit_2_with_a_message(
    app: typer.Typer, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(path), "--mode", "VV"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)

"""`continuum simulate` on a Typer app built here (the lead wires it into the main CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from continuum.commands.simulate import register, truth_path


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """test app"""

    return app


runner = CliRunner()


def test_list(app: typer.Typer) -> None:
    result = runner.invoke(app, ["simulate", "--list"])
    assert result.exit_code == 0
    for name in ("control_vv", "control_va", "oxygenator_failure", "differential_hypoxia"):
        assert name in result.output
    data = json.loads(runner.invoke(app, ["simulate", "--list", "--json"]).output)
    dh = next(s for s in data if s["name"] == "differential_hypoxia")
    assert dh["modes"] == ["VA"] and dh["default_mode"] == "VA"


def test_writes_csv_and_truth(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "run.csv"
    args = [
        "simulate",
        "--scenario",
        "hemolysis",
        "--mode",
        "VA",
        "--hours",
        "30",
        "--seed",
        "4",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "sub" / "run.truth.json").read_text())
    assert truth["faults"][0]["kind"] == "hemolysis"
    assert out.read_text().startswith("time,")
    first = out.read_bytes()
    assert runner.invoke(app, args).exit_code == 0
    assert out.read_bytes() == first


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--scenario", "nope"], ["scenario", "nope", "control_vv"]),
        (["--scenario", "recirculation", "--mode", "VA"], ["mode", "VA", "VV"]),
        (["--scenario", "control_vv", "--hours", "0"], ["hours", "0"]),
        (["--scenario", "control_vv", "--hours", "2161"], ["hours", "2161", "2160"]),
        (["--scenario", "control_vv", "--hours", "-3"], ["hours"]),
    ],
)
def test_bad_input_exit_2(
    app: typer.Typer, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    result = runner.invoke(app, ["simulate", *args, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output
    assert not (tmp_path / "x.csv").exists()


def test_missing_out_is_usage_error(app: typer.Typer) -> None:
    result = runner.invoke(app, ["simulate", "--scenario", "control_vv"])
    assert result.exit_code == 2 and "out" in result.output


def test_truth_path() -> None:
    assert truth_path(Path("/a/b/run.csv")) == Path("/a/b/run.truth.json")
    assert truth_path(Path("run.CSV")) == Path("run.truth.json")
    assert truth_path(Path("run.data")) == Path("run.data.truth.json")

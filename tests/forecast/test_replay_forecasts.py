"""`continuum replay FILE --format json --forecasts`: the forecasts made along the run."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from continuum.commands.replay import register
from continuum.simulator import simulate


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.callback()
    def main() -> None:  # keeps `replay` a sub-command
        """test app"""

    return a


def test_forecasts_listed_along_the_run(tmp_path: Path) -> None:
    csv = simulate("oxygenator_failure", "VV", 48, 1001).to_csv(tmp_path / "run.csv")
    args = ["replay", str(csv), "--mode", "VV", "--format", "json", "--forecasts", "--every", "6"]
    res = CliRunner().invoke(app(), args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == {"alerts", "forecasts"}
    made_at = sorted({f["made_at"] for f in out["forecasts"]})
    assert made_at[0] == "2026-01-05T14:00:00Z" and len(made_at) == 7  # every 6 h
    assert {f["criterion"] for f in out["forecasts"]} == {
        "dp_per_flow", "post_oxy_po2", "o2_transfer", "pump_drift", "pfhb",
    }  # fmt: skip
    made = [f for f in out["forecasts"] if f["status"] == "forecast"]
    assert made, "an oxygenator failing over 48 h yields at least one forecast"
    for f in made:
        assert f["interval_earliest"] <= f["predicted_crossing"]
        assert f["made_at"] < f["predicted_crossing"]
        assert f["interval_level"] == 0.8
    refused = [f for f in out["forecasts"] if f["status"] == "refused"]
    assert all(f["reason"] and f["predicted_crossing"] is None for f in refused)


def test_without_the_flag_the_contract_is_unchanged(tmp_path: Path) -> None:
    csv = simulate("control_vv", "VV", 12, 1001).to_csv(tmp_path / "run.csv")
    res = CliRunner().invoke(app(), ["replay", str(csv), "--mode", "VV", "--format", "json"])
    assert res.exit_code == 0
    assert isinstance(json.loads(res.stdout), list)


def test_bad_interval_is_refused(tmp_path: Path) -> None:
    csv = simulate("control_vv", "VV", 12, 1001).to_csv(tmp_path / "run.csv")
    res = CliRunner().invoke(
        app(), ["replay", str(csv), "--mode", "VV", "--forecasts", "--every", "0"]
    )
    assert res.exit_code == 2
    assert "--every must be 0.25–24 hours, not 0" in res.stderr

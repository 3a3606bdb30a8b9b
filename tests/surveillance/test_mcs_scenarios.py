"""The simulator's mechanical-circulatory-support scenarios fire their detectors in replay:
the ECPELLA suction and purge-obstruction runs and the VA LV-distension run, from the
simulator's arrays and through its console CSV and `continuum replay`; the other scenarios'
signals are untouched by the device model (it has its own random stream)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from continuum.commands.replay import register
from continuum.simulator import list_scenarios, simulate
from continuum.surveillance import RunSeries, run_all_detectors

EXPECTED = {
    "ecpella_impella_suction": ("impella_flow_low", "critical"),
    "ecpella_purge_obstruction": ("impella_purge_pressure", "critical"),
    "va_lv_distension": ("lv_unloading_context", "info"),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_scenario_fires_its_detector_after_onset_and_it_clears_when_fixed(name: str) -> None:
    detector, severity = EXPECTED[name]
    run = simulate(name, "VA", 72, 7)
    [truth] = run.truth
    assert truth.kind == detector
    alerts = [
        a
        for a in run_all_detectors(RunSeries.from_grid(run.times, run.signals, "VA"))
        if a.detector == detector
    ]
    assert [a.severity for a in alerts] == [severity]
    onset = np.datetime64(truth.onset.replace(tzinfo=None), "ms")
    assert alerts[0].raised_at > onset
    if truth.ended_at is not None:  # repositioned / purge changed: the alert clears
        assert alerts[0].cleared_at is not None


def test_the_scenarios_are_in_the_library_with_their_detectors() -> None:
    info = {s.name: s.as_dict() for s in list_scenarios()}
    for name, (detector, _) in EXPECTED.items():
        assert info[name]["detectors"] == [detector] and info[name]["modes"] == ["VA"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fault_free_ecpella_run_is_quiet(seed: int) -> None:
    run = simulate("control_ecpella", "VA", 72, seed)
    assert {"impella_flow", "impella_purge_pressure", "sbp", "dbp"} <= set(run.signals)
    alerts = run_all_detectors(RunSeries.from_grid(run.times, run.signals, "VA"))
    assert [a.to_dict() for a in alerts] == []


def test_a_control_run_carries_no_device_signals() -> None:
    control = simulate("control_va", "VA", 6, 1)
    assert not {"impella_flow", "sbp"} & set(control.signals)


def test_replaying_the_console_csv_shows_the_impella_alert(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # keeps `replay` a sub-command
        """test app"""

    run = simulate("ecpella_impella_suction", "VA", 48, 3)
    csv = run.to_csv(tmp_path / "ecpella.csv")
    assert "impella_flow" in csv.read_text().splitlines()[0]
    result = CliRunner().invoke(app, ["replay", str(csv), "--mode", "VA", "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    alerts = found["alerts"] if isinstance(found, dict) else found
    assert any(a["detector"] == "impella_flow_low" for a in alerts)

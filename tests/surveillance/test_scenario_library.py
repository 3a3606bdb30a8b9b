"""Whole-run replay of the simulator's scenario library (ground truth known): every injected
fault is found by its detector, and the fault-free controls raise no warning or critical
alert. Seed 1, 72 hours, default mode of each scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

simulator = pytest.importorskip("continuum.simulator")

from continuum.surveillance import RunSeries, run_all_detectors  # noqa: E402

SCENARIOS = [(i.name, m) for i in simulator.list_scenarios() for m in i.modes]


def replay(name: str, mode: str, seed: int = 1):  # type: ignore[no-untyped-def]
    run = simulator.simulate(name, mode, 72, seed)
    return run, run_all_detectors(RunSeries.from_grid(run.times, run.signals, mode))


@pytest.mark.parametrize(("name", "mode"), SCENARIOS, ids=[f"{n}-{m}" for n, m in SCENARIOS])
def test_every_injected_fault_is_found(name: str, mode: str) -> None:
    run, alerts = replay(name, mode)
    if any(f.kind == "flow_below_target" for f in run.truth):  # judged against a flow goal
        from continuum.surveillance.series import RunTargets

        goal = 0.85 * float(run.clean["blood_flow"][0])  # as a training run's (FLOW_GOAL)
        series = RunSeries.from_grid(run.times, run.signals, mode)
        alerts = run_all_detectors(series, targets=RunTargets(flow_goal=goal))
    for fault in run.truth:
        onset = np.datetime64(fault.onset.replace(tzinfo=None), "ms")
        found = [
            a
            for a in alerts
            if a.detector == fault.kind and (a.cleared_at is None or a.cleared_at > onset)
        ]
        assert found, f"{fault.kind} not found in {name}/{mode}"


@pytest.mark.parametrize("name", ["control_vv", "control_va"])
def test_controls_are_quiet(name: str) -> None:
    mode = "VV" if name.endswith("vv") else "VA"
    _, alerts = replay(name, mode)
    assert [a.to_dict() for a in alerts if a.severity != "info"] == []


def test_the_simulators_console_csv_replays_like_its_arrays(tmp_path: Path) -> None:
    from continuum.ingest.console_csv import read_console_csv

    run, direct = replay("oxygenator_clot_consumption", "VV")
    console = read_console_csv(run.to_csv(tmp_path / "run.csv"))
    assert console.report.clean, console.report.text()
    from_file = run_all_detectors(RunSeries("VV", console.series))
    assert [(a.detector, a.severity) for a in from_file] == [
        (a.detector, a.severity) for a in direct
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 1001])
def test_weaning_trials_raise_no_alert(seed: int) -> None:
    """VV weaning (FdO2 0.6, sweep 2.5 → 1 → off, a failed then a passed sweep-off trial):
    a small pre−post pCO2 difference at a low sweep, gases drawn before a sweep change and
    converging saturations with the sweep off are not circuit faults (docs/clinical/reference.md
    §4.1)."""
    run, alerts = replay("weaning_vv", "VV", seed)
    assert run.truth == []
    assert [a.to_dict() for a in alerts] == []


def test_weaning_is_scored_as_a_control() -> None:
    info = next(i for i in simulator.list_scenarios() if i.name == "weaning_vv")
    assert info.evaluated and info.faults == ()

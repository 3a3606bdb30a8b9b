"""`continuum evaluate` forecast section: forecasts 6, 12 and 24 h before the true crossing
on the scenario library, scored; false forecasts on fault-free controls."""

from __future__ import annotations

import numpy as np

from continuum.commands.evaluate import run_evaluation
from continuum.forecast.evaluation import ForecastScore, true_crossing
from continuum.simulator import simulate
from continuum.surveillance import RunSeries


def test_true_crossing_of_a_failing_oxygenator_matches_the_simulator_truth() -> None:
    sim = simulate("oxygenator_failure", "VV", 72, 1001)
    clean = RunSeries.from_grid(sim.times, sim.clean, "VV")
    crossed = true_crossing(clean, "post_oxy_po2")
    truth = next(t for t in sim.truth if t.kind == "oxygenator_dysfunction")
    gap_h = abs((crossed - np.datetime64(truth.obvious_at.replace(tzinfo=None), "ms"))
                / np.timedelta64(1, "h"))  # fmt: skip
    assert gap_h < 1.0  # pO2 < 200 at FdO2 1.0 (the pCO2 rule did not come first here)
    control = simulate("control_vv", "VV", 72, 1001)
    assert (
        true_crossing(RunSeries.from_grid(control.times, control.clean, "VV"), "dp_per_flow")
        is None
    )


def test_fault_run_is_scored_at_each_lead() -> None:
    sim = simulate("oxygenator_failure", "VV", 72, 1002)
    score = ForecastScore()
    end = np.datetime64(sim.truth[0].ended_at.replace(tzinfo=None), "ms")
    score.score_fault_run(
        "oxygenator_failure",
        RunSeries.from_grid(sim.times, sim.signals, "VV"),
        RunSeries.from_grid(sim.times, sim.clean, "VV"),
        end,
    )
    rows = score.result()["faults"]
    po2 = {r["lead_h"]: r for r in rows if r["criterion"] == "post_oxy_po2"}
    assert set(po2) == {6, 12, 24}
    for r in po2.values():
        assert r["crossings"] == 1
        assert r["forecasts_made"] + sum(r["refused"].values()) == 1
        if r["forecasts_made"]:
            assert r["median_abs_error_h"] >= 0 and 0 <= r["interval_coverage"] <= 1


def test_evaluation_has_a_forecast_section() -> None:
    result = run_evaluation([1001], 48, progress=False, forecast=True)
    fc = result["forecast"]
    assert fc["leads_h"] == [6, 12, 24] and fc["interval_level"] == 0.8
    # control_vv, control_va, weaning_vv, control_ecpella: 48 h each
    assert fc["controls"]["run_days"] == 8.0
    assert set(fc["controls"]["criteria"]) == {
        "dp_per_flow", "post_oxy_po2", "o2_transfer", "pump_drift", "pfhb",
    }  # fmt: skip
    for c in fc["controls"]["criteria"].values():
        assert 0 <= c["false_forecasts"] <= c["forecasts_asked"]
    assert fc["faults"] and all(r["crossings"] >= 1 for r in fc["faults"])
    assert "forecast" not in run_evaluation([1001], 12, progress=False)

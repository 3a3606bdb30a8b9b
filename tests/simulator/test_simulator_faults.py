"""Each fault moves the signals it should and leaves unrelated ones alone (vs the control)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from continuum.simulator import SimulatedRun

Sim = Callable[..., SimulatedRun]


def late(run: SimulatedRun, code: str, source: str = "clean") -> float:
    """Mean over 72–84 % of the run (after the fault has grown, before any fix)."""
    n = run.times.size
    data = run.clean if source == "clean" else run.derived
    return float(np.mean(data[code][int(0.72 * n) : int(0.84 * n)]))


def observed_late(run: SimulatedRun, code: str) -> float:
    n = run.times.size
    x = run.signals[code][int(0.6 * n) : int(0.86 * n)]
    return float(np.nanmean(x))


def dp_per_flow(run: SimulatedRun) -> float:
    n = run.times.size
    w = slice(int(0.72 * n), int(0.84 * n))
    dp = run.clean["p_preoxy"][w] - run.clean["p_postoxy"][w]
    return float(np.mean(dp / run.clean["blood_flow"][w]))


def assert_unchanged(fault: SimulatedRun, control: SimulatedRun, codes: list[str]) -> None:
    """Identical to the control (same seed) until the scenario's own interventions (≥ 85 %)."""
    w = slice(0, int(0.85 * fault.times.size))
    for code in codes:
        assert np.array_equal(fault.clean[code][w], control.clean[code][w]), code
        same = np.array_equal(fault.signals[code][w], control.signals[code][w], equal_nan=True)
        assert same, code


def pair(sim: Sim, scenario: str, mode: str) -> tuple[SimulatedRun, SimulatedRun]:
    return sim(scenario, mode), sim(f"control_{mode.lower()}", mode)


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_oxygenator_failure(sim: Sim, mode: str) -> None:
    f, c = pair(sim, "oxygenator_failure", mode)
    assert dp_per_flow(f) > 1.3 * dp_per_flow(c)
    assert late(f, "post_oxy_po2") < late(c, "post_oxy_po2") - 100
    assert late(f, "post_oxy_pco2") > late(c, "post_oxy_pco2") + 5
    assert late(f, "ml_o2_transfer", "derived") < late(c, "ml_o2_transfer", "derived")
    assert observed_late(f, "post_oxy_po2") < observed_late(c, "post_oxy_po2") - 80
    assert_unchanged(f, c, ["anti_xa", "aptt", "pfhb", "ldh", "sweep_flow", "sweep_fio2"])
    # The oxygenator change resets the membrane lung.
    end = f.times.size - 1
    dp_end = (f.clean["p_preoxy"][end] - f.clean["p_postoxy"][end]) / f.clean["blood_flow"][end]
    dp_ctl = (c.clean["p_preoxy"][end] - c.clean["p_postoxy"][end]) / c.clean["blood_flow"][end]
    assert dp_end == pytest.approx(dp_ctl, rel=0.02)
    assert f.clean["post_oxy_po2"][end] == pytest.approx(c.clean["post_oxy_po2"][end], rel=0.05)


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_pump_thrombosis(sim: Sim, mode: str) -> None:
    f, c = pair(sim, "pump_thrombosis", mode)
    ratio_f = late(f, "pump_speed") / late(f, "blood_flow")
    ratio_c = late(c, "pump_speed") / late(c, "blood_flow")
    assert ratio_f > 1.1 * ratio_c
    assert late(f, "blood_flow") == pytest.approx(late(c, "blood_flow"), rel=0.05)
    assert late(f, "pfhb") > 50 and late(f, "ldh") > 2 * late(c, "ldh")
    assert observed_late(f, "pfhb") > 3 * observed_late(c, "pfhb")
    assert late(f, "post_oxy_po2") == pytest.approx(late(c, "post_oxy_po2"), rel=0.05)
    assert_unchanged(f, c, ["anti_xa", "aptt", "sweep_flow"])


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_hemolysis(sim: Sim, mode: str) -> None:
    f, c = pair(sim, "hemolysis", mode)
    assert late(f, "pfhb") > 50 > late(c, "pfhb")
    assert late(f, "ldh") > late(c, "ldh") + 300
    assert late(f, "hb") < late(c, "hb")
    assert observed_late(f, "ldh") > observed_late(c, "ldh")
    assert_unchanged(
        f,
        c,
        [
            "blood_flow",
            "pump_speed",
            "p_access",
            "p_preoxy",
            "p_postoxy",
            "anti_xa",
            "d_dimer",
            "fibrinogen",
            "platelets",
        ],
    )


def test_recirculation(sim: Sim) -> None:
    f, c = pair(sim, "recirculation", "VV")
    assert late(f, "pre_oxy_so2") > late(c, "pre_oxy_so2") + 3
    assert late(f, "sao2") < late(c, "sao2") - 5
    assert late(f, "svo2") < late(c, "svo2")
    assert late(f, "recirculation", "derived") > 0.25
    assert observed_late(f, "pre_oxy_so2") > observed_late(c, "pre_oxy_so2")
    assert observed_late(f, "spo2") < observed_late(c, "spo2")
    assert_unchanged(
        f,
        c,
        [
            "blood_flow",
            "pump_speed",
            "p_access",
            "p_preoxy",
            "p_postoxy",
            "pfhb",
            "d_dimer",
            "anti_xa",
        ],
    )


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_access_insufficiency(sim: Sim, mode: str) -> None:
    f, c = pair(sim, "access_insufficiency", mode)
    assert late(f, "p_access") < -100 and late(f, "p_access") < late(c, "p_access") - 50
    n = f.times.size
    w = slice(int(0.72 * n), int(0.84 * n))
    wobble_f = np.nanstd(np.diff(f.signals["blood_flow"][w]))
    wobble_c = np.nanstd(np.diff(c.signals["blood_flow"][w]))
    assert wobble_f > 3 * wobble_c  # chattering
    assert np.nanmin(f.signals["p_access"][w]) < -150
    # The fluid bolus fixes it.
    assert f.clean["p_access"][-1] > -100
    assert_unchanged(f, c, ["anti_xa", "d_dimer", "fibrinogen", "platelets", "sweep_flow"])


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_circuit_thrombosis(sim: Sim, mode: str) -> None:
    f, c = pair(sim, "circuit_thrombosis", mode)
    assert late(f, "d_dimer") > 25 > late(c, "d_dimer")
    assert late(f, "fibrinogen") < late(c, "fibrinogen") - 1.5
    assert late(f, "platelets") < 0.7 * late(c, "platelets")
    assert dp_per_flow(f) > 1.15 * dp_per_flow(c)
    assert observed_late(f, "d_dimer") > observed_late(c, "d_dimer") + 10
    assert_unchanged(f, c, ["anti_xa", "sweep_flow", "sweep_fio2"])


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_anticoagulation_drift(sim: Sim, mode: str) -> None:
    f, c = pair(sim, "anticoagulation_drift", mode)
    assert 0.3 <= late(c, "anti_xa") <= 0.7
    assert late(f, "anti_xa") < 0.3
    assert late(f, "aptt") < late(c, "aptt")
    assert observed_late(f, "anti_xa") < 0.3
    # Heparin increased near the end: activity climbs back.
    assert f.clean["anti_xa"][-1] > late(f, "anti_xa") + 0.05
    assert_unchanged(f, c, ["pfhb", "ldh", "d_dimer", "platelets", "fibrinogen", "sweep_flow"])


def test_differential_hypoxia(sim: Sim) -> None:
    f, c = pair(sim, "differential_hypoxia", "VA")
    assert late(f, "spo2_right") < 90 and late(c, "spo2_right") > 97
    assert late(f, "post_oxy_so2") > 95
    assert late(f, "sao2") > 90  # lower body still perfused by the circuit
    assert late(f, "pao2_right_radial") < late(c, "pao2_right_radial") - 100
    assert observed_late(f, "spo2_right") < observed_late(c, "spo2_right") - 5
    assert_unchanged(f, c, ["pfhb", "d_dimer", "anti_xa", "sweep_flow"])


def test_combined_scenarios(sim: Sim) -> None:
    f, c = pair(sim, "oxygenator_clot_consumption", "VV")
    assert late(f, "d_dimer") > 25 and late(f, "post_oxy_po2") < 250
    f, c = pair(sim, "low_heparin_pump_clot", "VA")
    assert late(f, "anti_xa") < 0.3 and late(f, "pfhb") > 50
    f, c = pair(sim, "hypovolaemia_recirculation", "VV")
    n = f.times.size
    assert np.min(f.clean["p_access"][: n // 2]) < -100
    assert f.clean["pre_oxy_so2"][-1] > c.clean["pre_oxy_so2"][-1] + 3


def test_controls_carry_artefacts_but_no_faults(sim: Sim) -> None:
    for mode in ("VV", "VA"):
        c = sim(f"control_{mode.lower()}", mode)
        assert c.truth == []
        kinds = {a["kind"] for a in c.artefacts}
        assert {"spike", "dropout", "flow_check"} <= kinds
        assert np.isnan(c.signals["blood_flow"]).any()

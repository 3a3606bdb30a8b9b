"""Gas-exchange calibration: worked examples (docs/clinical/reference.md §3.8) and weaning.

Steady states of a typical adult on VV (80 kg, 175 cm, Hb 10 g/dL, VO2 264 mL/min, cardiac
output 7.7 L/min, recirculation 8 %) for blood flow, sweep, FdO2 and native lung function;
the expected ranges are the clinical ones the model is calibrated to, not its own output.
"""

from __future__ import annotations

import numpy as np
import pytest

from continuum.simulator import simulate
from continuum.simulator.blood import content, saturation_from_po2
from continuum.simulator.circuit import (
    co2_fraction_kept,
    default_circuit,
    o2_transfer_limit,
    post_oxygenator_po2,
    sweep_supply,
)
from continuum.simulator.oxygenation import GasInputs, solve
from continuum.simulator.patient import default_patient
from continuum.simulator.ventilation import mechanics
from continuum.vocabulary import CODES
from continuum.weaning import criteria as cr


def a(v: float) -> np.ndarray:
    return np.array([float(v)])


def steady(
    flow: float, sweep: float, fdo2: float, lung: float, spontaneous: bool = False
) -> dict[str, float]:
    p = default_patient("VV")
    g = GasInputs(
        mode="VV",
        flow=a(flow),
        cardiac_output=a(p.native_heart * p.normal_cardiac_output * p.hyperdynamic),
        recirculation=a(0.08),
        shunt=a(1.0 - lung),
        hb=a(p.hb_g_dl),
        vo2=a(p.vo2_ml_min),
        fdo2=a(fdo2),
        sweep=a(sweep),
        o2_efficiency=a(1.0),
        co2_efficiency=a(1.0),
        vent_fio2=p.vent_fio2,
        ventilation=mechanics(
            a(lung),
            p.height_cm,
            p.peep_cmh2o,
            p.driving_pressure_cmh2o,
            p.vent_rate_min,
            spontaneous,
        ),
    )
    return {k: float(v[0]) for k, v in solve(g, default_circuit("VV")).items()}


# (blood flow L/min, sweep L/min, FdO2, native lung, spontaneous) →
# (PaO2 range, SaO2 range, PaCO2 range) — None: not asserted.
Range = tuple[float, float] | None
TABLE: list[tuple[tuple[float, float, float, float, bool], Range, Range, Range]] = [
    # Severe ARDS on rest ventilation at usual VV settings: PaO2 55–80, SaO2 88–96, eucapnia.
    ((4.8, 5.0, 1.0, 0.12, False), (55, 80), (88, 96), (35, 45)),
    # More blood flow, more oxygen (flow sets oxygenation) …
    ((6.0, 5.0, 1.0, 0.12, False), (80, 160), (96, 100), (35, 45)),
    # … less flow, hypoxaemia; CO2 barely changes.
    ((3.0, 5.0, 1.0, 0.12, False), (30, 55), (60, 88), (35, 50)),
    # FdO2 0.6 lowers post-oxygenator pO2 and PaO2 a little; CO2 unchanged.
    ((4.8, 5.0, 0.6, 0.12, False), (50, 70), (85, 93), (35, 45)),
    # Sweep turned down with poor native lungs: PaCO2 rises (sweep sets CO2) …
    ((4.8, 2.0, 1.0, 0.12, False), (55, 80), (88, 96), (50, 70)),
    ((4.8, 0.5, 1.0, 0.12, False), (50, 80), (85, 96), (90, 200)),
    # … and more sweep lowers it, with diminishing returns.
    ((4.8, 8.0, 1.0, 0.12, False), (55, 80), (88, 96), (32, 41)),
    # Native lung function 0.75: eucapnia on a low sweep (the old model gave 12 mmHg) …
    ((4.8, 1.0, 1.0, 0.75, False), (150, 300), (99, 100), (35, 45)),
    ((4.8, 5.0, 1.0, 0.75, False), (150, 300), (99, 100), (20, 30)),
    # … sweep off on controlled rest ventilation: hypercapnia.
    ((4.8, 0.0, 1.0, 0.75, False), (60, 100), (90, 98), (48, 65)),
    # Sweep off, breathing spontaneously: good lungs pass, poor lungs fail.
    ((4.8, 0.0, 1.0, 0.85, True), (90, 200), (96, 100), (35, 45)),
    ((4.8, 0.0, 1.0, 0.35, True), (20, 50), (30, 85), (50, 70)),
]


def _within(value: float, rng: Range) -> bool:
    return rng is None or rng[0] <= value <= rng[1]


@pytest.mark.parametrize(("args", "pao2", "sao2", "paco2"), TABLE)
def test_worked_examples(
    args: tuple[float, float, float, float, bool], pao2: Range, sao2: Range, paco2: Range
) -> None:
    out = steady(*args)
    got = f"PaO2 {out['pao2']:.1f}, SaO2 {out['sao2']:.1f}, PaCO2 {out['paco2']:.1f}"
    assert _within(out["pao2"], pao2), got
    assert _within(out["sao2"], sao2), got
    assert _within(out["paco2"], paco2), got
    # Steady state: membrane + native lung take up VO2 and clear VCO2.
    vo2 = default_patient("VV").vo2_ml_min
    assert out["ml_o2_transfer"] + out["native_o2_transfer"] == pytest.approx(vo2, rel=1e-5)
    assert out["ml_co2_removal"] + out["native_co2_removal"] == pytest.approx(0.8 * vo2, rel=1e-5)


def test_sweep_off_means_no_membrane_exchange() -> None:
    out = steady(4.8, 0.0, 1.0, 0.85, True)
    assert out["ml_o2_transfer"] == pytest.approx(0.0, abs=1e-6)
    assert out["ml_co2_removal"] == pytest.approx(0.0, abs=1e-6)
    assert out["post_oxy_po2"] == pytest.approx(out["pre_oxy_po2"])


def test_spontaneous_breathing_raises_the_rate_when_the_sweep_goes_off() -> None:
    on = steady(4.8, 1.0, 1.0, 0.35, True)
    off = steady(4.8, 0.0, 1.0, 0.35, True)
    assert off["resp_rate"] > on["resp_rate"] + 8
    assert off["paco2"] > on["paco2"]


c = default_circuit("VV")


def test_rated_flow() -> None:
    """ISO 7199 rated flow: standard venous blood (Hb 12, SO2 70 %) leaves ≥ 95 % saturated
    at the rated flow of an adult membrane lung (7 L/min) on FdO2 1.0, sweep 1:1."""
    pre = a(37.0)
    e, fd, q = a(1.0), a(1.0), a(7.0)
    assert float(saturation_from_po2(pre)[0]) == pytest.approx(70, abs=1.5)
    g = sweep_supply(c, a(7.0), fd, e)
    post = post_oxygenator_po2(c, pre, fd, q, e, g)
    limit = content(a(12.0), pre) + o2_transfer_limit(c, pre, fd, e, g) / (10.0 * q)
    c_post = np.minimum(content(a(12.0), post), limit)
    assert float(c_post[0]) >= float(content(a(12.0), a(80.0))[0])  # ≥ 95 % (pO2 80 mmHg)


def test_o2_transfer_sweep_dependence_is_weak_and_saturating() -> None:
    pre, e, fd, q = a(38.0), a(1.0), a(1.0), a(4.8)

    def post(sweep: float) -> float:
        return float(post_oxygenator_po2(c, pre, fd, q, e, sweep_supply(c, a(sweep), fd, e))[0])

    assert post(0.0) == pytest.approx(38.0)
    assert 0.85 * post(8.0) < post(2.0) < post(5.0) < post(8.0)
    assert post(8.0) - post(5.0) < 10.0
    # FdO2 sets the post-oxygenator pO2 (about proportionally).
    half = float(post_oxygenator_po2(c, pre, a(0.5), q, e, sweep_supply(c, a(5.0), a(0.5), e))[0])
    assert 0.5 < half / post(5.0) < 0.65


def test_failing_membrane_loses_outlet_po2_first() -> None:
    pre, fd, q = a(38.0), a(1.0), a(4.8)
    for eff, low, high in ((1.0, 450, 520), (0.5, 250, 400), (0.12, 90, 160)):
        e = a(eff)
        got = float(post_oxygenator_po2(c, pre, fd, q, e, sweep_supply(c, a(5.0), fd, e))[0])
        assert low <= got <= high, (eff, got)


def test_co2_removal_depends_strongly_on_sweep_and_weakly_on_flow() -> None:
    e = a(1.0)

    def removal(sweep: float, flow: float) -> float:
        keep = co2_fraction_kept(c, a(sweep), a(flow), e)
        return float((10.0 * flow * 0.3 * 45.0 * (1.0 - keep))[0])  # mL/min at pre pCO2 45

    assert removal(0.0, 4.8) == pytest.approx(0.0)
    assert removal(1.0, 4.8) < 0.45 * removal(5.0, 4.8)
    assert removal(2.0, 4.8) < 0.75 * removal(5.0, 4.8)
    assert removal(10.0, 4.8) < 1.3 * removal(5.0, 4.8)  # saturating
    assert removal(5.0, 2.0) > 0.7 * removal(5.0, 4.8)  # blood flow matters less
    assert 120 <= removal(5.0, 4.8) <= 250  # ~200 mL/min at usual VV settings


# Weaning scenario: the two sweep-off trials, judged by the weaning module's own criteria.


def _latest(run, code: str, minute: int) -> float | None:  # type: ignore[no-untyped-def]
    x = run.signals[code][: minute + 1]
    idx = np.flatnonzero(~np.isnan(x))
    return None if idx.size == 0 else float(x[idx[-1]])


def _trial_values(run, minute: int) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    measures = {crit.measure for crit in cr.SWEEP_OFF + cr.GAS_REDUCTION}
    return {m: _latest(run, m, minute) for m in measures}


@pytest.mark.parametrize("hours", [24.0, 72.0])
def test_weaning_trials_fail_then_pass(hours: float) -> None:
    run = simulate("weaning_vv", "VV", hours, 5)
    n = run.times.size
    trials = [iv for iv in run.interventions if iv["params"].get("trial") == "sweep_off"]
    assert [t["params"]["expected"] for t in trials] == ["fail", "pass"]
    first_end, second_end = int(0.30 * n) - 1, n - 1
    failed = cr.judge_all(cr.SWEEP_OFF, _trial_values(run, first_end))
    passed = cr.judge_all(cr.SWEEP_OFF, _trial_values(run, second_end))
    assert cr.summary(passed) == {"met": len(cr.SWEEP_OFF), "not_met": 0, "unknown": 0}
    assert {j.name for j in failed if j.status == "not_met"} >= {"so_sao2_min", "so_pao2_min"}
    assert not [j for j in failed if j.status == "unknown"]
    # During the failed trial PaCO2, respiratory rate and heart rate rise, SpO2 falls.
    c = run.clean
    before, during = slice(int(0.22 * n), int(0.25 * n)), slice(int(0.27 * n), int(0.30 * n))
    assert c["paco2"][during].mean() > c["paco2"][before].mean() + 3
    assert c["resp_rate"][during].mean() > c["resp_rate"][before].mean() + 4
    assert c["spo2"][during].mean() < c["spo2"][before].mean() - 10
    # Off sweep for the last quarter with good lungs: stable.
    last = slice(int(0.8 * n), n)
    assert c["sweep_flow"][last].max() == 0.0
    assert c["paco2"][last].max() < 46 and c["spo2"][last].min() > 94


def test_weaning_scenario_emits_what_the_weaning_criteria_read() -> None:
    run = simulate("weaning_vv", "VV", 24.0, 1)
    raw = {crit.measure for crit in cr.SWEEP_OFF + cr.GAS_REDUCTION + cr.VV_READINESS}
    derived = {"pf_ratio", "driving_pressure", "compliance", "vt_per_kg_pbw", "vis"}
    needed = (raw - derived) | {"tidal_volume", "peep", "plateau_pressure", "resp_rate"}
    missing = sorted(m for m in needed if m not in run.signals)
    assert not missing
    for code in needed:
        assert code in CODES
    values = {m: _latest(run, m, 60 * 20) for m in ("tidal_volume", "plateau_pressure", "peep")}
    values["vent_fio2"], values["pao2"] = (
        _latest(run, "vent_fio2", 1200),
        _latest(run, "pao2", 1200),
    )
    d = cr.derived(values, height_cm=175.0, sex="male")
    assert d["compliance"] is not None and 25 < d["compliance"] < 70
    assert d["vt_per_kg_pbw"] is not None and 3.5 < d["vt_per_kg_pbw"] <= 6.2
    # Other scenarios do not chart the ventilator (the demo's ingest feed sends PEEP and RR).
    assert "resp_rate" not in simulate("control_vv", "VV", 2.0, 1).signals


@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_controls_are_eucapnic(mode: str) -> None:
    run = simulate(f"control_{mode.lower()}", mode, 24.0, 3)
    paco2, ph = np.median(run.clean["paco2"]), np.median(run.clean["ph"])
    assert 32.0 <= paco2 <= 45.0 and 7.35 <= ph <= 7.50, (paco2, ph)

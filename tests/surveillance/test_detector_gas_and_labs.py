"""Spec tables: oxygenator gas exchange, haemolysis, circuit thrombosis, anticoagulation,
recirculation and differential hypoxaemia — from blood gases and lab results.

Results are given as {hour: value}. Each row: results → severities of the detector's
episodes ([] = silence).
"""

from __future__ import annotations

import pytest
from surveillance_shapes import (
    alternating,
    at,
    brief,
    dropout,
    labs,
    outcome,
    ramp,
    run,
    steady,
    step,
)

from continuum.surveillance import RunTargets

GAS_HOURS = (2, 8, 14, 20, 26, 32, 38, 44)


def gas(*values: float) -> tuple:
    return labs(dict(zip(GAS_HOURS, values, strict=True)))


NORMAL_PO2 = gas(450, 455, 448, 452, 450, 449, 451, 450)
FAILING_PO2 = gas(450, 455, 448, 452, 150, 140, 130, 120)
LOW_GRADIENT = {  # pre−post pCO2 10 mmHg, then 4 mmHg from hour 26
    "pre_oxy_pco2": gas(*[45] * 8),
    "post_oxy_pco2": gas(35, 35, 35, 35, 41, 41, 41, 41),
}

# -- oxygenator_dysfunction (Lubnow: post-MO pO2 < 200 at FdO2 1.0; pCO2 rules) -------------
OXY = [
    ("post-oxygenator pO2 ~450 mmHg at FdO2 1.0", {}, {"post_oxy_po2": NORMAL_PO2}, []),
    ("post-oxygenator pO2 falls to 150 mmHg", {}, {"post_oxy_po2": FAILING_PO2}, ["warning"]),
    (
        "pO2 falls and pCO2 pre−post gradient only 3 mmHg",
        {},
        {
            "post_oxy_po2": FAILING_PO2,
            "pre_oxy_pco2": gas(*[45] * 8),
            "post_oxy_pco2": gas(35, 35, 35, 35, 42, 42, 42, 42),
        },
        ["critical"],
    ),
    (
        "pO2 200 mmHg at FdO2 0.5 (400 at 1.0 equivalent)",
        {"sweep_fio2": step(1.0, 0.5, 22)},
        {"post_oxy_po2": gas(450, 455, 448, 452, 200, 200, 200, 200)},
        [],
    ),
    (
        "pO2 290 mmHg at FdO2 1.0: fallen 35% from its own baseline",
        {},
        {"post_oxy_po2": gas(450, 455, 448, 452, 290, 290, 290, 290)},
        ["info"],
    ),
    (
        "low pO2 while the sweep is off (weaning trial)",
        {"sweep_flow": step(4.0, 0.0, 22)},
        {"post_oxy_po2": FAILING_PO2},
        [],
    ),
    (
        "post pCO2 50 mmHg at sweep 10 L/min",
        {"sweep_flow": steady(10.0)},
        {"post_oxy_po2": NORMAL_PO2, "post_oxy_pco2": gas(35, 35, 35, 35, 50, 50, 50, 50)},
        ["warning"],
    ),
    (
        "one low sample, then normal again (a result stands until the next)",
        {},
        {"post_oxy_po2": gas(450, 455, 448, 452, 150, 450, 451, 450)},
        ["warning"],
    ),
    # -- sweep-aware judging (weaning steps, sweep-off trials; docs/clinical/reference.md §4.1) --
    (
        "pre−post pCO2 4 mmHg at a weaning sweep of 1 L/min (CO2 rule not judged < 2 L/min)",
        {"sweep_flow": step(4.0, 1.0, 21)},
        {"post_oxy_po2": NORMAL_PO2, **LOW_GRADIENT},
        [],
    ),
    (
        "pre−post pCO2 4 mmHg at sweep 4 L/min (full limit 5 mmHg)",
        {},
        {"post_oxy_po2": NORMAL_PO2, **LOW_GRADIENT},
        ["warning"],
    ),
    (
        "pre−post pCO2 4 mmHg at sweep 2.5 L/min (limit scaled to 3.1 mmHg)",
        {"sweep_flow": step(4.0, 2.5, 21)},
        {"post_oxy_po2": NORMAL_PO2, **LOW_GRADIENT},
        [],
    ),
    (
        "pre−post pCO2 2 mmHg at sweep 2.5 L/min (below the scaled 3.1 mmHg)",
        {"sweep_flow": step(4.0, 2.5, 21)},
        {
            "post_oxy_po2": NORMAL_PO2,
            "pre_oxy_pco2": gas(*[45] * 8),
            "post_oxy_pco2": gas(35, 35, 35, 35, 43, 43, 43, 43),
        },
        ["warning"],
    ),
    (
        "pO2 40 mmHg drawn during a sweep-off trial, judged after the sweep is back on",
        {"sweep_flow": brief(4.0, 0.0, 19, 120)},
        {"post_oxy_po2": gas(450, 455, 448, 40, 450, 449, 451, 450)},
        [],
    ),
    (
        "pO2 190 mmHg drawn at FdO2 0.5, judged after FdO2 is raised to 1.0",
        {"sweep_fio2": step(0.5, 1.0, 22)},
        {"post_oxy_po2": gas(225, 225, 225, 190, 450, 450, 450, 450)},
        [],
    ),
    (
        "pO2 150 mmHg drawn 5 min after the sweep is raised 4 → 6 L/min (not settled)",
        {"sweep_flow": step(4.0, 6.0, 25.92)},
        {"post_oxy_po2": gas(450, 455, 448, 452, 150, 450, 451, 450)},
        [],
    ),
    (
        "failing pO2 after the sweep is raised 4 → 6 L/min to compensate (still caught)",
        {"sweep_flow": step(4.0, 6.0, 23)},
        {"post_oxy_po2": FAILING_PO2},
        ["warning"],
    ),
    (
        "small sweep noise (4.0 ± 0.2 L/min) is no step",
        {"sweep_flow": alternating(3.9, 4.1, 0)},
        {"post_oxy_po2": FAILING_PO2},
        ["warning"],
    ),
]


@pytest.mark.parametrize(("case", "console", "sparse", "expected"), OXY, ids=[c[0] for c in OXY])
def test_oxygenator_dysfunction(case: str, console: dict, sparse: dict, expected: list) -> None:
    assert outcome("oxygenator_dysfunction", run(console=console, sparse=sparse)) == expected


# -- hemolysis (pfHb > 50 / > 100 mg/dL; rising; LDH > 1,000 rising) -------------------------
HEMO = [
    ("pfHb 5 mg/dL daily", {"pfhb": labs([5, 5, 5, 5], 12)}, []),
    ("pfHb rises to 60 mg/dL", {"pfhb": labs([5, 8, 60, 60], 12)}, ["warning"]),
    ("pfHb surges to 150 mg/dL", {"pfhb": labs([5, 8, 60, 150], 12)}, ["critical"]),
    ("pfHb 10 → 20 → 35 mg/dL (rising)", {"pfhb": labs([10, 20, 35], 12)}, ["info"]),
    ("LDH 600 → 1,200 U/L (rising)", {"ldh": labs([600, 1200], 12)}, ["info"]),
    ("LDH stable at 1,200 U/L", {"ldh": labs([1200, 1200, 1150], 12)}, []),
]


@pytest.mark.parametrize(("case", "sparse", "expected"), HEMO, ids=[c[0] for c in HEMO])
def test_hemolysis(case: str, sparse: dict, expected: list) -> None:
    assert outcome("hemolysis", run(sparse=sparse)) == expected


def test_hemolysis_clears_when_the_next_result_is_normal() -> None:
    from surveillance_shapes import alerts_of

    alerts = alerts_of("hemolysis", run(sparse={"pfhb": labs({1: 5, 13: 70, 25: 20})}))
    assert [(a.severity, a.raised_at, a.cleared_at) for a in alerts] == [
        ("warning", at(13), at(25))
    ]


# -- circuit_thrombosis (Lubnow consumptive pattern) ----------------------------------------
GOOD = {
    "d_dimer": labs([5, 6, 6, 5], 12),
    "fibrinogen": labs([3.5, 3.4, 3.5, 3.4], 12),
    "platelets": labs([200, 195, 198, 200], 12),
}
THROMB = [
    ("normal D-dimer, fibrinogen and platelets", {}, []),
    ("D-dimer 30 mg/L alone", {"d_dimer": labs([5, 30, 30, 30], 12)}, ["info"]),
    (
        "D-dimer 30 and fibrinogen 1.5 g/L",
        {"d_dimer": labs([5, 30, 30, 30], 12), "fibrinogen": labs([3.5, 1.5, 1.5, 1.5], 12)},
        ["warning"],
    ),
    (
        "D-dimer up, fibrinogen down, platelets 200 → 120",
        {
            "d_dimer": labs([5, 30, 30, 30], 12),
            "fibrinogen": labs([3.5, 1.5, 1.5, 1.5], 12),
            "platelets": labs([200, 120, 120, 120], 12),
        },
        ["critical"],
    ),
    ("low fibrinogen alone (bleeding, not clot)", {"fibrinogen": labs([3.5, 1.5, 1.5], 12)}, []),
]


@pytest.mark.parametrize(("case", "sparse", "expected"), THROMB, ids=[c[0] for c in THROMB])
def test_circuit_thrombosis(case: str, sparse: dict, expected: list) -> None:
    assert outcome("circuit_thrombosis", run(sparse={**GOOD, **sparse})) == expected


# -- anticoagulation_out_of_range (run target; default anti-Xa 0.3–0.7) ---------------------
ANTI = [
    ("anti-Xa 0.4 IU/mL", {"anti_xa": labs([0.4, 0.45, 0.4])}, None, []),
    ("anti-Xa falls to 0.2", {"anti_xa": labs([0.4, 0.2, 0.2])}, None, ["warning"]),
    ("anti-Xa falls to 0.1", {"anti_xa": labs([0.4, 0.1, 0.1])}, None, ["critical"]),
    ("anti-Xa 0.8", {"anti_xa": labs([0.4, 0.8, 0.8])}, None, ["warning"]),
    ("anti-Xa 1.2", {"anti_xa": labs([0.4, 1.2])}, None, ["critical"]),
    (
        "anti-Xa 0.25 with the run's target 0.2–0.3",
        {"anti_xa": labs([0.25, 0.25])},
        RunTargets(anti_xa=(0.2, 0.3)),
        [],
    ),
    (
        "aPTT 40 s with target 60–90 s",
        {"aptt": labs([70, 40])},
        RunTargets(aptt=(60, 90)),
        ["warning"],
    ),
    ("aPTT 40 s with no aPTT target set", {"aptt": labs([70, 40])}, None, []),
]


@pytest.mark.parametrize(("case", "sparse", "targets", "expected"), ANTI, ids=[c[0] for c in ANTI])
def test_anticoagulation_out_of_range(
    case: str, sparse: dict, targets: RunTargets | None, expected: list
) -> None:
    assert outcome("anticoagulation_out_of_range", run(sparse=sparse), targets) == expected


# -- recirculation (VV; R = (SpreO2 − SvO2)/(SpostO2 − SvO2) ≥ 20%) -------------------------
def sats(pre: tuple, svo2: float | None = 60, post: float = 100) -> dict:
    out = {"pre_oxy_so2": gas(*pre), "post_oxy_so2": gas(*[post] * 8)}
    if svo2 is not None:
        out["svo2"] = gas(*[svo2] * 8)
    return out


LOW_PRE = (65,) * 8
HIGH_PRE = (65, 65, 65, 65, 75, 75, 75, 75)
RECIRC = [
    ("drainage 65%, SvO2 60% (R 12%)", "VV", {}, sats(LOW_PRE), []),
    (
        "drainage 75% (R 38%), patient SpO2 94 → 88%",
        "VV",
        {"spo2": step(94, 88, 26)},
        sats(HIGH_PRE),
        ["warning"],
    ),
    (
        "drainage 75% (R 38%), patient saturation unchanged",
        "VV",
        {"spo2": steady(94)},
        sats(HIGH_PRE),
        ["info"],
    ),
    (
        "drainage 90% (R 75%), SpO2 falling",
        "VV",
        {"spo2": step(94, 85, 26)},
        sats((65, 65, 65, 65, 90, 90, 90, 90)),
        ["critical"],
    ),
    (
        "no SvO2: drainage 65 → 80%, SpO2 falling",
        "VV",
        {"spo2": step(94, 88, 26)},
        sats((65, 65, 65, 65, 80, 80, 80, 80), svo2=None),
        ["warning"],
    ),
    (
        "same saturations on VA (not applicable)",
        "VA",
        {"spo2": step(94, 88, 26)},
        sats(HIGH_PRE),
        [],
    ),
    ("single SpO2 motion artefact", "VV", {"spo2": brief(94, 70)}, sats(LOW_PRE), []),
    (
        "drainage 75% and SpO2 94 → 88% with the sweep off (nothing to recirculate)",
        "VV",
        {"spo2": step(94, 88, 26), "sweep_flow": step(4.0, 0.0, 23)},
        sats(HIGH_PRE),
        [],
    ),
    (
        "drainage 75% (R 38%) and SpO2 falling, sweep back on and settled",
        "VV",
        {"spo2": step(94, 88, 26), "sweep_flow": brief(4.0, 0.0, 20, 60)},
        sats(HIGH_PRE),
        ["warning"],
    ),
]


@pytest.mark.parametrize(
    ("case", "mode", "console", "sparse", "expected"), RECIRC, ids=[c[0] for c in RECIRC]
)
def test_recirculation(case: str, mode: str, console: dict, sparse: dict, expected: list) -> None:
    series = run(mode, console={"spo2": steady(94), **console}, sparse=sparse)
    assert outcome("recirculation", series) == expected


# -- differential_hypoxia (peripheral VA; right hand low, return limb saturated) -----------
SATURATED = {"post_oxy_so2": gas(*[99] * 8)}
DH = [
    ("right-hand SpO2 97%, return 99%", "VA", {"spo2_right": steady(97)}, SATURATED, []),
    ("right-hand SpO2 falls to 88%", "VA", {"spo2_right": step(97, 88)}, SATURATED, ["warning"]),
    ("right-hand SpO2 falls to 80%", "VA", {"spo2_right": step(97, 80)}, SATURATED, ["critical"]),
    (
        "right hand 80% but return limb only 85% (oxygenator, not north–south)",
        "VA",
        {"spo2_right": step(97, 80)},
        {"post_oxy_so2": gas(*[85] * 8)},
        [],
    ),
    (
        "3-minute right-hand probe artefact",
        "VA",
        {"spo2_right": brief(97, 70, minutes=3)},
        SATURATED,
        [],
    ),
    (
        "right radial pO2 50 mmHg, no right-hand oximeter",
        "VA",
        {},
        {**SATURATED, "pao2_right_radial": gas(90, 90, 90, 90, 50, 50, 50, 50)},
        ["warning"],
    ),
    ("VV run (not applicable)", "VV", {"spo2_right": step(97, 80)}, SATURATED, []),
    # early trend tier: right hand falls against its own baseline AND the other SpO2 site
    (
        "right hand drifts 99 → 93% over 6 h while the femoral site stays 99%",
        "VA",
        {"spo2_right": ramp(99, 93, 24, 30), "spo2": steady(99)},
        SATURATED,
        ["warning"],
    ),
    (
        "every site drifts 99 → 93% (global desaturation, not north–south)",
        "VA",
        {"spo2_right": ramp(99, 93, 24, 30), "spo2": ramp(99, 93, 24, 30)},
        SATURATED,
        [],
    ),
    (
        "right hand 99 → 93% but no other SpO2 site to compare",
        "VA",
        {"spo2_right": ramp(99, 93, 24, 30)},
        SATURATED,
        [],
    ),
    (
        "20-minute right-hand probe artefact at 93%",
        "VA",
        {"spo2_right": brief(99, 93, minutes=20), "spo2": steady(99)},
        SATURATED,
        [],
    ),
    (
        "right-hand probe drops out for 3 h",
        "VA",
        {"spo2_right": dropout(steady(99)), "spo2": steady(99)},
        SATURATED,
        [],
    ),
    (
        "right hand drifts to 93% but the return limb is only 85% (oxygenator)",
        "VA",
        {"spo2_right": ramp(99, 93, 24, 30), "spo2": steady(99)},
        {"post_oxy_so2": gas(*[85] * 8)},
        [],
    ),
]


@pytest.mark.parametrize(
    ("case", "mode", "console", "sparse", "expected"), DH, ids=[c[0] for c in DH]
)
def test_differential_hypoxia(
    case: str, mode: str, console: dict, sparse: dict, expected: list
) -> None:
    assert outcome("differential_hypoxia", run(mode, console, sparse)) == expected

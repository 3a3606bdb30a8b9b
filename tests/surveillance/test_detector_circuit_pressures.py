"""Spec tables: transmembrane gradient, access insufficiency, pump thrombosis, flow target.

Each row: what the console shows → what the detector says (severities of its episodes;
[] = silence). Healthy run: flow 4.5 L/min, 3500 rpm, drainage −40 mmHg, ΔP 20 mmHg.
"""

from __future__ import annotations

import pytest
from surveillance_shapes import (
    alternating,
    at,
    brief,
    dropout,
    hourly_spikes,
    labs,
    outcome,
    ramp,
    run,
    steady,
    step,
)

from continuum.surveillance import RunTargets

# -- transmembrane_gradient_rise (Lubnow: 30–50% rise in ΔP/flow) --------------------------
TMP = [
    ("steady ΔP 20 mmHg", {}, []),
    ("ΔP ramps 20 → 35 mmHg (+75%) over 12 h", {"p_postoxy": ramp(230, 215)}, ["critical"]),
    ("ΔP steps 20 → 29 mmHg (+45%)", {"p_postoxy": step(230, 221)}, ["warning"]),
    (
        "ΔP steps 20 → 27 mmHg (+35%, but 7 mmHg is within transducer drift)",
        {"p_postoxy": step(230, 223)},
        [],
    ),
    ("ΔP steps 20 → 23 mmHg (+15%)", {"p_postoxy": step(230, 227)}, []),
    ("single ΔP spike to 80 mmHg (transducer knock)", {"p_postoxy": brief(230, 170)}, []),
    ("post-oxygenator transducer drops out for 3 h", {"p_postoxy": dropout(steady(230))}, []),
    (
        "brief deliberate flow change 4.5 → 3.0 L/min for 20 min, ΔP follows flow",
        {"blood_flow": brief(4.5, 3.0, minutes=20), "p_postoxy": brief(230, 236.7, minutes=20)},
        [],
    ),
    (
        "sustained flow increase 4.5 → 5.5 L/min, ΔP follows flow (no clot)",
        {"blood_flow": step(4.5, 5.5), "p_preoxy": step(250, 254.4)},
        [],
    ),
]


@pytest.mark.parametrize(("case", "console", "expected"), TMP, ids=[c[0] for c in TMP])
def test_transmembrane_gradient_rise(case: str, console: dict, expected: list) -> None:
    assert outcome("transmembrane_gradient_rise", run(console=console)) == expected


def test_oxygenator_change_clears_the_gradient_alert_and_restarts_the_baseline() -> None:
    post = ramp(230, 215, 12, 24)
    post[40 * 60 :] = 235  # new oxygenator: ΔP 15 mmHg, lower than the old one's baseline
    from surveillance_shapes import alerts_of

    alerts = alerts_of(
        "transmembrane_gradient_rise",
        run(console={"p_postoxy": post}, changes=[(40, "oxygenator")]),
    )
    assert [a.severity for a in alerts] == ["critical"]
    assert alerts[0].cleared_at == at(40)
    assert alerts[0].evidence["cleared_because"] == "component changed"


def test_a_pump_change_does_not_restart_the_oxygenator_baseline() -> None:
    series = run(console={"p_postoxy": step(230, 220, 30)}, changes=[(28, "pump")])
    assert outcome("transmembrane_gradient_rise", series) == ["critical"]


# -- access_insufficiency (Robak −100 mmHg; [U] −80 tier; chattering) ----------------------
ACCESS = [
    ("steady drainage −40 mmHg", {}, []),
    (
        "drainage steps to −90 mmHg (50 below its baseline)",
        {"p_access": step(-40, -90)},
        ["warning"],
    ),
    ("drainage steps to −120 mmHg", {"p_access": step(-40, -120)}, ["critical"]),
    ("a run that always sits at −85 mmHg", {"p_access": steady(-85)}, []),
    ("single cough spike to −200 mmHg", {"p_access": brief(-40, -200)}, []),
    ("3-minute suction excursion to −150 mmHg", {"p_access": brief(-40, -150, minutes=3)}, []),
    ("drainage transducer drops out", {"p_access": dropout(steady(-40))}, []),
    # Flow fluctuation with normal drainage pressure (e.g. a pump-head thrombus): not blamed
    # on drainage — information only, worded as a flow fluctuation (test below).
    (
        "flow chatters 4.5 / 3.8 L/min every minute, drainage steady −40 mmHg",
        {"blood_flow": alternating(4.5, 3.8)},
        ["info"],
    ),
    (
        "flow chatters with drainage −40 → −55 mmHg (15 below its baseline)",
        {"blood_flow": alternating(4.5, 3.8), "p_access": step(-40, -55)},
        ["warning"],
    ),
    (
        "flow chatters with drainage at −82 mmHg from the start (no baseline fall)",
        {"blood_flow": alternating(4.5, 3.8), "p_access": steady(-82)},
        ["warning"],
    ),
    (
        "flow chatters with drainage at −72 mmHg from the start (its normal)",
        {"blood_flow": alternating(4.5, 3.8), "p_access": steady(-72)},
        ["info"],
    ),
    (
        "chattering with drainage −90 mmHg",
        {"blood_flow": alternating(4.5, 3.8), "p_access": step(-40, -90)},
        ["critical"],
    ),
    (
        "deliberate flow reduction 4.5 → 3.5 L/min for 20 min",
        {"blood_flow": brief(4.5, 3.5, minutes=20)},
        [],
    ),
    # early trend tier: a fall against the circuit's own baseline, flow not raised
    (
        "drainage creeps −40 → −50 mmHg over 6 h at steady flow",
        {"p_access": ramp(-40, -50, 24, 30)},
        ["warning"],
    ),
    ("drainage wanders −40 → −44 mmHg", {"p_access": step(-40, -44)}, []),
    (
        "flow deliberately raised 4.5 → 5.5 L/min, drainage −40 → −55 with it",
        {"blood_flow": step(4.5, 5.5), "p_access": step(-40, -55)},
        [],
    ),
    ("a cough spike to −150 mmHg every hour", {"p_access": hourly_spikes(-40, -150)}, []),
    (
        "10-minute line check: flow 3.0 L/min, drainage −25 mmHg",
        {"blood_flow": brief(4.5, 3.0, minutes=10), "p_access": brief(-40, -25, minutes=10)},
        [],
    ),
    (
        "drainage transducer drops out for 3 h, then reads −52 mmHg",
        {"p_access": dropout(step(-40, -52, 27), 24, 27)},
        ["warning"],
    ),
]


@pytest.mark.parametrize(("case", "console", "expected"), ACCESS, ids=[c[0] for c in ACCESS])
def test_access_insufficiency(case: str, console: dict, expected: list) -> None:
    assert outcome("access_insufficiency", run(console=console)) == expected


def test_flow_fluctuation_alone_is_not_blamed_on_drainage() -> None:
    """The information finding says what was seen (flow fluctuating, drainage pressure not
    low) and points at the pump, probe and lines; a chattering line with a falling drainage
    pressure is still called access insufficiency."""
    from surveillance_shapes import alerts_of

    [alone] = alerts_of("access_insufficiency", run(console={"blood_flow": alternating(4.5, 3.8)}))
    assert alone.severity == "info"
    assert alone.summary.startswith("Flow fluctuating minute to minute")
    assert "not typical of access insufficiency" in alone.summary
    assert "(not low)" in alone.summary and "pump" in alone.summary
    both = {"blood_flow": alternating(4.5, 3.8), "p_access": step(-40, -55)}
    [real] = alerts_of("access_insufficiency", run(console=both))
    assert real.severity == "warning"
    assert real.summary.startswith("Access insufficiency (drainage pressure -55 mmHg")


# -- pump_thrombosis (more rpm for the same flow; [U] 10% / 20%) ----------------------------
PUMP = [
    ("steady 3500 rpm for 4.5 L/min", {}, {}, []),
    ("rpm creeps up 25% at the same flow", {"pump_speed": ramp(3500, 4375)}, {}, ["critical"]),
    ("rpm 15% higher for the same flow", {"pump_speed": step(3500, 4025)}, {}, ["warning"]),
    (
        "rpm 15% higher with pfHb 80 mg/dL",
        {"pump_speed": step(3500, 4025)},
        {"pfhb": labs({1: 5, 25: 80, 31: 80, 37: 80, 43: 80})},
        ["critical"],
    ),
    ("flow falls 15% at the same rpm", {"blood_flow": step(4.5, 3.83)}, {}, ["warning"]),
    (
        "deliberate speed-up: rpm and flow both +20%",
        {"pump_speed": step(3500, 4200), "blood_flow": step(4.5, 5.4)},
        {},
        [],
    ),
    ("single rpm spike", {"pump_speed": brief(3500, 5000)}, {}, []),
    (
        "rpm up because drainage is −120 mmHg (access, not pump)",
        {"pump_speed": step(3500, 4200), "p_access": step(-40, -120)},
        {},
        [],
    ),
]


@pytest.mark.parametrize(("case", "console", "sparse", "expected"), PUMP, ids=[c[0] for c in PUMP])
def test_pump_thrombosis(case: str, console: dict, sparse: dict, expected: list) -> None:
    assert outcome("pump_thrombosis", run(console=console, sparse=sparse)) == expected


def test_pump_change_clears_the_pump_alert() -> None:
    rpm = step(3500, 4300, 24)
    rpm[40 * 60 :] = 3500
    from surveillance_shapes import alerts_of

    alerts = alerts_of("pump_thrombosis", run(console={"pump_speed": rpm}, changes=[(40, "pump")]))
    assert [(a.severity, a.cleared_at) for a in alerts] == [("critical", at(40))]


# -- flow_below_target (the day's goal; sustained 30 min) -----------------------------------
FLOW = [
    ("flow at goal", {}, 4.5, []),
    ("flow 3.9 L/min for goal 4.5 (87%)", {"blood_flow": step(4.5, 3.9)}, 4.5, ["warning"]),
    ("flow 3.4 L/min for goal 4.5 (76%)", {"blood_flow": step(4.5, 3.4)}, 4.5, ["critical"]),
    (
        "brief 20-minute flow check at 3.0 L/min",
        {"blood_flow": brief(4.5, 3.0, minutes=20)},
        4.5,
        [],
    ),
    ("no goal set", {"blood_flow": step(4.5, 2.0)}, None, []),
    (
        "goal lowered to 3.5 from hour 24, flow follows",
        {"blood_flow": step(4.5, 3.6)},
        [(at(0), 4.5), (at(24), 3.5)],
        [],
    ),
]


@pytest.mark.parametrize(("case", "console", "goal", "expected"), FLOW, ids=[c[0] for c in FLOW])
def test_flow_below_target(case: str, console: dict, goal: object, expected: list) -> None:
    targets = RunTargets(flow_goal=goal)  # type: ignore[arg-type]
    assert outcome("flow_below_target", run(console=console), targets) == expected

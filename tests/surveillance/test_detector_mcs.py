"""Spec tables: the mechanical-circulatory-support detectors (docs/clinical/mcs.md §2–4).

Each row: what the Impella controller or the arterial line shows → what the detector says
(severities of its episodes; [] = silence). Healthy ECPELLA: femoral VA, Impella CP at P-8
with 3.3 L/min (expected 2.9–3.7 [U]; Impella 2.5 table 2.1–2.4 [S] when the model is not
recorded), purge 560 mmHg, pulse pressure 24 mmHg.
"""

from __future__ import annotations

import pytest
from surveillance_shapes import at, brief, outcome, ramp, run, steady, step

from continuum.surveillance import DEFAULT_SETTINGS, RunSeries, run_all_detectors
from continuum.surveillance.impella_levels import TABLES, expected

IMPELLA = {
    "impella_p_level": 8.0,
    "impella_flow": 3.3,
    "impella_purge_pressure": 560.0,
    "impella_purge_flow": 12.0,
}


def ecpella(console: dict, model: str | None = "CP", mode: str = "VA") -> RunSeries:
    series = run(mode, console={**IMPELLA, **console})
    if model is not None:
        series.devices = {"impella": model}
    return series


# -- impella_flow_low ------------------------------------------------------------------------
FLOW = [
    ("CP at P-8, flow 3.3 L/min (inside 2.9–3.7)", {}, "CP", []),
    (
        "CP at P-8, flow falls to 2.8 L/min (just under 2.9, within 10%)",
        {"impella_flow": step(3.3, 2.8)},
        "CP",
        [],
    ),
    (
        "CP at P-8, flow falls to 2.4 L/min (17% under the range)",
        {"impella_flow": step(3.3, 2.4)},
        "CP",
        ["warning"],
    ),
    (
        "CP at P-8, suction: flow 1.2 L/min (< 50% of 2.9)",
        {"impella_flow": step(3.3, 1.2)},
        "CP",
        ["critical"],
    ),
    (
        "CP at P-8, one-minute flow dip to 0.5 L/min (artefact)",
        {"impella_flow": brief(3.3, 0.5)},
        "CP",
        [],
    ),
    (
        "CP at P-8, 8-minute dip to 1.0 L/min (shorter than 10 min)",
        {"impella_flow": brief(3.3, 1.0, minutes=8)},
        "CP",
        [],
    ),
    (
        "weaning: P-8 → P-2 with flow 1.2 L/min (inside P-2's 1.0–1.9)",
        {"impella_p_level": step(8, 2), "impella_flow": step(3.3, 1.2)},
        "CP",
        [],
    ),
    (
        "P-1 with flow 0.3 L/min: below P-2, not judged",
        {"impella_p_level": step(8, 1), "impella_flow": step(3.3, 0.3)},
        "CP",
        [],
    ),
    (
        "P-0 (motor stopped), flow 0",
        {"impella_p_level": step(8, 0), "impella_flow": step(3.3, 0.0)},
        "CP",
        [],
    ),
    (
        "model not recorded: 2.4 L/min at P-8 judged on the 2.5 table (2.1–2.4)",
        {"impella_flow": step(3.3, 2.4)},
        None,
        [],
    ),
    (
        "model not recorded: 1.5 L/min at P-8 (< 90% of 2.1)",
        {"impella_flow": step(3.3, 1.5)},
        None,
        ["warning"],
    ),
    ("Impella 2.5 at P-8, 2.2 L/min (inside 2.1–2.4)", {"impella_flow": 2.2}, "2.5", []),
    (
        "Impella RP at P-6, flow 1.8 L/min (< 90% of 2.5)",
        {"impella_p_level": 6.0, "impella_flow": step(2.9, 1.8)},
        "RP",
        ["warning"],
    ),
]


@pytest.mark.parametrize(
    ("case", "console", "model", "expected_severities"), FLOW, ids=[c[0] for c in FLOW]
)
def test_impella_flow_low(
    case: str, console: dict, model: str | None, expected_severities: list
) -> None:
    assert outcome("impella_flow_low", ecpella(console, model)) == expected_severities


def test_the_flow_alert_states_the_models_range_and_source() -> None:
    [alert] = run_all_detectors(
        ecpella({"impella_flow": step(3.3, 1.2)}), only=["impella_flow_low"]
    )
    assert alert.raised_at == at(24) + 10 * 60_000 - 60_000 or alert.raised_at > at(24)
    assert "Impella CP flow" in alert.summary and "P-8" in alert.summary
    extra = alert.evidence["thresholds"][-1]
    assert extra["name"] == "expected_range" and "[U]" in extra["source"]
    assert alert.evidence["baseline"] == 2.9  # the range's lower bound at P-8


def test_a_recovered_flow_clears_the_alert() -> None:
    flow = steady(3.3)
    flow[24 * 60 : 30 * 60] = 1.2
    [alert] = run_all_detectors(ecpella({"impella_flow": flow}), only=["impella_flow_low"])
    assert alert.cleared_at is not None and alert.cleared_at <= at(30.3)


def test_the_expected_range_table() -> None:
    assert expected("2.5", 8).low == 2.1 and expected("2.5", 8).high == 2.4
    assert expected("2.5", 9) is None  # the 2.5 has no P-9
    assert expected(None, 2).low == 0.8  # unknown model: the 2.5's table
    assert TABLES["2.5"].source.endswith("[S]")
    assert all("[U]" in TABLES[m].source for m in ("CP", "5.0", "5.5", "RP"))
    for table in TABLES.values():
        lows = [r.low for r in table.ranges]
        assert lows == sorted(lows), table.model  # flow rises with the P-level


# -- impella_purge_pressure (window 300–1,100 mmHg [S]) --------------------------------------
PURGE = [
    ("purge 560 mmHg", {}, []),
    (
        "purge climbs 560 → 1,000 mmHg (inside the window)",
        {"impella_purge_pressure": ramp(560, 1000)},
        [],
    ),
    (
        "purge steps to 1,200 mmHg for 30 min",
        {"impella_purge_pressure": brief(560, 1200, minutes=30)},
        ["warning"],
    ),
    (
        "purge climbs to 1,300 mmHg and stays",
        {"impella_purge_pressure": ramp(560, 1300)},
        ["critical"],
    ),
    (
        "purge falls to 250 mmHg and stays (leak)",
        {"impella_purge_pressure": step(560, 250)},
        ["critical"],
    ),
    (
        "purge spike to 1,400 mmHg for 5 min (flush)",
        {"impella_purge_pressure": brief(560, 1400, minutes=5)},
        [],
    ),
]


@pytest.mark.parametrize(
    ("case", "console", "expected_severities"), PURGE, ids=[c[0] for c in PURGE]
)
def test_impella_purge_pressure(case: str, console: dict, expected_severities: list) -> None:
    assert outcome("impella_purge_pressure", ecpella(console)) == expected_severities


def test_the_purge_summary_names_the_side_of_the_window() -> None:
    [high] = run_all_detectors(
        ecpella({"impella_purge_pressure": step(560, 1250)}), only=["impella_purge_pressure"]
    )
    assert "above 1,100 mmHg" in high.summary and "dextrose" in high.summary
    [low] = run_all_detectors(
        ecpella({"impella_purge_pressure": step(560, 200)}), only=["impella_purge_pressure"]
    )
    assert "below 300 mmHg" in low.summary and "leak" in low.summary


def test_a_programme_window_changes_what_is_outside() -> None:
    series = ecpella({"impella_purge_pressure": step(560, 1050)})
    assert run_all_detectors(series, only=["impella_purge_pressure"]) == []
    narrow = DEFAULT_SETTINGS.with_overrides({"purge_pressure_high": 1000})
    [alert] = run_all_detectors(series, narrow, only=["impella_purge_pressure"])
    assert "300–1,000 mmHg" in alert.evidence["rule"]


# -- lv_unloading_context (info only; arterial return; docs/clinical/mcs.md §4) -------------
def arterial(
    pp: object, mode: str = "VA", devices: dict | None = None, extra: dict | None = None
) -> RunSeries:
    """MAP 70 mmHg; systolic = MAP + 2/3 PP, diastolic = MAP − 1/3 PP."""
    import numpy as np

    p = steady(pp) if np.isscalar(pp) else np.asarray(pp, dtype=float)
    series = run(mode, console={"sbp": 70 + 2 * p / 3, "dbp": 70 - p / 3, **(extra or {})})
    series.devices = devices or {}
    return series


LV = [
    ("VA, pulse pressure 24 mmHg", arterial(24.0), []),
    ("VA, pulse pressure narrows to 5 mmHg, no device", arterial(step(24, 5)), ["info"]),
    ("VA, pulse pressure 8 mmHg for 20 min only", arterial(brief(24, 8, minutes=20)), []),
    (
        "VA+Impella (mode names the device), pulse pressure 5 mmHg",
        arterial(step(24, 5), "VA+Impella"),
        [],
    ),
    ("VA+IABP, pulse pressure 5 mmHg", arterial(step(24, 5), "VA+IABP"), []),
    (
        "VA with an Impella CP recorded, pulse pressure 5 mmHg",
        arterial(step(24, 5), devices={"impella": "CP"}),
        [],
    ),
    (
        "VA with Impella readings arriving, pulse pressure 5 mmHg",
        arterial(step(24, 5), extra={"impella_flow": 3.0}),
        [],
    ),
    (
        "VA with only an Impella RP (right side), pulse pressure 5 mmHg",
        arterial(step(24, 5), devices={"impella": "RP"}),
        ["info"],
    ),
    ("VV (venous return), pulse pressure 5 mmHg", arterial(step(24, 5), "VV"), []),
]


@pytest.mark.parametrize(("case", "series", "expected_severities"), LV, ids=[c[0] for c in LV])
def test_lv_unloading_context(case: str, series: RunSeries, expected_severities: list) -> None:
    assert outcome("lv_unloading_context", series) == expected_severities


def test_the_lv_context_is_never_more_than_info_and_says_what_to_consider() -> None:
    [alert] = run_all_detectors(arterial(step(24, 2)), only=["lv_unloading_context"])
    assert alert.severity == "info"
    assert "consider echo" in alert.summary and "LV distension" in alert.summary

"""The common machinery: alert JSON shape, settings and their sources, incremental use,
the static (console-alarm) comparison set, and whole-run replay of the simulator."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from surveillance_shapes import alerts_of, at, brief, labs, ramp, run, step

from continuum.errors import ValidationFailed
from continuum.surveillance import (
    DEFAULT_SETTINGS,
    DETECTOR_CODES,
    SEVERITIES,
    ComponentChange,
    RunSeries,
    RunTargets,
    SurveillanceSettings,
    baselines_of,
    current_state,
    run_all_detectors,
    run_static_detectors,
)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CONTRACT_CODES = {
    "oxygenator_dysfunction",
    "transmembrane_gradient_rise",
    "pump_thrombosis",
    "hemolysis",
    "recirculation",
    "access_insufficiency",
    "circuit_thrombosis",
    "anticoagulation_out_of_range",
    "differential_hypoxia",
    "flow_below_target",
    "impella_flow_low",
    "impella_purge_pressure",
    "lv_unloading_context",
}


def troubled_run() -> RunSeries:
    return run(
        console={"p_postoxy": ramp(230, 215), "p_access": step(-40, -120, 30)},
        sparse={"pfhb": labs({1: 5, 20: 70})},
    )


def test_every_contract_detector_is_registered() -> None:
    assert set(DETECTOR_CODES) == CONTRACT_CODES


def test_alert_json_matches_the_contract() -> None:
    alerts = run_all_detectors(troubled_run())
    assert {a.detector for a in alerts} == {
        "transmembrane_gradient_rise",
        "access_insufficiency",
        "hemolysis",
    }
    for a in alerts:
        d = json.loads(json.dumps(a.to_dict()))
        assert list(d) == ["detector", "severity", "raised_at", "cleared_at", "summary", "evidence"]
        assert d["severity"] in SEVERITIES
        assert ISO_Z.match(d["raised_at"])
        assert d["cleared_at"] is None or ISO_Z.match(d["cleared_at"])
        ev = d["evidence"]
        assert ev["rule"] and ev["threshold"]["source"] and ev["at_raise"]["time"]
        assert ev["observations"], "triggering observations are shown"


def test_alerts_are_ordered_and_episodes_have_start_before_end() -> None:
    alerts = run_all_detectors(troubled_run())
    assert [a.raised_at for a in alerts] == sorted(a.raised_at for a in alerts)
    assert all(a.cleared_at is None or a.cleared_at > a.raised_at for a in alerts)


def test_an_empty_run_gives_no_alerts() -> None:
    assert run_all_detectors(RunSeries("VV", {})) == []


def test_mode_must_be_vv_or_va() -> None:
    with pytest.raises(ValidationFailed, match="mode"):
        RunSeries("ECMO", {})


# -- settings -----------------------------------------------------------------------------
def test_every_threshold_has_a_unit_and_a_source() -> None:
    for item in DEFAULT_SETTINGS.describe():
        assert item["unit"] and item["source"], item["name"]


@pytest.mark.parametrize(
    ("name", "value", "cite"),
    [
        ("tmp_rise_warning", 0.30, "Lubnow"),
        ("oxy_po2_malfunction", 200, "Lubnow"),
        ("pfhb_warning", 50, "Omar"),
        ("access_critical", -100, "Robak"),
        ("ddimer_malfunction", 25, "Lubnow"),
        ("fibrinogen_min", 2.0, "Lubnow"),
        ("anti_xa_low", 0.3, "§5.1"),
        ("recirc_fraction", 0.20, "§3.6"),
    ],
)
def test_published_defaults(name: str, value: float, cite: str) -> None:
    t = DEFAULT_SETTINGS.threshold(name)
    assert t["value"] == value and cite in t["source"]


def test_a_programme_override_changes_the_outcome() -> None:
    series = run(sparse={"pfhb": labs({1: 5, 13: 60})})
    assert [a.severity for a in alerts_of("hemolysis", series)] == ["warning"]
    relaxed = DEFAULT_SETTINGS.with_overrides({"pfhb_warning": 70})
    assert [a.severity for a in alerts_of("hemolysis", series, settings=relaxed)] == ["info"]
    quiet = relaxed.with_overrides({"pfhb_rising": 70})
    assert alerts_of("hemolysis", series, settings=quiet) == []


def test_overrides_refuse_unknown_names_and_non_numbers() -> None:
    with pytest.raises(ValidationFailed) as exc:
        SurveillanceSettings().with_overrides({"pfhb_limit": 1, "pfhb_warning": "high"})
    assert {p.field for p in exc.value.problems} == {"pfhb_limit", "pfhb_warning"}


# -- incremental use -----------------------------------------------------------------------
def window(series: RunSeries, from_h: float) -> RunSeries:
    cut = at(from_h)
    signals = {c: (t[t >= cut], v[t >= cut]) for c, (t, v) in series.signals.items()}
    return RunSeries(series.mode, signals, series.component_changes)


def test_a_recent_window_with_stored_baselines_gives_the_whole_run_state() -> None:
    """The window must reach back over the lab max age (here 24 h) and persistence spans."""
    full = troubled_run()
    whole = {a.detector: a.severity for a in run_all_detectors(full) if a.is_open}
    assert len(whole) == 3
    recent = window(full, 20)
    recent.baselines = baselines_of(window(full, 0))
    state = current_state(recent)
    assert {k: v.severity for k, v in state.items() if v is not None} == whole
    assert recent.baselines["dp_per_flow"] == pytest.approx(20 / 4.5, rel=1e-3)


def test_without_baselines_a_short_window_cannot_judge_trends() -> None:
    state = current_state(window(troubled_run(), 40))
    assert state["transmembrane_gradient_rise"] is None


# -- the static comparison set ---------------------------------------------------------------
def test_static_limits_alarm_on_a_single_spike_the_trend_detectors_ignore() -> None:
    series = run(console={"p_access": brief(-40, -200)})
    assert run_all_detectors(series) == []
    static = run_static_detectors(series)
    assert [(a.detector, a.severity) for a in static] == [("access_insufficiency", "critical")]
    assert static[0].cleared_at == at(24) + np.timedelta64(1, "m")


def test_static_set_uses_the_same_thresholds() -> None:
    series = run(sparse={"pfhb": labs({1: 5, 13: 60, 25: 10})})
    assert [a.detector for a in run_static_detectors(series)] == ["hemolysis"]


# -- robustness ------------------------------------------------------------------------------
FUZZ_CODES = st.sampled_from(
    [
        "blood_flow",
        "pump_speed",
        "p_access",
        "p_preoxy",
        "p_postoxy",
        "oxy_delta_p",
        "sweep_flow",
        "sweep_fio2",
        "post_oxy_po2",
        "post_oxy_pco2",
        "pre_oxy_pco2",
        "pre_oxy_so2",
        "post_oxy_so2",
        "svo2",
        "spo2",
        "spo2_right",
        "pao2_right_radial",
        "pfhb",
        "ldh",
        "d_dimer",
        "fibrinogen",
        "platelets",
        "anti_xa",
        "aptt",
        "act",
    ]
)
SAMPLES = st.lists(
    st.tuples(st.integers(0, 3 * 1440), st.one_of(st.floats(-500, 5000), st.just(float("nan")))),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(FUZZ_CODES, SAMPLES, max_size=8),
    st.sampled_from(["VV", "VA"]),
    st.lists(
        st.tuples(st.integers(0, 3 * 1440), st.sampled_from(["pump", "oxygenator", "circuit"])),
        max_size=2,
    ),
)
def test_any_series_gives_well_formed_episodes(signals: dict, mode: str, changes: list) -> None:
    t0 = np.datetime64("2026-01-01T00:00", "ms")
    series = RunSeries(
        mode,
        {
            c: (
                t0 + np.array([m for m, _ in s], dtype="timedelta64[m]"),
                np.array([v for _, v in s], dtype=float),
            )
            for c, s in signals.items()
        },
        tuple(ComponentChange(t0 + np.timedelta64(m, "m"), k) for m, k in changes),
    )
    targets = RunTargets(aptt=(60, 90), act=(180, 220), flow_goal=4.0)
    for a in run_all_detectors(series, targets=targets) + run_static_detectors(series):
        d = json.loads(json.dumps(a.to_dict()))
        assert d["severity"] in SEVERITIES
        assert a.cleared_at is None or a.cleared_at >= a.raised_at


def test_a_wrong_date_spanning_decades_is_refused_not_run_out_of_memory() -> None:
    t = np.array(["1970-01-01T00:00", "2026-01-01T00:00"], dtype="datetime64[ms]")
    with pytest.raises(ValidationFailed, match="days"):
        run_all_detectors(RunSeries("VV", {"blood_flow": (t, np.array([4.0, 4.0]))}))

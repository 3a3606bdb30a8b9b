"""Detector rule texts are rendered from the thresholds in force, so a programme's change
shows in the rule a clinician reads (alert evidence, replay, pages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from continuum.surveillance import (
    DEFAULT_SETTINGS,
    DETECTOR_CODES,
    RunSeries,
    rule_texts,
    run_all_detectors,
)

# detector -> (threshold, programme value, the words its rule text must then carry)
CHANGES = {
    "oxygenator_dysfunction": ("oxy_po2_malfunction", 180, "pO2/FdO2 < 180 mmHg"),
    "transmembrane_gradient_rise": ("tmp_rise_critical", 0.6, "≥ 60% (critical)"),
    "pump_thrombosis": ("pump_drift_warning", 0.15, "≥ 15% (warning)"),
    "hemolysis": ("pfhb_warning", 40, "pfHb ≥ 40 mg/dL (warning)"),
    "recirculation": ("recirc_fraction", 0.25, "≥ 25%"),
    "access_insufficiency": ("access_critical", -110, "≤ −110 mmHg (critical)"),
    "circuit_thrombosis": ("ddimer_malfunction", 30, "D-dimer > 30 mg/L"),
    "anticoagulation_out_of_range": ("anti_xa_high", 0.8, "0.3–0.8 IU/mL"),
    "differential_hypoxia": ("dh_upper_sat", 92, "SpO2 (5-min median) < 92%"),
    "flow_below_target": ("flow_tolerance", 0.15, "< 85% of the day's goal"),
    "impella_flow_low": ("impella_flow_tolerance", 0.2, "by more than 20% (warning)"),
    "impella_purge_pressure": ("purge_pressure_high", 1000, "outside 300–1,000 mmHg"),
    "lv_unloading_context": ("lv_pulse_pressure_low", 15, "< 15 mmHg sustained"),
}


def test_every_detector_has_a_change_here() -> None:
    assert set(CHANGES) == set(DETECTOR_CODES)


@pytest.mark.parametrize("detector", list(CHANGES))
def test_a_changed_threshold_changes_the_rule_text(detector: str) -> None:
    name, value, words = CHANGES[detector]
    before = rule_texts()[detector]
    after = rule_texts(DEFAULT_SETTINGS.with_overrides({name: value}))[detector]
    assert words not in before
    assert words in after


def test_defaults_read_as_the_published_numbers() -> None:
    texts = rule_texts()
    assert "≥ 30% (warning) / ≥ 50% (critical)" in texts["transmembrane_gradient_rise"]
    assert "≤ −80 mmHg" in texts["access_insufficiency"]
    assert "LDH > 1,000 U/L" in texts["hemolysis"]
    assert "above 1.5 × upper or below 0.5 × lower bound" in texts["anticoagulation_out_of_range"]


def test_an_alert_raised_under_a_programme_threshold_states_it() -> None:
    t0 = datetime(2026, 2, 1, tzinfo=UTC)
    times = [t0 + timedelta(minutes=m) for m in range(120)]
    series = RunSeries("VV", {"pfhb": ([t0], [45.0]), "blood_flow": (times, np.full(120, 4.5))})
    assert run_all_detectors(series, only=["hemolysis"]) == []  # 45 < published 50
    settings = DEFAULT_SETTINGS.with_overrides({"pfhb_warning": 40})
    [alert] = run_all_detectors(series, settings, only=["hemolysis"])
    assert "pfHb ≥ 40 mg/dL (warning)" in alert.evidence["rule"]
    assert alert.evidence["rule"] == rule_texts(settings)["hemolysis"]


@pytest.mark.parametrize(
    ("detector", "name", "value", "words"),
    [
        (
            "oxygenator_dysfunction",
            "oxy_pco2_gradient_sweep_min",
            1.5,
            "not judged below 1.5 L/min",
        ),
        ("oxygenator_dysfunction", "oxy_pco2_gradient_sweep_full", 5, "sweep/5 L/min below 5"),
        ("oxygenator_dysfunction", "oxy_gas_settle_min", 30, "drawn < 30 min after a sweep"),
        ("oxygenator_dysfunction", "oxy_setting_step", 0.3, "FdO2 step (≥ 30%)"),
        ("recirculation", "oxy_sweep_on", 0.5, "not judged at sweep < 0.5 L/min"),
        ("recirculation", "oxy_gas_settle_min", 30, "drawn < 30 min after a sweep"),
    ],
)
def test_sweep_aware_thresholds_show_in_the_rule_text(
    detector: str, name: str, value: float, words: str
) -> None:
    assert words not in rule_texts()[detector]
    assert words in rule_texts(DEFAULT_SETTINGS.with_overrides({name: value}))[detector]

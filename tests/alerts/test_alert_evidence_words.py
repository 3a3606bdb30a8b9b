"""An alert's evidence as a clinician reads it (issue #16, "clinical names instead of codes
... sensible precision"): thresholds by their clinical names, a fraction as a percentage,
the triggering values named and rounded, the baseline with its unit."""

from __future__ import annotations

import re

from continuum.alerts import evidence_words as words
from tests.conftest import Web


def test_thresholds_read_by_name_and_a_fraction_as_a_percentage() -> None:
    rise = {"name": "tmp_rise_warning", "value": 0.3, "unit": "fraction", "source": "x"}
    assert words.threshold_words(rise) == ("ΔP/flow rise warning", "30 %")
    excess = {"name": "tmp_min_excess", "value": 8, "unit": "mmHg", "source": "x"}
    assert words.threshold_words(excess) == ("ΔP/flow minimum excess", "8 mmHg")
    pfhb = {"name": "pfhb_warning", "value": 50.0, "unit": "mg/dL", "source": "x"}
    assert words.threshold_words(pfhb) == ("Plasma free Hb warning", "50 mg/dL")


def test_triggering_values_named_with_units_and_sensible_precision() -> None:
    at_raise = {
        "time": "2026-12-03T05:49:00+00:00",
        "dp_per_flow": 6.4004,
        "baseline_dp_per_flow": 4.5882,
        "rise": 0.395,
        "excess_mmhg": 8.6807,
        "p_access_trend": -61.234,
        "blood_flow": 4.8212,
        "pfhb": None,
    }
    assert words.evidence_values(at_raise) == [
        ("ΔP per L/min of blood flow", "6.4 mmHg per L/min"),
        ("Baseline ΔP per L/min of blood flow", "4.59 mmHg per L/min"),
        ("Rise on this lung's baseline", "39.5 %"),
        ("ΔP above the baseline's", "8.68 mmHg"),
        ("Drainage (pre-pump) pressure (rolling median)", "-61.2 mmHg"),
        ("ECMO blood flow", "4.82 L/min"),
    ]
    assert words.baseline_words("transmembrane_gradient_rise", 4.5882) == "4.59 mmHg per L/min"
    assert words.baseline_words("hemolysis", None) == "—"


def test_the_alert_page_shows_names_not_codes(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/runs/1/alerts").text
    row = re.search(r'<tr data-threshold="pfhb_warning">.*?</tr>', page)
    assert row is not None
    assert "<b>Plasma free Hb warning</b>" in row.group(0)
    assert re.search(r"<b>[a-z_]+</b>", row.group(0)) is None  # no key as the name

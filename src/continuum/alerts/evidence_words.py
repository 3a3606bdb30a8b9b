"""An alert's evidence as a clinician reads it: thresholds by their clinical names with the
value in the unit a person thinks in (a rise of 0.3 reads "30 %"), and the detector's
triggering values by name, unit and sensible precision ("ΔP per L/min 6.4 mmHg per L/min",
not "dp per flow 6.4004"). The stored evidence never changes; only its reading.

Pure: no database or web imports (the alert page registers these as template globals).
"""

from __future__ import annotations

import math
from typing import Any

from continuum import display_names, vocabulary
from continuum.core.trend_chart import number

# Values the detectors derive (not vocabulary codes): name, unit, factor to that unit.
DERIVED: dict[str, tuple[str, str, float]] = {
    "dp_per_flow": ("ΔP per L/min of blood flow", "mmHg per L/min", 1.0),
    "rise": ("rise on this lung's baseline", "%", 100.0),
    "dp_per_flow_rise": ("ΔP per L/min rise on baseline", "%", 100.0),
    "excess_mmhg": ("ΔP above the baseline's", "mmHg", 1.0),
    "po2_per_fdo2": ("post-oxygenator pO2 per FdO2", "mmHg", 1.0),
    "drift": ("pump speed off the expected for the flow", "%", 100.0),
    "expected_pump_speed": ("expected pump speed for the flow", "rpm", 1.0),
    "fraction_of_goal": ("blood flow as share of its goal", "%", 100.0),
    "flow_goal": ("blood flow goal", "L/min", 1.0),
    "fraction_of_low": ("Impella flow as share of the P-level's expected low", "%", 100.0),
    "expected_low": ("expected low Impella flow at this P-level", "L/min", 1.0),
    "recirculation_fraction": ("recirculation", "%", 100.0),
    "patient_saturation": ("patient saturation", "%", 1.0),
}
PERCENT_UNITS = ("fraction",)


def _text(value: float, unit: str) -> str:
    shown = display_names.unit_shown(unit)
    return f"{number(value)} {shown}" if shown else number(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def evidence_value(key: str, value: Any) -> tuple[str, str]:
    """(name, value with unit) of one triggering value: 'baseline_dp_per_flow', 4.5882 →
    ('Baseline ΔP per L/min of blood flow', '4.59 mmHg per L/min')."""
    base, before, after = key, "", ""
    if base.startswith("baseline_"):
        base, before = base[len("baseline_") :], "baseline "
    if base.endswith("_trend"):
        base, after = base[: -len("_trend")], " (rolling median)"
    if not _is_number(value) or not math.isfinite(float(value)):
        shown = "—" if value is None or _is_number(value) else str(value)
        name = DERIVED[base][0] if base in DERIVED else display_names.field_label(base)
        return display_names._capital(before + name + after), shown
    if base in vocabulary.CODES:
        name = vocabulary.CODES[base].meaning
        spec_unit = vocabulary.CODES[base].unit
        text = _text(float(value), spec_unit)
    elif base in DERIVED:
        name, unit, factor = DERIVED[base]
        text = _text(float(value) * factor, unit)
    else:
        name = display_names.field_label(base)
        text = number(float(value))
    return display_names._capital(before + name + after), text


def evidence_values(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Every triggering value but the time, in the detector's order."""
    return [
        evidence_value(k, v) for k, v in (values or {}).items() if k != "time" and v is not None
    ]


def threshold_words(t: dict[str, Any]) -> tuple[str, str]:
    """(clinical name, value with unit) of one threshold of an alert's evidence: a fraction
    reads as a percentage ('tmp_rise_warning', 0.3 → 'ΔP/flow rise warning', '30 %')."""
    from continuum.alerts.thresholds import label_of  # settings group: names only

    name, unit, value = str(t.get("name", "")), str(t.get("unit") or ""), t.get("value")
    label = display_names._capital(label_of(name, unit)) if name else ""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return label, f"{value} {unit}".strip()
    if unit.startswith(PERCENT_UNITS):
        return label, f"{number(float(value) * 100)} %"
    return label, _text(float(value), unit)


def baseline_words(detector: str, value: Any) -> str:
    """An alert's baseline with its unit where the detector's is known."""
    if not _is_number(value):
        return "—"
    unit = {
        "transmembrane_gradient_rise": "mmHg per L/min",
        "oxygenator_dysfunction": "mmHg",
    }.get(detector, "")
    return _text(float(value), unit)

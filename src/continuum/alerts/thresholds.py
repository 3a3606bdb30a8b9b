"""The programme's surveillance thresholds as a settings group: every published default with
its unit and source (``continuum.surveillance.settings``), an allowed range, and the
programme's own value where it set one (``programme_setting`` ``surveillance.<name>``).

The detectors stay pure: ``in_force`` builds the plain ``SurveillanceSettings`` object they
take, from the values the settings service holds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from continuum import support_configuration
from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup
from continuum.support_configuration import MODES
from continuum.surveillance import rule_texts
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings

GROUP = "surveillance"


# Thresholds that stop working at 0: a setting step of 0 would make every sweep reading a
# step, so the oxygenator detector would never judge a gas.
FLOORS: dict[str, float] = {"oxy_setting_step": 0.05}


def allowed_range(name: str) -> tuple[float, float]:
    """A plausible range around the default: same sign, at most ten times as far from 0;
    fractions stay within 0–1 (rises may go to 5, i.e. +500 %), saturations within 0–100 %."""
    default = float(getattr(DEFAULT_SETTINGS, name))
    unit = _unit(name)
    if name in FLOORS:
        return (FLOORS[name], 1.0)
    if unit == "%":
        return (0.0, 100.0)
    if unit.startswith("fraction"):
        return (0.0, 5.0 if "rise" in name or "drift" in name else 1.0)
    if default < 0:
        return (10 * default, 0.0)
    return (0.0, 10 * default if default > 0 else 10.0)


def _unit(name: str) -> str:
    field = next(f for f in dataclasses.fields(DEFAULT_SETTINGS) if f.name == name)
    return str(field.metadata["unit"])


# Words of the threshold names as a clinician reads them (the names stay the detectors').
WORDS = {
    "pfhb": "plasma free Hb", "ldh": "LDH", "tmp": "ΔP/flow", "oxy": "oxygenator",
    "po2": "pO2", "pco2": "pCO2", "so2": "SO2", "recirc": "recirculation",
    "dh": "differential hypoxia", "ddimer": "D-dimer", "anti": "anti", "xa": "Xa",
    "anticoag": "anticoagulation", "sat": "saturation", "min": "minimum", "max": "maximum",
    "pre": "pre-oxygenator", "post": "post-oxygenator",
}  # fmt: skip


def label_of(name: str, unit: str) -> str:
    """``dh_trend_persist_min`` (unit min) → ``differential hypoxia trend persist``: a unit
    suffix is left to the unit column; ``fibrinogen_min`` (g/L) → ``fibrinogen minimum``."""
    words = name.split("_")
    if len(words) > 1 and words[-1] == unit:
        words = words[:-1]
    return " ".join(WORDS.get(w, w) for w in words).replace("anti Xa", "anti-Xa")


def _setting(f: dataclasses.Field) -> Setting:  # type: ignore[type-arg]
    low, high = allowed_range(f.name)
    return Setting(
        key=f.name,
        label=label_of(f.name, str(f.metadata["unit"])),
        default=float(getattr(DEFAULT_SETTINGS, f.name)),
        low=low,
        high=high,
        unit=str(f.metadata["unit"]),
        source=str(f.metadata["source"]),
    )


SETTINGS = SettingGroup(
    name=GROUP,
    title="Circuit-surveillance thresholds",
    description=(
        "The numbers the circuit-surveillance detectors judge against: when an alert is "
        "raised, escalated and cleared, and how long a change must persist."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=tuple(_setting(f) for f in dataclasses.fields(DEFAULT_SETTINGS)),
    after_save="New values apply from the next observation batch.",
    explain=lambda session: (
        "Detector rules with the thresholds in force",
        [(r["detector"], r["rule"]) for r in detector_rules(session)],
    ),
    order=10,
    ordered=(
        ("tmp_rise_clear", "tmp_rise_warning"),
        ("tmp_rise_warning", "tmp_rise_critical"),
        ("oxy_po2_malfunction", "oxy_po2_acceptable"),
        ("pump_drift_clear", "pump_drift_warning"),
        ("pump_drift_warning", "pump_drift_critical"),
        ("pfhb_warning", "pfhb_critical"),
        ("recirc_fraction", "recirc_critical"),
        ("access_critical", "access_warning"),  # drainage pressures are negative
        ("access_warning", "access_clear"),
        ("anti_xa_low", "anti_xa_high"),
        ("dh_upper_sat_critical", "dh_upper_sat"),
        ("oxy_pco2_gradient_sweep_min", "oxy_pco2_gradient_sweep_full"),
    ),
)


def in_force(session: Session) -> SurveillanceSettings:
    """The thresholds in force, as the plain object the detectors take."""
    return DEFAULT_SETTINGS.with_overrides(settings_service.overrides(session, GROUP))


def detector_rules(session: Session) -> list[dict[str, Any]]:
    """Every detector's rule as rendered from the thresholds in force, and the support
    configurations (modes) it runs for."""
    texts = rule_texts(in_force(session))
    return [
        {
            "detector": code,
            "rule": text,
            "modes": [m for m in MODES if support_configuration.of(m).applies(code)],
        }
        for code, text in texts.items()
    ]

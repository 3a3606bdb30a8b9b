"""Weaning thresholds as a settings group: each criterion's published default (reference
§6) with its source and an allowed range; a range criterion ("between") is two settings,
``<name>`` (lower bound) and ``<name>_high`` (upper bound). The criteria stay pure:
``overrides`` hands them the plain mapping ``criteria.threshold_of`` reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup
from continuum.weaning.criteria import ALL_CRITERIA, Criterion

GROUP = "weaning"
HIGH = "_high"
# Plausible limits per measure unit (a typo guard, not a clinical recommendation).
FIXED_RANGES: dict[str, tuple[float, float]] = {
    "vent_fio2": (0.21, 1.0),
    "ph": (6.8, 7.8),
    "%": (0.0, 100.0),
}


def allowed_range(crit: Criterion, default: float) -> tuple[float, float]:
    """Fraction and pH measures have physical limits; % is 0–100; anything else lies
    between 0 and ten times the published default."""
    if crit.measure in FIXED_RANGES:
        return FIXED_RANGES[crit.measure]
    if crit.unit in FIXED_RANGES:
        return FIXED_RANGES[crit.unit]
    return (0.0, 10 * default)


def _op(crit: Criterion) -> str:
    return crit.op.replace("<=", "≤").replace(">=", "≥")


def _settings() -> tuple[Setting, ...]:
    out: list[Setting] = []
    for crit in ALL_CRITERIA.values():
        low, high = allowed_range(crit, crit.default_high or crit.default)
        if crit.op == "between" and crit.default_high is not None:
            label, label_high = f"{crit.label}: lower bound", f"{crit.label}: upper bound"
        else:
            label, label_high = f"{crit.label} {_op(crit)}", ""
        out.append(Setting(crit.name, label, crit.default, low, high, crit.unit, crit.source))
        if label_high and crit.default_high is not None:
            out.append(
                Setting(crit.name + HIGH, label_high, crit.default_high, low, high, crit.unit,
                        crit.source)
            )  # fmt: skip
    return tuple(out)


SETTINGS = SettingGroup(
    name=GROUP,
    title="Weaning thresholds",
    description=(
        "Readiness criteria and trial-step limits for weaning from ECMO (VV and VA), each "
        "with its published default."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=_settings(),
    after_save="New values apply to the next readiness review and trial step.",
    order=20,
    ordered=tuple(
        (c.name, c.name + HIGH)
        for c in ALL_CRITERIA.values()
        if c.op == "between" and c.default_high is not None
    ),
)


def overrides(session: Session) -> dict[str, Any]:
    """The programme's thresholds as ``criteria.threshold_of`` reads them: ``weaning.<name>``
    → the lower bound, or ``[low, high]`` for a range criterion either bound of which is set."""
    own = settings_service.overrides(session, GROUP)
    out: dict[str, Any] = {}
    for crit in ALL_CRITERIA.values():
        low, high = own.get(crit.name), own.get(crit.name + HIGH)
        if crit.op == "between" and high is not None:
            out[crit.setting_key] = [low if low is not None else crit.default, high]
        elif low is not None:
            out[crit.setting_key] = low
    return out

"""lv_unloading_context: a shown context, not an alarm (severity info only).

Retrograde arterial ECMO flow raises left-ventricular afterload; a failing LV that can no
longer open the aortic valve distends (pulmonary oedema, LV thrombus). An arterial pulse
pressure that stays low says the LV is barely ejecting (the Impella controller's "position
unknown" message reads the same low native pulsatility, docs/clinical/reference.md §8.4).
On a run whose ECMO return is arterial (``support_configuration``) with no LV unloading
device in place (the mode names none, no Impella LV or IABP reading in the last hour and no
such device recorded), a pulse pressure (systolic − diastolic, rolling median) below the
programme's threshold for the persistence time is shown as **info**: "consider echo for
LV distension and aortic-valve opening, and an unloading strategy". It is never a warning:
the decision to vent is a clinical judgement with echo (docs/clinical/mcs.md §4).
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import INFO, NORMAL, UNKNOWN, Evaluation, num
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.impella_levels import TABLES
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "lv_unloading_context"
DEVICE_READING_MAX_AGE_MIN = 60
UNLOADING_CODES = ("impella_flow", "iabp_augmentation", "iabp_ratio")


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"arterial ECMO return with no LV unloading device in place: pulse pressure "
        f"({num(s.lv_smoothing_min)}-min median of systolic − diastolic) < "
        f"{num(s.lv_pulse_pressure_low)} mmHg sustained {num(s.lv_persist_min)} min → info "
        "(shown context: consider echo for LV distension and aortic-valve opening)"
    )


def _device_recorded(grid: Grid) -> bool:
    kind = grid.series.devices.get("impella")
    lv_impella = kind is not None and (kind not in TABLES or TABLES[kind].side == "left")
    return grid.series.configuration.unloading_device or lv_impella or "iabp" in grid.series.devices


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not (grid.series.has("sbp") and grid.series.has("dbp")):
        return None
    gap = s.console_max_gap_min
    pp = rolling_median(
        grid.locf("sbp", gap) - grid.locf("dbp", gap), grid.minutes(s.lv_smoothing_min)
    )
    device = np.zeros(len(grid), dtype=bool)
    if _device_recorded(grid):
        device[:] = True
    for code in UNLOADING_CODES:
        if code == "impella_flow" and grid.series.devices.get("impella") == "RP":
            continue  # a right-sided Impella does not unload the LV
        device |= np.isfinite(grid.locf(code, DEVICE_READING_MAX_AGE_MIN))
    level = np.full(len(grid), UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        level[pp >= s.lv_pulse_pressure_low] = NORMAL
        level[pp < s.lv_pulse_pressure_low] = INFO
    level[device] = NORMAL
    n = grid.minutes(s.lv_persist_min)
    return Evaluation(
        CODE,
        level,
        n,
        n,
        np.array([0]),
        rule=rule_text(s),
        thresholds=("lv_pulse_pressure_low", "lv_persist_min"),
        inputs=("sbp", "dbp", "map", "blood_flow"),
        trace={"pulse_pressure": pp, "unloading_device": device.astype(float)},
        peak="pulse_pressure",
        peak_high=False,
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    return (
        f"Pulse pressure {v['pulse_pressure'] or 0:.0f} mmHg on arterial ECMO with no LV "
        "unloading device recorded: the aortic valve may not be opening — consider echo for "
        "LV distension and an unloading strategy (inotrope, IABP, Impella, LV vent)"
    )

"""impella_purge_pressure: Impella purge pressure outside its operating window.

Window 300–1,100 mmHg (docs/clinical/reference.md §8.4 [S]): above it the controller warns
"Purge Flow Low" (kinks, dextrose concentration, a blocked purge); below it the purge may
leak or be disconnected. Outside for the persistence time → warning; outside for the
critical time → critical. A charted value stands for the purge max age.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import CRITICAL, NORMAL, UNKNOWN, WARNING, Evaluation, num
from continuum.surveillance.grid import Grid, persistent
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "impella_purge_pressure"


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"Impella purge pressure outside {num(s.purge_pressure_low)}–"
        f"{s.purge_pressure_high:,.0f} mmHg for {num(s.purge_persist_min)} min (warning) / "
        f"{num(s.purge_critical_min)} min (critical); a charted value stands "
        f"{num(s.purge_max_age_min)} min"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not grid.series.has("impella_purge_pressure"):
        return None
    purge = grid.locf("impella_purge_pressure", s.purge_max_age_min)
    known = np.isfinite(purge)
    with np.errstate(invalid="ignore"):
        outside = known & ((purge > s.purge_pressure_high) | (purge < s.purge_pressure_low))
    level = np.full(len(purge), UNKNOWN, dtype=np.int8)
    level[known] = NORMAL
    level[outside] = WARNING
    level[persistent(outside, grid.minutes(s.purge_critical_min))] = CRITICAL
    n = grid.minutes(s.purge_persist_min)
    # how far outside the window (mmHg, 0 inside): the episode's worst moment is its largest
    beyond = np.maximum(purge - s.purge_pressure_high, s.purge_pressure_low - purge)
    beyond = np.where(known, np.maximum(beyond, 0.0), np.nan)
    return Evaluation(
        CODE,
        level,
        n,
        n,
        np.array([0]),
        rule=rule_text(s),
        thresholds=(
            "purge_pressure_low",
            "purge_pressure_high",
            "purge_persist_min",
            "purge_critical_min",
        ),
        inputs=("impella_purge_pressure", "impella_purge_flow", "impella_p_level"),
        trace={"impella_purge_pressure": purge, "outside_window_by": beyond},
        peak="outside_window_by",
        summary=_summary(s),
    )


def _summary(s: SurveillanceSettings):  # type: ignore[no-untyped-def]
    def summary(v: dict[str, float | None], severity: str) -> str:
        p = v["impella_purge_pressure"] or 0.0
        if p > s.purge_pressure_high:
            return (
                f"Impella purge pressure {p:,.0f} mmHg above {s.purge_pressure_high:,.0f} mmHg "
                "(Purge Flow Low): check the purge tubing for kinks, consider a lower dextrose "
                "concentration, replace the cassette if blocked"
            )
        return (
            f"Impella purge pressure {p:,.0f} mmHg below {s.purge_pressure_low:,.0f} mmHg: check "
            "the purge line for a leak or disconnection and the purge flow"
        )

    return summary

"""What the rounds board shows of each run beyond the circuit: ventilation, vasoactives
(VIS), lactate, haemoglobin, platelets, fibrinogen, fluid balance, each with its age, its
goal and whether it is off the goal or stale; and the goals that fit the run's support.

Goals, in order of precedence: the run's own targets (a decision's plan or a round's goals,
``run_target``), then the board's default goals for the run's configuration
(``support_configuration``: the pump carries the circulation, as in VA and VA-ECPR, or it
does not, as in VV). The defaults are the ones docs/clinical/reference.md gives:
platelets > 50 × 10⁹/L and fibrinogen > 1 g/L (§5.3 Platelets, fibrinogen, antithrombin,
haemoglobin); Hb ≥ 7 g/dL, ≥ 8 g/dL when delivery matters as on VA support (§5.3);
driving pressure < 15 cmH2O and ventilator FiO2 ≤ 0.6 (§6.1 VV ECMO: protective settings);
MAP 65–80 mmHg on VA support (§2.3 Target blood flow). Lactate ≤ 2 mmol/L is the upper
limit of normal [U]. How old a value may be before it is shown as stale is a display
convention of the board [U], below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from continuum import support_configuration
from continuum.core.targets import Target
from continuum.scores.vis import WEIGHTS as VIS_WEIGHTS
from continuum.scores.vis import vis_value

VENTILATION = ("vent_fio2", "peep", "plateau_pressure")
VASOACTIVES = tuple(drug for drug, _ in VIS_WEIGHTS)
LABS = ("lactate", "hb", "platelets", "fibrinogen")
FLUID_BALANCE_CODE = "fluid_balance_24h"
CODES = (*VENTILATION, *VASOACTIVES, *LABS, "map", FLUID_BALANCE_CODE)
DRIVING_PRESSURE = "driving_pressure"  # plateau − PEEP, measured together
VIS = "vis"

# Hours after which a value is stale on the board [U]: a ventilator or infusion reading
# belongs to the shift; a blood test to the day; the fluid balance to its 24 h.
STALE_HOURS: dict[str, float] = {
    "vent_fio2": 4, "peep": 4, DRIVING_PRESSURE: 4, VIS: 4, "map": 2,
    "lactate": 8, "hb": 24, "platelets": 24, "fibrinogen": 24, FLUID_BALANCE_CODE: 30,
}  # fmt: skip

LABELS: dict[str, tuple[str, str]] = {
    "vent_fio2": ("FiO2", ""),
    "peep": ("PEEP", "cmH2O"),
    DRIVING_PRESSURE: ("Driving P", "cmH2O"),
    VIS: ("VIS", ""),
    "map": ("MAP", "mmHg"),
    "lactate": ("Lactate", "mmol/L"),
    "hb": ("Hb", "g/dL"),
    "platelets": ("Platelets", "×10⁹/L"),
    "fibrinogen": ("Fibrinogen", "g/L"),
    FLUID_BALANCE_CODE: ("Fluid balance", "mL/24 h"),
}
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ventilation", ("vent_fio2", "peep", DRIVING_PRESSURE)),
    ("Circulation", (VIS, "map", "lactate")),
    ("Blood", ("hb", "platelets", "fibrinogen")),
    ("Fluids", (FLUID_BALANCE_CODE,)),
)


def _goal(code: str, low: float | None, high: float | None, unit: str, source: str) -> Target:
    return Target(code, low, high, unit, source)


_REF = "docs/clinical/reference.md"
COMMON_GOALS: dict[str, Target] = {
    "platelets": _goal("platelets", 50, None, "10^9/L", f"{_REF} §5.3"),
    "fibrinogen": _goal("fibrinogen", 1.0, None, "g/L", f"{_REF} §5.3"),
    "lactate": _goal("lactate", None, 2.0, "mmol/L", "upper limit of normal [U]"),
    DRIVING_PRESSURE: _goal(DRIVING_PRESSURE, None, 15, "cmH2O", f"{_REF} §6.1"),
    "vent_fio2": _goal("vent_fio2", None, 0.6, "1", f"{_REF} §6.1"),
}
VV_GOALS: dict[str, Target] = {"hb": _goal("hb", 7.0, None, "g/dL", f"{_REF} §5.3")}
VA_GOALS: dict[str, Target] = {
    "hb": _goal("hb", 8.0, None, "g/dL", f"{_REF} §5.3 (delivery)"),
    "map": _goal("map", 65, 80, "mmHg", f"{_REF} §2.3"),
}


def family(mode: str | None, support_type: str | None) -> str:
    """ "VA" when the pump carries the circulation (VA, VA-ECPR, VAV …), else "VV"."""
    return support_configuration.of_run(mode, support_type).flow_target


def default_goals(mode: str | None, support_type: str | None) -> dict[str, Target]:
    """The board's goals for a run of this configuration (before its own targets)."""
    specific = VA_GOALS if family(mode, support_type) == "VA" else VV_GOALS
    return {**COMMON_GOALS, **specific}


@dataclass(frozen=True)
class Reading:
    code: str
    label: str
    unit: str
    value: float | None
    at: datetime | None
    goal: Target | None
    stale: bool
    off: bool
    age: str  # "35 min", "3 h", "2 d"; "" without a value
    note: str = ""  # e.g. the VIS band or the fluid goal's source

    @property
    def state(self) -> str:
        if self.value is None:
            return "none"
        if self.off:
            return "off"
        return "stale" if self.stale else "ok"

    @property
    def goal_text(self) -> str:
        g = self.goal
        if g is None:
            return ""
        unit = f" {self.unit}" if self.unit else ""
        if g.low is not None and g.high is not None:
            return f"{g.low:g}–{g.high:g}{unit}"
        return f"≥ {g.low:g}{unit}" if g.low is not None else f"≤ {g.high:g}{unit}"

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        if self.code == "vent_fio2":
            return f"{self.value:.2f}"
        return f"{self.value:.3g}" if abs(self.value) < 100 else f"{self.value:.0f}"


def age_text(at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 90:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


def _derived(latest: dict[str, tuple[datetime, float]]) -> dict[str, tuple[datetime, float]]:
    out = dict(latest)
    plateau, peep = latest.get("plateau_pressure"), latest.get("peep")
    if plateau and peep and abs((plateau[0] - peep[0]).total_seconds()) <= 3600:
        out[DRIVING_PRESSURE] = (max(plateau[0], peep[0]), plateau[1] - peep[1])
    drugs = {d: latest[d] for d in VASOACTIVES if d in latest}
    if drugs:
        at = max(t for t, _ in drugs.values())
        out[VIS] = (at, vis_value({d: v for d, (_, v) in drugs.items()}))
    return out


def readings(
    latest: dict[str, tuple[datetime, float]],
    goals: dict[str, Target],
    now: datetime,
    fluid_goal: Target | None = None,
) -> list[tuple[str, list[Reading]]]:
    """The board's readings of one run, grouped; ``goals``: the run's goals by code
    (its own targets over the defaults); ``fluid_goal``: the round's fluid-balance goal."""
    values = _derived(latest)
    out = []
    for group, codes in GROUPS:
        row = []
        for code in codes:
            label, unit = LABELS[code]
            goal = fluid_goal if code == FLUID_BALANCE_CODE else goals.get(code)
            seen = values.get(code)
            if seen is None:
                row.append(Reading(code, label, unit, None, None, goal, False, False, ""))
                continue
            at, value = seen
            stale = now - at > timedelta(hours=STALE_HOURS[code])
            off = goal is not None and not goal.contains(value)
            note = _vis_note(value) if code == VIS else ""
            row.append(
                Reading(code, label, unit, value, at, goal, stale, off, age_text(at, now), note)
            )
        out.append((group, row))
    return out


def _vis_note(value: float) -> str:
    from continuum.scores.vis import BANDS

    band = next(b for upper, b, _ in BANDS if value <= upper)
    return f"band {band}"

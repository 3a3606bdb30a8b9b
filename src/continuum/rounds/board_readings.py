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
limit of normal [U]. How old a value may be before it is shown as stale is a board
convention [U]. All of these are programme settings (``board_settings``, /settings/rounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from continuum import support_configuration
from continuum.core.targets import Target
from continuum.rounds.board_settings import DEFAULTS
from continuum.scores.vis import WEIGHTS as VIS_WEIGHTS
from continuum.scores.vis import vis_value

VENTILATION = ("vent_fio2", "peep", "plateau_pressure")
VASOACTIVES = tuple(drug for drug, _ in VIS_WEIGHTS)
LABS = ("lactate", "hb", "platelets", "fibrinogen")
FLUID_BALANCE_CODE = "fluid_balance_24h"
CODES = (*VENTILATION, *VASOACTIVES, *LABS, "map", "map_nibp", FLUID_BALANCE_CODE)
DRIVING_PRESSURE = "driving_pressure"  # plateau − PEEP, measured together
VIS = "vis"

# Which staleness setting (board_settings, hours) applies to each reading.
STALE_SETTING: dict[str, str] = {
    "vent_fio2": "stale_bedside_h", "peep": "stale_bedside_h", DRIVING_PRESSURE: "stale_bedside_h",
    VIS: "stale_bedside_h", "map": "stale_map_h", "lactate": "stale_lactate_h",
    "hb": "stale_labs_h", "platelets": "stale_labs_h", "fibrinogen": "stale_labs_h",
    FLUID_BALANCE_CODE: "stale_fluids_h",
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
Values = Mapping[str, float]  # the rounds settings in force (board_settings.DEFAULTS)


def default_goals(
    mode: str | None, support_type: str | None, values: Values = DEFAULTS
) -> dict[str, Target]:
    """The board's goals for a run of this configuration (before its own targets)."""
    v = {**DEFAULTS, **values}
    goals = {
        "platelets": _goal("platelets", v["platelets_min"], None, "10^9/L", f"{_REF} §5.3"),
        "fibrinogen": _goal("fibrinogen", v["fibrinogen_min"], None, "g/L", f"{_REF} §5.3"),
        "lactate": _goal("lactate", None, v["lactate_max"], "mmol/L", "upper limit of normal"),
        DRIVING_PRESSURE: _goal(
            DRIVING_PRESSURE, None, v["driving_pressure_max"], "cmH2O", f"{_REF} §6.1"
        ),
        "vent_fio2": _goal("vent_fio2", None, v["vent_fio2_max"], "1", f"{_REF} §6.1"),
    }
    if family(mode, support_type) == "VA":
        goals["hb"] = _goal("hb", v["hb_min_va"], None, "g/dL", f"{_REF} §5.3 (delivery)")
        goals["map"] = _goal("map", v["map_min_va"], v["map_max_va"], "mmHg", f"{_REF} §2.3")
    else:
        goals["hb"] = _goal("hb", v["hb_min_vv"], None, "g/dL", f"{_REF} §5.3")
    return goals


def family(mode: str | None, support_type: str | None) -> str:
    """ "VA" when the pump carries the circulation (VA, VA-ECPR, VAV …), else "VV"."""
    return support_configuration.of_run(mode, support_type).flow_target


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
    entered: str = ""  # the value as entered in another unit ("62 kPa"), read first

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
    # MAP: the arterial line's (vocabulary.PREFERRED_SOURCES); a cuff reading only when the run
    # has no arterial value, and the reading says so (``readings``: note "cuff").
    if "map" not in latest and "map_nibp" in latest:
        out["map"] = latest["map_nibp"]
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
    values: Values = DEFAULTS,
    entered: dict[str, str] | None = None,
) -> list[tuple[str, list[Reading]]]:
    """The board's readings of one run, grouped; ``goals``: the run's goals by code
    (its own targets over the defaults); ``fluid_goal``: the round's fluid-balance goal;
    ``entered``: code → the latest value as entered in another unit ("62 kPa")."""
    typed = entered or {}
    seen_values = _derived(latest)
    hours = {**DEFAULTS, **values}
    out = []
    for group, codes in GROUPS:
        row = []
        for code in codes:
            label, unit = LABELS[code]
            goal = fluid_goal if code == FLUID_BALANCE_CODE else goals.get(code)
            seen = seen_values.get(code)
            if seen is None:
                row.append(Reading(code, label, unit, None, None, goal, False, False, ""))
                continue
            at, value = seen
            stale = now - at > timedelta(hours=hours[STALE_SETTING[code]])
            off = goal is not None and not goal.contains(value)
            note = _vis_note(value) if code == VIS else ""
            if code == "map" and "map" not in latest:
                note = "cuff (non-invasive)"
            reading = Reading(code, label, unit, value, at, goal, stale, off, age_text(at, now))
            row.append(replace(reading, note=note, entered=typed.get(code, "")))
        out.append((group, row))
    return out


def _vis_note(value: float) -> str:
    from continuum.scores.vis import BANDS

    band = next(b for upper, b, _ in BANDS if value <= upper)
    return f"band {band}"

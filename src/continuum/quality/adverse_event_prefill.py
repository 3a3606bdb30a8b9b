"""What the "record as adverse event" form starts with when it is opened from a record: an
alert, a circuit-check finding, a component changed for a failure, an aborted weaning
trial, a transfusion above the threshold, a round. Only what the record says is filled in
(code where the record names one, time, part, how it was detected, a description to edit);
class and harm are the clinician's judgement and are left to choose.

Detector → code: pump thrombosis → pump-head thrombosis; oxygenator dysfunction → membrane
lung failure; haemolysis → moderate or severe haemolysis by the pfHb at the alert's peak
against the programme's threshold (``quality_events``); circuit thrombosis → clot in a
circuit component; a rising membrane-lung pressure drop, access insufficiency and
recirculation → their own codes. Detectors with no matching complication (flow below
target, differential hypoxia, anticoagulation out of range) leave the code to choose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts.models import CircuitAlert
from continuum.core.run_record import Component
from continuum.quality.adverse_event_settings import in_force as screen_settings
from continuum.quality.adverse_events import SOURCE_MODELS
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.rounds.transfusion import Transfusion
from continuum.weaning.models import WeaningTrial

DETECTOR_CODES: dict[str, str | None] = {
    "pump_thrombosis": "mech_pump_clot",
    "oxygenator_dysfunction": "mech_ml_failure",
    "circuit_thrombosis": "mech_circuit_clot",
    "transmembrane_gradient_rise": "mech_ml_rising_gradient",
    "access_insufficiency": "mech_access_obstruction",
    "recirculation": "mech_recirculation",
    "hemolysis": "metab_haemolysis_moderate",  # severe above the pfHb threshold
    "flow_below_target": None,
    "differential_hypoxia": None,
    "anticoagulation_out_of_range": None,
    "impella_flow_low": None,
    "impella_purge_pressure": None,
    "lv_unloading_context": None,
}
# The component an alert's detector is about (the one in use when it was raised).
DETECTOR_PARTS: dict[str, str] = {
    "pump_thrombosis": "pump",
    "oxygenator_dysfunction": "membrane_lung",
    "transmembrane_gradient_rise": "membrane_lung",
    "circuit_thrombosis": "tubing_set",
    "hemolysis": "pump",
}
# Circuit-check inspection sites → the clot code and the component kind.
CLOT_GRADES = ("small_clot", "large_clot")  # fibrin alone is watched, not an event
GRADE_ORDER = {"none": 0, "not_present": 0, "fibrin": 1, "small_clot": 2, "large_clot": 3}
SITE_CODES: dict[str, tuple[str, str]] = {
    "pump_head": ("mech_pump_clot", "pump"),
    "ml_inlet": ("mech_ml_clot", "membrane_lung"),
    "ml_outlet": ("mech_ml_clot", "membrane_lung"),
    "connectors": ("mech_circuit_clot", "tubing_set"),
    "bridge": ("mech_circuit_clot", "tubing_set"),
    "drainage_cannula_site": ("mech_circuit_clot", "tubing_set"),
    "return_cannula_site": ("mech_circuit_clot", "tubing_set"),
}
# A component's stop reason that says it failed (core vocabulary), by component kind.
FAILURE_REASONS = (
    "oxygenator_failure",
    "rising_transmembrane_gradient",
    "thrombus",
    "haemolysis",
    "device_malfunction",
    "air",
    "rupture",
)
_COMMON = {"air": "mech_air", "haemolysis": "metab_haemolysis_moderate"}
FAILURE_CODES: dict[str, dict[str, str]] = {
    "membrane_lung": _COMMON
    | {
        "oxygenator_failure": "mech_ml_failure",
        "rising_transmembrane_gradient": "mech_ml_rising_gradient",
        "thrombus": "mech_ml_clot",
        "device_malfunction": "mech_ml_failure",
        "rupture": "mech_tubing_rupture",
    },
    "pump": _COMMON
    | {
        "thrombus": "mech_pump_clot",
        "device_malfunction": "mech_pump_failure",
        "rupture": "mech_raceway_rupture",
    },
    "console": _COMMON | {"device_malfunction": "mech_console_failure"},
    "heater": _COMMON | {"device_malfunction": "mech_heater_failure"},
    "tubing_set": _COMMON
    | {
        "thrombus": "mech_circuit_clot",
        "rupture": "mech_tubing_rupture",
        "device_malfunction": "mech_circuit_change",
    },
}
TRANSFUSION_CODE = "haem_major_other"


@dataclass
class Prefill:
    source_type: str
    source_id: int
    run_id: int
    at: datetime | None = None
    code: str | None = None
    detected_by: str = "bedside"
    component_id: int | None = None
    description: str = ""
    what: str = ""  # one line for lists: what the record says
    values: dict[str, Any] = field(default_factory=dict)

    def form_values(self) -> dict[str, Any]:
        """The form's starting values (the template reads them like posted values)."""
        out: dict[str, Any] = {
            "source_type": self.source_type,
            "source_id": str(self.source_id),
            "detected_by": self.detected_by,
            "description": self.description,
        }
        if self.code:
            out["code"] = self.code
        if self.component_id is not None:
            out["component_id"] = str(self.component_id)
        return out


def _component_in_use(session: Session, run_id: int, kind: str, at: datetime) -> int | None:
    stmt = (
        select(Component.id)
        .where(Component.run_id == run_id, Component.kind == kind, Component.started_at <= at)
        .where((Component.stopped_at.is_(None)) | (Component.stopped_at >= at))
        .order_by(Component.started_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def for_alert(session: Session, a: CircuitAlert) -> Prefill:
    code = DETECTOR_CODES.get(a.detector)
    if a.detector == "hemolysis":
        peak = ((a.evidence or {}).get("at_peak") or {}).get("pfhb")
        limit = screen_settings(session).pfhb_severe_mg_dl
        if isinstance(peak, int | float) and peak > limit:
            code = "metab_haemolysis_severe"
    part = DETECTOR_PARTS.get(a.detector)
    comp = _component_in_use(session, a.run_id, part, a.raised_at) if part else None
    return Prefill(
        "alert", a.id, a.run_id, a.raised_at, code, "alert", comp,
        f"{a.peak_severity.capitalize()} alert: {a.summary}",
        f"{a.peak_severity.capitalize()} alert: {a.summary}",
    )  # fmt: skip


def worst_clot(inspection: dict[str, str] | None) -> tuple[str, str] | None:
    """(site, grade) of the worst clot seen at a check, or None without clot."""
    found = [(GRADE_ORDER.get(g, 0), s, g) for s, g in (inspection or {}).items()
             if g in CLOT_GRADES]  # fmt: skip
    if not found:
        return None
    _, site, grade = max(found)
    return site, grade


def for_circuit_check(session: Session, c: CircuitCheck) -> Prefill:
    clot = worst_clot(c.inspection)
    code, comp = None, None
    seen = ", ".join(
        f"{words(s)} {words(g)}" for s, g in (c.inspection or {}).items() if g in CLOT_GRADES
    )
    if clot is not None:
        code, kind = SITE_CODES.get(clot[0], ("mech_circuit_clot", "tubing_set"))
        comp = _component_in_use(session, c.run_id, kind, c.checked_at)
    text = f"Circuit check ({c.shift} shift): {seen or 'finding'}"
    if c.findings:
        text += f". {c.findings}"
    return Prefill("circuit_check", c.id, c.run_id, c.checked_at, code, "circuit_check", comp,
                   text, f"Circuit check: {seen or 'finding'}")  # fmt: skip


def for_component(session: Session, c: Component) -> Prefill:
    code = FAILURE_CODES.get(c.kind, {}).get(c.stop_reason or "")
    name = " ".join(x for x in (c.make, c.model) if x)
    text = f"{words(c.kind).capitalize()} {name} changed: {words(c.stop_reason)}"
    if c.stop_note:
        text += f" — {c.stop_note}"
    return Prefill("component", c.id, c.run_id, c.stopped_at, code, "bedside", c.id, text,
                   f"{words(c.kind).capitalize()} changed: {words(c.stop_reason)}")  # fmt: skip


def for_weaning_trial(session: Session, t: WeaningTrial) -> Prefill:
    text = f"{words(t.kind).capitalize()} trial {t.status}"
    if t.outcome_reason:
        text += f": {t.outcome_reason}"
    return Prefill("weaning_trial", t.id, t.run_id, t.ended_at or t.started_at, None, "weaning",
                   None, text, f"{words(t.kind).capitalize()} trial {t.status}")  # fmt: skip


def red_cells_24h(session: Session, run_id: int, at: datetime) -> float:
    """Red-cell units given on the run in the 24 h up to ``at`` (hand entries and the
    circuit checks' tallies)."""
    start = at - timedelta(hours=24)
    hand = session.scalars(
        select(Transfusion.units).where(
            Transfusion.run_id == run_id, Transfusion.product == "red_cells",
            Transfusion.given_at > start, Transfusion.given_at <= at,
        )
    )  # fmt: skip
    total = sum(float(u or 0) for u in hand)
    checks = session.scalars(
        select(CircuitCheck).where(
            CircuitCheck.run_id == run_id, CircuitCheck.checked_at > start,
            CircuitCheck.checked_at <= at,
        )
    )  # fmt: skip
    for c in checks:
        units = (c.transfusions or {}).get("red_cells")
        if isinstance(units, int | float) and units > 0:
            total += float(units)
    return total


def for_transfusion(session: Session, t: Transfusion) -> Prefill:
    amount = f"{t.units:g} unit{'s' if t.units != 1 else ''}" if t.units else ""
    if t.volume_ml:
        amount = " / ".join(x for x in (amount, f"{t.volume_ml:g} mL") if x)
    text = f"Transfusion of {words(t.product)} {amount}: {t.reason}"
    if t.product == "red_cells":
        text = (
            f"Red cells {red_cells_24h(session, t.run_id, t.given_at):g} units within 24 h. {text}"
        )
    return Prefill("transfusion", t.id, t.run_id, t.given_at, TRANSFUSION_CODE, "bedside", None,
                   text, f"Transfusion {words(t.product)} {amount}")  # fmt: skip


def for_round(session: Session, r: RoundRecord) -> Prefill:
    return Prefill("round", r.id, r.run_id, r.held_at, None, "round", None,
                   f"Raised at the round of {r.round_date.isoformat()}",
                   f"Round {r.round_date.isoformat()}")  # fmt: skip


BUILDERS: dict[str, Any] = {
    "alert": for_alert,
    "circuit_check": for_circuit_check,
    "component": for_component,
    "weaning_trial": for_weaning_trial,
    "transfusion": for_transfusion,
    "round": for_round,
}


def prefill(session: Session, run_id: int, source_type: str, source_id: int) -> Prefill | None:
    """The pre-fill for a record of this run, or None when there is no such record on it
    (the form then opens blank; saving with that source would be refused)."""
    model = SOURCE_MODELS.get(source_type)
    if model is None:
        return None
    row = session.get(model, source_id)
    if row is None or row.run_id != run_id:
        return None
    result: Prefill = BUILDERS[source_type](session, row)
    return result

"""The perfusion circuit check: inspection by location, pressures, pump, gases, membrane-lung
O2 transfer (by the calculator), sweep, heater, anticoagulation and haemolysis trends,
transfusions since the last check. Readings are pre-filled from the latest observations;
findings never are: the last check's inspection is shown beside each site as a hint only
(``last_inspection``), so every grade is what this check saw."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.calculators import run_calculator
from continuum.core import audit, observation_service, participation_service
from continuum.core.clinical_event import check_summary, record_event, transfusion_text
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.errors import Conflict, NotFound, ProblemCollector, ValidationFailed
from continuum.rounds.actions import add_action, check_action
from continuum.rounds.models import CircuitCheck
from continuum.rounds.schemas import (
    CANNULA_SITES,
    GRADE_ORDER,
    GRADES,
    INSPECTION_SITES,
    OPTIONAL_SITES,
    PRODUCTS,
    SITE_LABELS,
    CircuitCheckIn,
)

READING_GROUPS: dict[str, tuple[str, ...]] = {
    "Pressures": ("p_access", "p_preoxy", "p_postoxy", "oxy_delta_p"),
    "Pump": ("pump_speed", "blood_flow"),
    "Gases": (
        "pre_oxy_po2",
        "pre_oxy_pco2",
        "pre_oxy_so2",
        "post_oxy_po2",
        "post_oxy_pco2",
        "post_oxy_so2",
    ),
    "Sweep": ("sweep_flow", "sweep_fio2"),
    "Heater and blood": ("blood_temp", "hb"),
}
READING_LABELS = {
    "p_access": "Drainage pressure (p_access)",
    "p_preoxy": "Pre-oxygenator pressure",
    "p_postoxy": "Post-oxygenator pressure",
    "oxy_delta_p": "ΔP across the membrane lung",
    "pump_speed": "Pump speed",
    "blood_flow": "Blood flow",
    "pre_oxy_po2": "Pre-oxygenator pO2",
    "pre_oxy_pco2": "Pre-oxygenator pCO2",
    "pre_oxy_so2": "Pre-oxygenator SO2",
    "post_oxy_po2": "Post-oxygenator pO2",
    "post_oxy_pco2": "Post-oxygenator pCO2",
    "post_oxy_so2": "Post-oxygenator SO2",
    "sweep_flow": "Sweep gas flow",
    "sweep_fio2": "FdO2 (sweep FiO2)",
    "blood_temp": "Blood temperature (heater)",
    "hb": "Haemoglobin",
}
CHECK_CODES = tuple(code for codes in READING_GROUPS.values() for code in codes)
MARKERS = (
    "anti_xa",
    "aptt",
    "act",
    "antithrombin",
    "pfhb",
    "ldh",
    "fibrinogen",
    "platelets",
    "d_dimer",
)
TRANSFER_INPUTS = {
    "blood_flow_l_min": "blood_flow",
    "hb_g_dl": "hb",
    "pre_so2_pct": "pre_oxy_so2",
    "pre_po2_mmhg": "pre_oxy_po2",
    "post_so2_pct": "post_oxy_so2",
    "post_po2_mmhg": "post_oxy_po2",
}


def prefill(session: Session, run_id: int) -> dict[str, dict[str, Any]]:
    """The latest value of each code the check covers, with its time."""
    out: dict[str, dict[str, Any]] = {}
    for code in CHECK_CODES:
        obs = observation_service.latest(session, run_id, code)
        if obs is not None:
            out[code] = {"value": obs.value, "unit": obs.unit, "time": obs.time.isoformat()}
            if obs.entered_unit is not None:  # entered in another unit: read as entered
                out[code].update(entered_value=obs.entered_value, entered_unit=obs.entered_unit)
    return out


def last_inspection(previous: CircuitCheck | None) -> dict[str, dict[str, Any]]:
    """The last check's grade at each site, with its time and shift: a hint shown beside
    the site, never a default (a copied-forward finding would be signed unseen)."""
    if previous is None:
        return {}
    return {
        site: {"grade": grade, "at": previous.checked_at, "shift": previous.shift}
        for site, grade in (previous.inspection or {}).items()
    }


def marker_trends(
    session: Session, run_id: int, now: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Anticoagulation and haemolysis markers over the last 3 days (newest last, at most 6)."""
    start = now - timedelta(days=3)
    out = {}
    for code in MARKERS:
        points = observation_service.series(session, run_id, code, start=start, end=now)
        if points:
            out[code] = points[-6:]
    return out


def o2_transfer(readings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Membrane-lung O2 transfer by the oxygenator_o2_transfer calculator, or what is missing."""
    missing = [code for code in TRANSFER_INPUTS.values() if code not in readings]
    if missing:
        return {"missing": missing}
    inputs = {name: readings[code]["value"] for name, code in TRANSFER_INPUTS.items()}
    try:
        result = run_calculator("oxygenator_o2_transfer", inputs)
    except ValidationFailed as exc:
        return {"missing": [p.field for p in exc.problems], "message": exc.message}
    return result.as_dict()


def _check_input(problems: ProblemCollector, data: CircuitCheckIn) -> None:
    for code, value in data.readings.items():
        if code not in CHECK_CODES:
            problems.add(f"readings.{code}", "not part of the circuit check", code)
            continue
        spec = vocabulary.get(code)
        if not spec.low <= value <= spec.high:
            problems.add(
                f"readings.{code}",
                f"{vocabulary.label(code)} {value:g} {spec.unit} is outside {spec.range_text}",
                value,
            )
    for site in data.inspection:
        if site not in INSPECTION_SITES:
            problems.add(f"inspection.{site}", "one of " + ", ".join(INSPECTION_SITES), site)
    for site in INSPECTION_SITES:
        grade = data.inspection.get(site)
        allowed = (*GRADES, "not_present") if site in OPTIONAL_SITES else GRADES
        if grade is None:  # a signed check says what was seen at every site
            problems.add(
                f"inspection.{site}",
                f"{SITE_LABELS[site]} not assessed: give " + ", ".join(allowed),
            )
        elif grade not in allowed:
            problems.add(
                f"inspection.{site}",
                f"{SITE_LABELS[site]} is part of every circuit: grade what was seen "
                "(" + ", ".join(GRADES) + "), not not_present",
                grade,
            )
    if all(data.inspection.get(site) == "not_present" for site in CANNULA_SITES):
        problems.add(
            "inspection.drainage_cannula_site",
            "every run has at least one cannula site: grade the drainage or the return site "
            "(a dual-lumen cannula's single site is graded as the drainage site)",
            "not_present",
        )
    for product, units in data.transfusions.items():
        if product not in PRODUCTS:
            problems.add(f"transfusions.{product}", "one of " + ", ".join(PRODUCTS), product)
        elif not 0 <= units <= 50:
            problems.add(f"transfusions.{product}", f"{units:g} is outside 0–50", units)
    if data.action is not None:
        check_action(problems, "action", data.action)


def _readings(
    data: CircuitCheckIn, latest: dict[str, dict[str, Any]], at: datetime
) -> dict[str, Any]:
    out = {code: {**value, "entered": False} for code, value in latest.items()}
    for code, value in data.readings.items():
        if code in latest and round(latest[code]["value"], 2) == round(value, 2):
            continue  # the pre-filled value, unchanged: keep its own time
        out[code] = {
            "value": value,
            "unit": vocabulary.get(code).unit,
            "time": at.isoformat(),
            "entered": True,
        }
    return out


def record_check(session: Session, actor: Actor, run: Run, data: CircuitCheckIn) -> CircuitCheck:
    """Store a check; typed readings override the pre-filled ones (kept in the check only)."""
    actor.require(Permission.CIRCUIT_CHECK)
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; no new circuit checks")
    problems = ProblemCollector()
    _check_input(problems, data)
    at = data.checked_at or utcnow()
    if at < run.started_at:
        problems.add(
            "checked_at",
            f"{at.isoformat()} is before the run started ({run.started_at.isoformat()})",
            at.isoformat(),
        )
    problems.raise_if_any()
    readings = _readings(data, prefill(session, run.id), at)
    row = CircuitCheck(
        run_id=run.id,
        checked_at=at,
        shift=data.shift,
        inspection={site: data.inspection[site] for site in INSPECTION_SITES},
        readings=readings,
        o2_transfer=o2_transfer(readings),
        heater=data.heater,
        transfusions=data.transfusions,
        findings=data.findings,
        checked_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "circuit_check",
        row.id,
        run.patient_id,
        {"run_id": run.id, "shift": data.shift},
    )
    if actor.staff_id is not None:
        participation_service.record_signature(session, actor, "circuit_check", row.id, run.id)
    _check_events(session, actor, run, row)
    if data.action is not None:
        add_action(session, actor, run, data.action, circuit_check_id=row.id, checked=True)
    return row


def _check_events(session: Session, actor: Actor, run: Run, row: CircuitCheck) -> None:
    """The check (with its findings) and any transfusions it records, on the timeline."""
    text = check_summary(row.shift, row.findings, row.inspection)
    rec = ("circuit_check", row.id)
    details = {"inspection": row.inspection}
    record_event(
        session, actor, "circuit_check.signed", row.checked_at, text, rec, run, details=details
    )
    given = transfusion_text(row.transfusions)
    if given:
        text = f"Transfused since the last check: {given}"
        record_event(
            session,
            actor,
            "transfusion.recorded",
            row.checked_at,
            text,
            rec,
            run,
            details=row.transfusions,
        )


def checks_for_run(session: Session, run_id: int, limit: int = 50) -> list[CircuitCheck]:
    stmt = (
        select(CircuitCheck)
        .where(CircuitCheck.run_id == run_id)
        .order_by(CircuitCheck.checked_at.desc(), CircuitCheck.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def get_check(session: Session, actor: Actor, check_id: int) -> CircuitCheck:
    actor.require(Permission.VIEW_CLINICAL)
    row = session.get(CircuitCheck, check_id)
    if row is None:
        raise NotFound(f"circuit check {check_id} not found")
    return row


def changes(
    previous: CircuitCheck | None, current: dict[str, Any], inspection: dict[str, str]
) -> dict[str, Any]:
    """What changed since the previous check: reading deltas and inspection grade moves."""
    if previous is None:
        return {"readings": {}, "inspection": {}}
    deltas = {}
    for code, now_value in current.items():
        before = previous.readings.get(code)
        if before is not None and before["value"] != now_value["value"]:
            deltas[code] = {
                "before": before["value"],
                "now": now_value["value"],
                "change": now_value["value"] - before["value"],
            }
    moved = {}
    for site, grade in inspection.items():
        old = previous.inspection.get(site, "none")
        if old != grade:
            worse = GRADE_ORDER.get(grade, 0) > GRADE_ORDER.get(old, 0)
            moved[site] = {"before": old, "now": grade, "worse": worse}
    return {"readings": deltas, "inspection": moved}

"""Demo adverse events, so the register, an event's history and the possible-events list
mean something: one raised from an alert (its harm then corrected by an amendment; harm
agreed by consensus comes only from a signed review, ``demo_reviews``), one circuit event
(the component changed for a failure, or else a membrane lung's rising pressure drop), one
bleeding at a cannula site. Other demo records
(the other critical alerts, clot at checks) stay on the possible-events list.
Written through the service like any user would (the clinical events come from the demo's
back-fill)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts.models import CircuitAlert
from continuum.core.roles import Actor
from continuum.core.run_record import Cannula, Component, Run
from continuum.quality import adverse_event_prefill, adverse_events
from continuum.quality.adverse_event_schemas import AdverseEventIn, AmendmentIn


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    nurse, perfusionist = staff["nurse"], staff["perfusionist"]
    reviewer = staff.get("qa_lead") or staff["coordinator"]
    runs = list(db.scalars(select(Run).order_by(Run.id)))
    if not runs:
        return
    alert = db.scalars(
        select(CircuitAlert)
        .where(CircuitAlert.detector.in_(["hemolysis", "pump_thrombosis",
                                          "oxygenator_dysfunction"]))
        .order_by(CircuitAlert.peak_severity, CircuitAlert.raised_at)
    ).first()  # fmt: skip
    if alert is not None:
        filled = adverse_event_prefill.for_alert(db, alert)
        if filled.code and filled.at is not None:
            event = adverse_events.record(
                db, perfusionist, alert.run_id,
                AdverseEventIn(
                    code=filled.code, event_class="incident", harm="mild",
                    occurred_at=filled.at, detected_by="alert", component_id=filled.component_id,
                    source_type="alert", source_id=alert.id, description=filled.description,
                    immediate_actions="Circuit inspected with the torch; pfHb and LDH repeated; "
                    "physician informed",
                ),
            )  # fmt: skip
            adverse_events.amend(
                db, reviewer, event.id,
                AmendmentIn(harm="moderate", reason="pfHb 120 mg/dL the next morning and "
                            "LDH rising: worse than first judged", version=1),
            )  # fmt: skip
    # A component changed for a failure, recorded from its change (the circuit event).
    failed = db.scalars(
        select(Component)
        .where(Component.stop_reason.in_(adverse_event_prefill.FAILURE_REASONS))
        .order_by(Component.stopped_at)
    ).first()
    filled_part = adverse_event_prefill.for_component(db, failed) if failed else None
    if failed is not None and filled_part is not None and filled_part.code and failed.stopped_at:
        adverse_events.record(
            db, perfusionist, failed.run_id,
            AdverseEventIn(
                code=filled_part.code, event_class="incident", harm="none",
                occurred_at=failed.stopped_at, detected_by="circuit_check",
                component_id=failed.id, source_type="component", source_id=failed.id,
                description=filled_part.description,
                immediate_actions="Membrane lung changed with the spare; post-oxygenator gas "
                "repeated",
            ),
        )  # fmt: skip
    else:
        ml = db.scalars(
            select(Component).where(Component.kind == "membrane_lung").order_by(Component.id)
        ).first()
        if ml is not None:
            run = db.get_one(Run, ml.run_id)
            at = min(ml.started_at + timedelta(hours=20), run.ended_at or now - timedelta(hours=1))
            adverse_events.record(
                db, perfusionist, run.id,
                AdverseEventIn(
                    code="mech_ml_rising_gradient", event_class="unsafe_condition", harm="none",
                    occurred_at=max(at, run.started_at), time_estimated=True,
                    detected_by="circuit_check", component_id=ml.id,
                    description="Membrane-lung pressure drop up 40 % from its baseline over "
                    "the night; post-oxygenator gas still good",
                    immediate_actions="Heparin target reviewed; spare membrane lung primed",
                ),
            )  # fmt: skip
    cannula = db.scalars(select(Cannula).order_by(Cannula.id.desc())).first()
    if cannula is not None:
        run = db.get_one(Run, cannula.run_id)
        at = min(cannula.inserted_at + timedelta(hours=6), run.ended_at or now - timedelta(hours=2))
        adverse_events.record(
            db, nurse, run.id,
            AdverseEventIn(
                code="haem_peripheral_cannula_site", category="haemorrhagic",
                event_class="incident", harm="mild", occurred_at=max(at, run.started_at),
                detected_by="bedside", cannula_id=cannula.id,
                description="Oozing at the femoral cannula site, dressing soaked twice in 2 h",
                immediate_actions="Pressure dressing; surgeon reviewed; anti-Xa checked",
            ),
        )  # fmt: skip

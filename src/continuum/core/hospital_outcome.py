"""The hospital outcome of an ended run: where the patient went after ECMO (discharged
alive, died in hospital, transferred alive to another hospital, or still in hospital), when,
and to which destination. Survival to hospital discharge (docs/quality-metrics.md) is read
from it.

Append-only: a correction is a new row naming the row it corrects (``corrects_id``) with a
required reason; after "still in hospital" the next status is simply a new row (a follow-up,
not a correction); the value in force is the run's latest row. Recorded only after the run
ended, never before its end, and never for a patient who died on ECMO (that outcome is
already known). Each row is audited and on the clinical timeline (``discharge.recorded``).
Recording it is a clinical act of the signers who end a run (``END_RUN``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from continuum.core import appended_rows, audit
from continuum.core.clinical_event import record_event
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import RecordId, Strict, not_future
from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.errors import Conflict, FieldProblem, ValidationFailed

STATUS_LABELS: dict[str, str] = {
    "discharged_alive": "Discharged alive",
    "died_in_hospital": "Died in hospital",
    "transferred_alive": "Transferred to another hospital alive",
    "in_hospital": "Still in hospital",
}
DESTINATION_LABELS: dict[str, str] = {
    "home": "Home",
    "another_hospital": "Another hospital",
    "rehabilitation": "Rehabilitation",
    "hospice": "Hospice",
    "other": "Other",
}
Status = Literal["discharged_alive", "died_in_hospital", "transferred_alive", "in_hospital"]
Destination = Literal["home", "another_hospital", "rehabilitation", "hospice", "other"]
# Alive at hospital discharge: left the hospital alive (home, rehabilitation, hospice,
# another hospital). "Still in hospital" is not an outcome yet.
SURVIVED = ("discharged_alive", "transferred_alive")
FINAL = ("discharged_alive", "died_in_hospital", "transferred_alive")
LEAVES = ("discharged_alive", "transferred_alive")  # a destination is needed


class HospitalOutcome(Base):
    __tablename__ = "hospital_outcome"
    __table_args__ = (
        CheckConstraint(sql_in("status", tuple(STATUS_LABELS)), name="status"),
        CheckConstraint(
            f"destination IS NULL OR {sql_in('destination', tuple(DESTINATION_LABELS))}",
            name="destination",
        ),
        CheckConstraint("corrects_id IS NULL OR reason IS NOT NULL", name="correction_reason"),
        Index("ix_hospital_outcome_run", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    destination: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("hospital_outcome.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def survived(self) -> bool | None:
        return None if self.status not in FINAL else self.status in SURVIVED

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def destination_label(self) -> str | None:
        return DESTINATION_LABELS.get(self.destination or "", self.destination)


class HospitalOutcomeIn(Strict):
    status: Status
    at: Annotated[AwareDatetime | None, AfterValidator(not_future)] = Field(
        default=None, description="when (discharge, death, transfer, or 'as of'); blank = now"
    )
    destination: Destination | None = None
    note: Annotated[str | None, Field(max_length=2000)] = None
    corrects_id: RecordId | None = Field(
        default=None, description="the row in force this one corrects (a correction)"
    )
    reason: Annotated[str | None, Field(min_length=3, max_length=2000)] = None


class HospitalOutcomeOut(Strict):
    id: int
    run_id: int
    status: str
    status_label: str
    at: datetime
    destination: str | None
    destination_label: str | None
    note: str | None
    corrects_id: int | None
    reason: str | None
    recorded_by: int | None
    recorded_at: datetime


class HospitalOutcomeView(Strict):
    run_id: int
    run_ended_at: datetime | None
    died_on_ecmo: bool
    in_force: HospitalOutcomeOut | None
    history: list[HospitalOutcomeOut] = Field(description="every row, newest first")


def history(session: Session, run_id: int) -> list[HospitalOutcome]:
    """Every row of the run, newest first (the first one is in force)."""
    return appended_rows.history(session, HospitalOutcome, run_id)


def in_force(session: Session, run_id: int) -> HospitalOutcome | None:
    return appended_rows.in_force(session, HospitalOutcome, run_id)


def in_force_for_runs(session: Session, run_ids: Iterable[int]) -> dict[int, HospitalOutcome]:
    """The value in force of each run that has one (the latest row)."""
    return appended_rows.in_force_for_runs(session, HospitalOutcome, run_ids)


def summary_text(status: str, destination: str | None, corrected: bool, reason: str | None) -> str:
    """The timeline line (the back-fill writes the same)."""
    text = STATUS_LABELS.get(status, status)
    if destination and status == "discharged_alive":
        text += f" ({DESTINATION_LABELS.get(destination, destination).lower()})"
    if corrected:
        return f"Hospital outcome corrected: {text} — {reason}"
    return f"Hospital outcome: {text}"


def _check(session: Session, run: Run, data: HospitalOutcomeIn, at: datetime) -> None:
    if run.status != "ended" or run.ended_at is None:
        raise Conflict(
            f"run {run.id} is still active: the hospital outcome is recorded after the run has "
            "ended (end the run first)"
        )
    if run.outcome == "died_on_ecmo":
        raise Conflict(
            f"run {run.id} ended with the patient's death on ECMO: the hospital outcome is "
            "already known and is not recorded separately"
        )
    problems: list[FieldProblem] = []
    if at < run.ended_at:
        problems.append(
            FieldProblem(
                "at",
                f"on or after the end of the run ({run.ended_at.isoformat()}); the hospital "
                "outcome follows ECMO",
                at.isoformat(),
            )
        )
    if data.status in LEAVES and data.destination is None:
        problems.append(
            FieldProblem(
                "destination",
                f"needed when the patient left the hospital alive: one of "
                f"{', '.join(DESTINATION_LABELS)}",
                None,
            )
        )
    if data.status not in LEAVES and data.destination is not None:
        problems.append(
            FieldProblem(
                "destination",
                f"left blank when the status is {data.status} (only a patient who left alive "
                "has a destination)",
                data.destination,
            )
        )
    if data.status == "transferred_alive" and data.destination not in (None, "another_hospital"):
        problems.append(
            FieldProblem(
                "destination",
                "another_hospital for a transfer to another hospital",
                data.destination,
            )
        )
    if data.corrects_id is not None and not data.reason:
        problems.append(
            FieldProblem("reason", "a correction needs its reason (3–2000 characters)", None)
        )
    if data.corrects_id is None and data.reason:
        problems.append(
            FieldProblem(
                "reason", "only a correction has a reason: give corrects_id too", data.reason
            )
        )
    if problems:
        raise ValidationFailed(problems)
    current = in_force(session, run.id)
    if data.corrects_id is None and current is not None and current.status == "in_hospital":
        if at < current.at:  # a follow-up of "still in hospital", not a correction
            raise ValidationFailed(
                [
                    FieldProblem(
                        "at",
                        f"on or after {current.at.isoformat()}, when the patient was last "
                        "recorded still in hospital",
                        at.isoformat(),
                    )
                ]
            )
        return
    if data.corrects_id is None and current is not None:
        raise Conflict(
            f"run {run.id} already has a hospital outcome (#{current.id}, "
            f"{current.status_label}): correct it (corrects_id {current.id}) with a reason"
        )
    if data.corrects_id is not None and (current is None or current.id != data.corrects_id):
        force = f"#{current.id}" if current is not None else "none recorded"
        raise Conflict(
            f"corrects_id {data.corrects_id} is not the run's hospital outcome in force "
            f"({force}): a correction names the value in force"
        )


def record(session: Session, actor: Actor, run: Run, data: HospitalOutcomeIn) -> HospitalOutcome:
    """Record (or correct: ``corrects_id`` + ``reason``) the run's hospital outcome."""
    actor.require(Permission.END_RUN)
    at = data.at or utcnow()
    _check(session, run, data, at)
    row = HospitalOutcome(
        run_id=run.id,
        patient_id=run.patient_id,
        status=data.status,
        at=at,
        destination=data.destination,
        note=data.note or None,
        corrects_id=data.corrects_id,
        reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    detail = {
        "status": data.status,
        "at": at.isoformat(),
        "destination": data.destination,
        "corrects_id": data.corrects_id,
    }
    action = "create" if data.corrects_id is None else "correct"
    audit.record(session, actor, action, "hospital_outcome", row.id, run.patient_id, detail)
    record_event(
        session,
        actor,
        "discharge.recorded",
        at,
        summary_text(data.status, data.destination, data.corrects_id is not None, data.reason),
        ("hospital_outcome", row.id),
        run,
        details={"status": data.status, "destination": data.destination},
    )
    return row


def out(row: HospitalOutcome) -> HospitalOutcomeOut:
    return HospitalOutcomeOut(
        id=row.id,
        run_id=row.run_id,
        status=row.status,
        status_label=row.status_label,
        at=row.at,
        destination=row.destination,
        destination_label=row.destination_label,
        note=row.note,
        corrects_id=row.corrects_id,
        reason=row.reason,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )

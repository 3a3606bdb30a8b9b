"""Transfusions entered on their own: a blood product given to the patient on a run (the
product, units and/or volume, when it was given and why). Circuit checks also record what
was transfused since the previous check; this is for a transfusion at any other moment.
Each one is audited and on the run's clinical timeline (``transfusion.recorded``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, model_validator
from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from continuum.core import audit
from continuum.core.clinical_event import record_event, transfusion_entry_text
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import Strict, not_future
from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.errors import FieldProblem, ValidationFailed

PRODUCT_LABELS: dict[str, str] = {
    "red_cells": "Red cells",
    "platelets": "Platelets",
    "plasma": "Plasma",
    "cryoprecipitate": "Cryoprecipitate",
}
Product = Literal["red_cells", "platelets", "plasma", "cryoprecipitate"]
MAX_UNITS = 10.0  # one entry: a transfusion, not a massive-transfusion protocol's tally
MAX_VOLUME_ML = 4000.0


class Transfusion(Base):
    __tablename__ = "rounds_transfusion"
    __table_args__ = (
        CheckConstraint(sql_in("product", tuple(PRODUCT_LABELS)), name="product"),
        CheckConstraint("units IS NOT NULL OR volume_ml IS NOT NULL", name="amount"),
        Index("ix_rounds_transfusion_run_time", "run_id", "given_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    product: Mapped[str] = mapped_column(String(24))
    units: Mapped[float | None] = mapped_column(Float)
    volume_ml: Mapped[float | None] = mapped_column(Float)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransfusionIn(Strict):
    product: Product
    units: Annotated[float | None, Field(gt=0, le=MAX_UNITS)] = None
    volume_ml: Annotated[float | None, Field(gt=0, le=MAX_VOLUME_ML)] = None
    given_at: Annotated[AwareDatetime | None, AfterValidator(not_future)] = None
    reason: Annotated[str, Field(min_length=3, max_length=500)]

    @model_validator(mode="after")
    def _amount(self) -> TransfusionIn:
        if self.units is None and self.volume_ml is None:
            raise ValueError("give the units, the volume (mL) or both")
        return self


class TransfusionOut(Strict):
    id: int
    run_id: int
    product: str
    units: float | None
    volume_ml: float | None
    given_at: datetime
    reason: str
    recorded_by: int | None


def record_transfusion(
    session: Session, actor: Actor, run: Run, data: TransfusionIn
) -> Transfusion:
    actor.require(Permission.ENTER_OBSERVATION)
    at = data.given_at or utcnow()
    end = run.ended_at
    if at < run.started_at or (end is not None and at > end):
        window = f"{run.started_at.isoformat()} – {end.isoformat() if end else 'now'}"
        raise ValidationFailed(
            [FieldProblem("given_at", f"within the run ({window})", at.isoformat())]
        )
    row = Transfusion(
        run_id=run.id,
        product=data.product,
        units=data.units,
        volume_ml=data.volume_ml,
        given_at=at,
        reason=data.reason,
        recorded_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    detail = {"product": data.product, "units": data.units, "volume_ml": data.volume_ml}
    audit.record(session, actor, "create", "transfusion", row.id, run.patient_id, detail)
    record_event(
        session,
        actor,
        "transfusion.recorded",
        at,
        transfusion_entry_text(data.product, data.units, data.volume_ml, data.reason),
        ("transfusion", row.id),
        run,
        details=detail,
    )
    return row


def for_run(session: Session, run_id: int) -> list[Transfusion]:
    stmt = (
        select(Transfusion)
        .where(Transfusion.run_id == run_id)
        .order_by(Transfusion.given_at.desc(), Transfusion.id.desc())
    )
    return list(session.scalars(stmt))

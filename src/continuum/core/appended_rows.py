"""Per-run records kept as appended rows (a correction is a new row; the newest is in force),
e.g. the hospital outcome and the ECPR times: their history and the row in force, one run or
many at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

Row = TypeVar("Row", bound=Any)  # an ORM class with ``id`` and ``run_id`` columns


def history(session: Session, model: type[Row], run_id: int) -> list[Row]:
    """Every row of the run, newest first (the first one is in force)."""
    stmt = select(model).where(model.run_id == run_id).order_by(model.id.desc())
    return list(session.scalars(stmt))


def in_force(session: Session, model: type[Row], run_id: int) -> Row | None:
    rows = history(session, model, run_id)
    return rows[0] if rows else None


def in_force_for_runs(session: Session, model: type[Row], run_ids: Iterable[int]) -> dict[int, Row]:
    """The row in force of each run that has one (the latest), in chunks of 900 ids."""
    ids = list(run_ids)
    out: dict[int, Row] = {}
    for start in range(0, len(ids), 900):
        stmt = select(model).where(model.run_id.in_(ids[start : start + 900])).order_by(model.id)
        for row in session.scalars(stmt):
            out[row.run_id] = row  # the latest wins
    return out

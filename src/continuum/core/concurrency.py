"""No silent overwrites: conditional state transitions and versioned edits.

Two tools, both a single conditional ``UPDATE`` so they hold across processes on SQLite
(the writer lock, then a fresh snapshot) and PostgreSQL (the row lock, then the WHERE is
re-checked on the committed row):

- ``transition``: ``UPDATE … SET <state> WHERE id = :id AND <still open>``. Exactly one of
  two racing requests changes the row; the other gets ``AlreadyDone`` (409) naming who
  did it and when.
- ``claim_version``: ``UPDATE … SET version = :v + 1 WHERE id = :id AND version = :v``. A
  save made on an older version gets ``StaleRecord`` (409) naming who saved the newer
  one and when; nothing is overwritten.

Call either *before* changing the record's attributes in the session (the statement
autoflushes pending changes first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from continuum.core.people import Staff
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, ValidationFailed


class AlreadyDone(Conflict):
    """The second of two racing state changes: "already signed by X at T"."""

    name = "already_done"

    def __init__(self, message: str, by: str | None = None, at: datetime | None = None) -> None:
        super().__init__(message)
        self.by, self.at = by, at

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["by"] = self.by
        data["at"] = self.at.isoformat() if self.at else None
        return data


class StaleRecord(Conflict):
    """A save made on an older version of the record."""

    name = "stale_version"

    def __init__(
        self,
        what: str,
        given: int,
        current: int,
        by: str | None,
        at: datetime | None,
        record: Any = None,
    ) -> None:
        when = f" at {stamp(at)}" if at else ""
        who = f" by {by}" if by else ""
        super().__init__(
            f"{what} was changed{who}{when} after you opened it (you opened version {given}, "
            f"it is now version {current}): review the saved version and save again"
        )
        self.given, self.current, self.by, self.at = given, current, by, at
        self.record = record

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.update(
            your_version=self.given,
            current_version=self.current,
            changed_by=self.by,
            changed_at=self.at.isoformat() if self.at else None,
        )
        return data


def stamp(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "an unknown time"


def who(session: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return "the system"
    staff = session.get(Staff, staff_id)
    return staff.name if staff is not None else f"staff {staff_id}"


def _apply(record: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        set_committed_value(record, key, value)


def transition(
    session: Session, record: Any, still_open: ColumnElement[bool], values: dict[str, Any]
) -> bool:
    """Change ``record``'s state if ``still_open`` holds in the database. True if this
    request made the change; False if another got there first (``record`` is then
    refreshed with the winner's values)."""
    model = type(record)
    result = session.execute(
        update(model)
        .where(model.id == record.id, still_open)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        _apply(record, values)
        return True
    session.refresh(record)
    return False


def require_version(version: int | None, field_name: str = "version") -> int:
    if version is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    field_name,
                    "give the version of the record you opened (or the If-Match header); "
                    "it protects a colleague's newer save from being overwritten",
                    None,
                )
            ]
        )
    return version


def claim_version(
    session: Session,
    record: Any,
    version: int | None,
    actor_staff_id: int | None,
    what: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Move ``record`` from ``version`` to ``version + 1`` (and set ``updated_by`` /
    ``updated_at``), or raise ``StaleRecord`` if someone saved it since."""
    given = require_version(version)
    model = type(record)
    values: dict[str, Any] = {
        "version": given + 1,
        "updated_by": actor_staff_id,
        "updated_at": utcnow(),
        **(extra or {}),
    }
    result = session.execute(
        update(model)
        .where(model.id == record.id, model.version == given)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        _apply(record, values)
        return
    session.refresh(record)
    raise StaleRecord(
        what,
        given,
        record.version,
        who(session, record.updated_by),
        record.updated_at,
        record,
    )


def is_unique_violation(exc: IntegrityError) -> bool:
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate key" in text

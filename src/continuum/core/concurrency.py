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

from collections.abc import Callable
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


def from_if_match(header: str | None) -> int | None:
    """The version named by an ``If-Match`` header (``3``, ``"3"`` or ``W/"3"``)."""
    if not header:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 10:
        raise ValidationFailed(
            [FieldProblem("If-Match", 'give the record\'s version number, e.g. "3"', header)]
        )
    return int(text)


def with_version(data: Any, if_match: str | None, required: bool = False) -> Any:
    """``data`` with its ``version`` taken from the body, else from ``If-Match``. With
    ``required`` (API edits and signatures), a request that names neither is refused: a
    client that never read the record must not overwrite or sign what a colleague saved."""
    if getattr(data, "version", None) is None and if_match:
        data = data.model_copy(update={"version": from_if_match(if_match)})
    if required:
        require_version(getattr(data, "version", None))
    return data


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
    still_open: ColumnElement[bool] | None = None,
    closed: Callable[[], Conflict] | None = None,
) -> None:
    """Move ``record`` from ``version`` to ``version + 1`` (and set ``updated_by`` /
    ``updated_at``), or raise ``StaleRecord`` if someone saved it since. ``still_open``
    (e.g. "not signed yet") is checked in the same statement; when only it fails,
    ``closed()`` is raised."""
    model = type(record)
    if version is None:  # an in-process caller holding the record: last write
        return _bump(session, record, actor_staff_id, extra, still_open, closed)
    given = version
    condition = model.version == given
    if still_open is not None:
        condition = condition & still_open
    values: dict[str, Any] = {
        "version": given + 1,
        "updated_by": actor_staff_id,
        "updated_at": utcnow(),
        **(extra or {}),
    }
    result = session.execute(
        update(model)
        .where(model.id == record.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        _apply(record, values)
        return
    session.refresh(record)
    if record.version == given and closed is not None:
        raise closed()
    raise StaleRecord(
        what,
        given,
        record.version,
        who(session, record.updated_by),
        record.updated_at,
        record,
    )


def _bump(
    session: Session,
    record: Any,
    actor_staff_id: int | None,
    extra: dict[str, Any] | None,
    still_open: ColumnElement[bool] | None,
    closed: Callable[[], Conflict] | None,
) -> None:
    model = type(record)
    values: dict[str, Any] = {"updated_by": actor_staff_id, "updated_at": utcnow(), **(extra or {})}
    stmt = update(model).where(model.id == record.id)
    if still_open is not None:
        stmt = stmt.where(still_open)
    result = session.execute(
        stmt.values(version=model.version + 1, **values).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(record)
        raise closed() if closed is not None else Conflict("the record cannot change now")
    _apply(record, values)
    session.refresh(record, ["version"])


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested dicts/lists → {"a.b": "value"} for showing two versions side by side."""
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and any(isinstance(v, dict | list) for v in data):
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{i}]"))
    elif data not in (None, "", [], {}):
        out[prefix] = ", ".join(map(str, data)) if isinstance(data, list) else str(data)
    return out


def side_by_side(yours: dict[str, Any], saved: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows (field, your value, saved value) for a stale save's conflict page: every field
    either version has, so the clinician can merge and save again."""
    mine, theirs = flatten(yours), flatten(saved)
    keys = list(dict.fromkeys([*mine, *theirs]))
    return [(k, mine.get(k, ""), theirs.get(k, "")) for k in keys]


def insert_or_conflict(session: Session, conflict: Callable[[], Conflict]) -> None:
    """Flush a new row whose uniqueness a racing request may have taken first (e.g. the
    round of a run and day): the database refuses the second, which gets ``conflict()``
    (409) instead of a 500. The transaction is rolled back first, so ``conflict`` may read
    what the other request committed."""
    try:
        session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        session.rollback()
        raise conflict() from exc


def is_unique_violation(exc: IntegrityError) -> bool:
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate key" in text

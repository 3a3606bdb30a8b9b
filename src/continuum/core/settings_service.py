"""One home for every programme setting: a typed registry, one store, one audit trail.

Each domain declares its settings once, as a ``SettingGroup`` (key, label, type, published
default, allowed range, unit, provenance tag and source text, and the permission that
governs a change). The groups are listed in ``continuum.domains.SETTINGS_MODULES``; every
module there exposes ``SETTINGS: SettingGroup``. Values live in ``programme_setting``
(one row per setting a programme changed; no row: the published default applies).

Clinical thresholds are changed by clinical leads (``MANAGE_CLINICAL_SETTINGS``: quality
lead, physician lead) and read by anyone who sees clinical data; integration settings are
changed and read by ``MANAGE_INTEGRATION`` (the IT administrator).
Every change is audited with the old and the new value in force.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.record import ProgrammeSetting
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import FieldProblem, Forbidden, NotFound, ValidationFailed

Kind = Literal["number", "integer", "flag"]  # flag: yes (1) or no (0)
YES_WORDS = ("yes", "y", "true", "on", "1")
NO_WORDS = ("no", "n", "false", "off", "0")
Provenance = Literal["P", "S", "U"]
PROVENANCE_LABELS: dict[str, str] = {
    "P": "primary published source",
    "S": "secondary source",
    "U": "centre-configurable default, no published source",
}
NOTE_MAX = 2000


def provenance_of(source: str) -> Provenance:
    """The weakest tag the source text names ([U] before [S] before [P]); untagged: U."""
    for tag in ("U", "S", "P"):
        if f"[{tag}]" in source:
            return tag  # type: ignore[return-value]
    return "U"


@dataclass(frozen=True)
class Setting:
    """One setting: what it is, its published default and what a programme may choose."""

    key: str
    label: str
    default: float
    low: float
    high: float
    unit: str
    source: str
    kind: Kind = "number"
    provenance: Provenance | None = None  # None: read from the source text
    store_key: str = ""  # the programme_setting key; "" → "<group>.<key>"

    @property
    def tag(self) -> Provenance:
        return self.provenance or provenance_of(self.source)

    @property
    def allowed(self) -> str:
        if self.kind == "flag":
            return "yes or no"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.low:g}–{self.high:g}{unit}"


@dataclass(frozen=True)
class SettingGroup:
    """A domain's settings, shown together on one page (``/settings/<name>``)."""

    name: str
    title: str
    description: str
    change: Permission
    view: tuple[Permission, ...]
    settings: tuple[Setting, ...]
    after_save: str = ""  # when a change takes effect, said on the page
    order: int = 50
    # (lower, upper): after any change the value in force of lower may not exceed upper's
    # (e.g. a warning below its critical threshold, a range's bounds in order).
    ordered: tuple[tuple[str, str], ...] = ()
    # Optional read-out shown under the settings: (title, [(name, text), ...]) computed from
    # the values in force, e.g. the detectors' rules as the thresholds now make them read.
    explain: Callable[[Session], tuple[str, list[tuple[str, str]]]] | None = None
    by_key: dict[str, Setting] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {s.key: s for s in self.settings})

    def store_key(self, s: Setting) -> str:
        return s.store_key or f"{self.name}.{s.key}"

    def may_view(self, actor: Actor) -> bool:
        return actor.can(self.change) or any(actor.can(p) for p in self.view)

    def may_change(self, actor: Actor) -> bool:
        return actor.can(self.change)


def groups() -> list[SettingGroup]:
    """Every domain's settings group, in page order."""
    from continuum.domains import SETTINGS_MODULES

    found = [importlib.import_module(m).SETTINGS for m in SETTINGS_MODULES]
    return sorted(found, key=lambda g: (g.order, g.name))


def group(name: str) -> SettingGroup:
    for g in groups():
        if g.name == name:
            return g
    known = ", ".join(g.name for g in groups())
    raise NotFound(f"no settings group '{name}'; one of {known}")


def visible_groups(actor: Actor) -> list[SettingGroup]:
    return [g for g in groups() if g.may_view(actor)]


# --- reading ----------------------------------------------------------------------------


def _rows(session: Session, g: SettingGroup) -> dict[str, ProgrammeSetting]:
    keys = {g.store_key(s): s.key for s in g.settings}
    stmt = select(ProgrammeSetting).where(ProgrammeSetting.key.in_(list(keys)))
    return {keys[r.key]: r for r in session.scalars(stmt)}


def _typed(s: Setting, raw: Any) -> float | int | None:
    """A stored value as the setting's type; None when it cannot be used (then the default)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None
    return int(raw) if s.kind in ("integer", "flag") else float(raw)


# Per transaction, each group's overrides as read (a page asks for the thresholds once per
# run on the rounds board): session.info[_MEMO] = (transaction, {group: overrides}). A new
# transaction reads them again, so a change saved by another process counts at the next
# request; a change in this session (``save``, or any ProgrammeSetting flushed or pending)
# drops them.
_MEMO = "continuum.settings_overrides"


def _memo(session: Session) -> dict[str, Any] | None:
    txn = session.get_transaction()
    if txn is None:
        return None
    held = session.info.get(_MEMO)
    if held is None or held[0] is not txn or _pending_setting(session):
        held = (txn, {})
        session.info[_MEMO] = held
    memo: dict[str, Any] = held[1]
    return memo


def _pending_setting(session: Session) -> bool:
    return any(
        isinstance(o, ProgrammeSetting) for o in (*session.new, *session.dirty, *session.deleted)
    )


@event.listens_for(Session, "after_flush")
def _forget_overrides(session: Session, _context: Any) -> None:
    if _MEMO in session.info and _pending_setting(session):
        session.info.pop(_MEMO, None)


# Under the memo, beside the groups: every stored setting's raw value, read in one
# statement the first time a transaction asks for any group (a page asks for several: a
# SELECT of ORM rows per group cost ~4 % of an app process's CPU under the load test).
_STORED = "\0stored"


def _stored(session: Session) -> dict[str, Any]:
    memo = _memo(session)
    if memo is not None and _STORED in memo:
        found: dict[str, Any] = memo[_STORED]
        return found
    read = session.execute(select(ProgrammeSetting.key, ProgrammeSetting.value))
    stored = {key: value for key, value in read}
    memo = _memo(session)  # the read above began the transaction when none was open
    if memo is not None:
        memo[_STORED] = stored
    return stored


def overrides(session: Session, name: str) -> dict[str, float | int]:
    """The values the programme set for one group (no system actor needed: domains read
    their thresholds in force through this and ``values``)."""
    memo = _memo(session)
    if memo is not None and name in memo:
        return dict(memo[name])
    g = group(name)
    stored = _stored(session)
    out: dict[str, float | int] = {}
    for setting in g.settings:
        key = g.store_key(setting)
        if key in stored:
            value = _typed(setting, stored[key])
            if value is not None:
                out[setting.key] = value
    memo = _memo(session)
    if memo is not None:
        memo[name] = dict(out)
    return out


def values(session: Session, name: str) -> dict[str, float | int]:
    """Every setting of a group as in force: the programme's value, else the default."""
    g = group(name)
    own = overrides(session, name)
    return {s.key: own.get(s.key, _default(s)) for s in g.settings}


def _default(s: Setting) -> float | int:
    return int(s.default) if s.kind in ("integer", "flag") else s.default


def shown(kind: str, value: float | int) -> str:
    """A value as the page writes it: "yes"/"no" for a flag, else the number."""
    if kind == "flag":
        return "yes" if value else "no"
    return f"{value:g}"


@dataclass(frozen=True)
class SettingView:
    key: str
    label: str
    kind: str
    value: float | int
    default: float | int
    overridden: bool
    low: float
    high: float
    unit: str
    allowed: str
    provenance: str
    provenance_label: str
    source: str
    note: str | None
    updated_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def describe(session: Session, actor: Actor, name: str) -> list[SettingView]:
    """Every setting of a group: value in force, default, range, unit, provenance, source."""
    g = group(name)
    require_view(actor, g)
    rows = _rows(session, g)
    out = []
    for s in g.settings:
        row = rows.get(s.key)
        own = None if row is None else _typed(s, row.value)
        out.append(
            SettingView(
                key=s.key,
                label=s.label,
                kind=s.kind,
                value=_default(s) if own is None else own,
                default=_default(s),
                overridden=own is not None,
                low=s.low,
                high=s.high,
                unit=s.unit,
                allowed=s.allowed,
                provenance=s.tag,
                provenance_label=PROVENANCE_LABELS[s.tag],
                source=s.source,
                note=None if row is None else row.note,
                updated_at=None if row is None else row.updated_at.isoformat(),
            )
        )
    return out


def require_view(actor: Actor, g: SettingGroup) -> None:
    if not g.may_view(actor):
        raise Forbidden(f"the {actor.role} role may not view the {g.title.lower()}")


def require_change(actor: Actor, g: SettingGroup) -> None:
    if not g.may_change(actor):
        what = g.change.value.replace("_", " ")
        raise Forbidden(f"the {actor.role} role may not {what} ({g.title.lower()})")


# --- checking and saving ----------------------------------------------------------------


def check(name: str, raw: Mapping[str, Any]) -> dict[str, float | int | None]:
    """Each given value as its type (blank or None: back to the default). One error names
    every bad one: key, value given, allowed range and unit."""
    g = group(name)
    problems: list[FieldProblem] = []
    clean: dict[str, float | int | None] = {}
    for key, value in raw.items():
        s = g.by_key.get(key)
        if s is None:
            known = ", ".join(g.by_key)
            problems.append(FieldProblem(key, f"not a {g.name} setting; one of {known}", value))
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            clean[key] = None
            continue
        number = parse(value, s.kind)
        given = value.strip() if isinstance(value, str) else _shown(value)
        unit = f" {s.unit}" if s.unit else ""
        if number is None:
            what = {"integer": "a whole number", "flag": "yes or no"}.get(s.kind, "a number")
            msg = f"{s.label} ({key}): '{given}' is not {what}; allowed {s.allowed}"
            problems.append(FieldProblem(key, msg, value))
        elif not s.low <= number <= s.high:
            msg = f"{s.label} ({key}): {given}{unit} is outside the allowed {s.allowed}"
            problems.append(FieldProblem(key, msg, value))
        else:
            clean[key] = number
    if problems:
        raise ValidationFailed(problems)
    return clean


def _shown(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:g}"
    return value


def parse(raw: Any, kind: str) -> float | int | None:
    """A given value as the kind's number, None when it is not one. A flag takes yes/no,
    true/false, on/off or 1/0 (1 yes, 0 no)."""
    if kind == "flag":
        if isinstance(raw, bool):
            return int(raw)
        word = str(raw).strip().lower()
        if word in YES_WORDS:
            return 1
        if word in NO_WORDS:
            return 0
        if isinstance(raw, int | float) and raw in (0, 1):
            return int(raw)
        return None
    return _number(raw, kind)


def _number(raw: Any, kind: str) -> float | int | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    if kind == "integer":
        return int(value) if value.is_integer() else None
    return value


def _check_order(
    g: SettingGroup, now: dict[str, Any], clean: Mapping[str, float | int | None]
) -> None:
    """Every ordered pair still in order once the change applies (blank: the default)."""
    after = {k: (_default(g.by_key[k]) if v is None else v) for k, v in now.items()}
    problems: list[FieldProblem] = []
    for low_key, high_key in g.ordered:
        if low_key not in clean and high_key not in clean:
            continue
        low, high = after[low_key], after[high_key]
        if low > high:
            s_low, s_high = g.by_key[low_key], g.by_key[high_key]
            unit = f" {s_low.unit}" if s_low.unit else ""
            key = low_key if low_key in clean else high_key
            msg = (
                f"{s_low.label} ({low_key}) {low:g}{unit} may not exceed "
                f"{s_high.label} ({high_key}) {high:g}{unit}"
            )
            problems.append(FieldProblem(key, msg, clean[key]))
    if problems:
        raise ValidationFailed(problems)


@dataclass(frozen=True)
class Change:
    key: str
    old: float | int
    new: float | int
    unit: str


def save(
    session: Session,
    actor: Actor,
    name: str,
    raw: Mapping[str, Any],
    note: str | None = None,
) -> list[Change]:
    """Set (or, with a blank, clear) some settings of a group: all or nothing. Returns the
    settings whose value in force changed; each is audited with its old and new value."""
    g = group(name)
    require_change(actor, g)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        msg = f"{len(note)} characters; at most {NOTE_MAX}"
        raise ValidationFailed([FieldProblem("note", msg, None)])
    clean = check(name, raw)
    session.info.pop(_MEMO, None)
    rows = _rows(session, g)
    _check_order(g, {**values(session, name), **clean}, clean)
    changes: list[Change] = []
    for key, value in clean.items():
        s = g.by_key[key]
        row = rows.get(key)
        before_own = None if row is None else _typed(s, row.value)
        old = _default(s) if before_own is None else before_own
        new = _default(s) if value is None else value
        keep = value is not None and value != _default(s)  # a row only when it differs
        if keep:
            if row is not None and before_own == value:
                continue
            row = row or ProgrammeSetting(key=g.store_key(s))
            row.value, row.note = value, note
            row.updated_by, row.updated_at = actor.staff_id, utcnow()
            session.add(row)
        elif row is not None:
            session.delete(row)
        if old == new:
            continue
        changes.append(Change(key, old, new, s.unit))
        detail = {
            "group": g.name,
            "key": key,
            "old": old,
            "new": new,
            "default": _default(s),
            "unit": s.unit,
            "note": note,
        }
        audit.record(session, actor, "update", "programme_setting", g.store_key(s), None, detail)
    session.flush()
    session.info.pop(_MEMO, None)
    return changes

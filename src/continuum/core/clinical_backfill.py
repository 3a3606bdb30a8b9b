"""Derive clinical events from the stored records (migration 0017, and the demo loader).

Reads the tables as they were at migration 0017 through lightweight table definitions (no
ORM models, no domain imports), so it also runs inside the migration. Idempotent: an event
already present (same kind, source record, clinical time and summary) is not written again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from continuum import display_names
from continuum.core.clinical_event import (
    SYSTEM_DISCIPLINE,
    alert_summary,
    check_summary,
    follow_up_text,
    goals_text,
    status_text,
    transfusion_entry_text,
    transfusion_text,
    words,
)
from continuum.core.vocab import OUTCOME_LABELS
from continuum.db import UTCDateTime, utcnow

T = UTCDateTime()


def _table(name: str, *cols: str | tuple[str, Any]) -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) if isinstance(c, str) else sa.column(c[0], c[1]) for c in cols)
    )


STAFF = _table("staff", "id", "name", "discipline")
RUN = _table(
    "run", "id", "patient_id", "support_type", ("started_at", T), ("ended_at", T),
    "outcome", "stop_reason", "created_by",
)  # fmt: skip
MODE = _table("mode_segment", "id", "run_id", "mode", ("started_at", T), "reason", "recorded_by")
CANNULA = _table(
    "cannula", "id", "run_id", "role", "site", "side", "french", ("inserted_at", T), "recorded_by"
)
COMPONENT = _table(
    "component", "id", "run_id", "kind", "make", "model", ("started_at", T), "stop_reason",
    "replaces_id", "recorded_by",
)  # fmt: skip
# The run-level timeline of migrations 0001-0017 (dropped by 0018): who ended each run.
OLD_TIMELINE = _table("timeline_event", "run_id", "kind", "record_type", "record_id", "recorded_by")
AUDIT = _table(
    "audit_log", "id", "actor_id", "action", "entity", "entity_id", ("detail", sa.JSON())
)
OBSERVATION = _table(
    "observation", "id", "run_id", "code", ("time", T), "value", "unit", "source",
    "entered_by", ("recorded_at", T), "amends_id",
)  # fmt: skip
AMENDMENT = _table(
    "observation_amendment", "id", "original_id", "replacement_id", "reason", "amended_by",
    ("amended_at", T),
)  # fmt: skip
PARTICIPATION = _table("participation", "record_type", "record_id", "staff_id", "how")
EVENT = _table(
    "clinical_event", "patient_id", "run_id", "kind", ("clinical_time", T), ("recorded_at", T),
    "staff_id", "by_name", "discipline", "record_type", "record_id", "summary",
    ("details", sa.JSON()),
)  # fmt: skip


class _Writer:
    def __init__(self, conn: Connection, only: frozenset[str] | None = None) -> None:
        self.conn = conn
        self.only = only
        self.staff = {r.id: r for r in conn.execute(sa.select(STAFF))}
        self.runs = {r.id: r for r in conn.execute(sa.select(RUN))}
        self.seen = {
            (r.kind, r.record_type, r.record_id, r.clinical_time, r.summary)
            for r in conn.execute(
                sa.select(EVENT.c.kind, EVENT.c.record_type, EVENT.c.record_id,
                          EVENT.c.clinical_time, EVENT.c.summary)
            )
        }  # fmt: skip
        self.rows: list[dict[str, Any]] = []
        self.now = utcnow()

    def has(self, name: str) -> bool:
        return sa.inspect(self.conn).has_table(name)

    def add(
        self,
        kind: str,
        at: datetime | None,
        summary: str,
        record: tuple[str, int],
        run_id: int | None,
        staff_id: int | None = None,
        patient_id: int | None = None,
        details: dict[str, Any] | None = None,
        system: str | None = None,
    ) -> None:
        if at is None or (self.only is not None and kind not in self.only):
            return
        key = (kind, record[0], record[1], at, summary[:2000])
        if key in self.seen:
            return
        self.seen.add(key)
        if patient_id is None:
            patient_id = self.runs[run_id].patient_id if run_id in self.runs else None
        if patient_id is None:
            return
        person = self.staff.get(staff_id) if staff_id is not None else None
        self.rows.append(
            {
                "patient_id": patient_id,
                "run_id": run_id,
                "kind": kind,
                "clinical_time": at,
                "recorded_at": self.now,
                "staff_id": person.id if person else None,
                "by_name": person.name if person else system,
                "discipline": person.discipline if person else (system and SYSTEM_DISCIPLINE),
                "record_type": record[0],
                "record_id": record[1],
                "summary": summary[:2000],
                "details": details,
            }
        )

    def flush(self) -> int:
        for start in range(0, len(self.rows), 2000):
            self.conn.execute(sa.insert(EVENT), self.rows[start : start + 2000])
        return len(self.rows)


def backfill(conn: Connection, only: frozenset[str] | None = None) -> int:
    """Write the events the stored records imply; returns how many were written.
    ``only``: just these kinds (a migration adding kinds back-fills those alone)."""
    w = _Writer(conn, only)
    _core(w)
    _observations(w)
    if w.has("alert_event"):
        _alerts(w)
    if w.has("rounds_round"):
        _rounds(w)
    if w.has("initiation_decision"):
        _initiation(w)
    if w.has("weaning_trial"):
        _weaning(w)
    if w.has("weaning_follow_up"):
        _follow_ups(w)
    if w.has("rounds_transfusion"):
        _transfusions(w)
    if w.has("adverse_event"):
        _adverse_events(w)
    if w.has("hospital_outcome"):
        _hospital_outcomes(w)
    if w.has("ecpr_times"):
        _ecpr_times(w)
    if w.has("ambulation_session"):
        _ambulation(w)
    return w.flush()


def _core(w: _Writer) -> None:
    modes: dict[int, list[Any]] = defaultdict(list)
    for m in w.conn.execute(sa.select(MODE).order_by(MODE.c.run_id, MODE.c.started_at, MODE.c.id)):
        modes[m.run_id].append(m)
    enders = _enders(w)
    for run in w.runs.values():
        segs = modes.get(run.id, [])
        first = segs[0].mode if segs else "ECMO"
        w.add(
            "run.started", run.started_at,
            f"{first} ECMO started ({run.support_type} support)", ("run", run.id), run.id,
            run.created_by, details={"mode": first, "support": run.support_type},
        )  # fmt: skip
        if run.ended_at is not None:
            w.add(
                "run.ended", run.ended_at,
                f"Run ended: {OUTCOME_LABELS.get(run.outcome, words(run.outcome))}"
                + (f" — {run.stop_reason}" if run.stop_reason else ""),
                ("run", run.id), run.id, enders.get(run.id), details={"outcome": run.outcome},
            )  # fmt: skip
        for before, seg in pairwise(segs):
            w.add(
                "mode.changed", seg.started_at,
                f"Mode {before.mode} → {seg.mode}" + (f": {seg.reason}" if seg.reason else ""),
                ("mode_segment", seg.id), run.id, seg.recorded_by,
                details={"from": before.mode, "to": seg.mode},
            )  # fmt: skip
    for c in w.conn.execute(sa.select(CANNULA)):
        w.add(
            "cannula.inserted", c.inserted_at, cannula_text(c.role, c.french, c.side, c.site),
            ("cannula", c.id), c.run_id, c.recorded_by,
        )  # fmt: skip
    comps = {c.id: c for c in w.conn.execute(sa.select(COMPONENT))}
    for c in comps.values():
        old = comps.get(c.replaces_id) if c.replaces_id else None
        kind = "component.replaced" if old is not None else "component.added"
        reason = old.stop_reason if old is not None else None
        w.add(
            kind, c.started_at, component_text(c.kind, c.make, c.model, reason, old is not None),
            ("component", c.id), c.run_id, c.recorded_by,
            details={"replaces": c.replaces_id, "stop_reason": reason},
        )  # fmt: skip


def _enders(w: _Writer) -> dict[int, int | None]:
    """Who ended each run: the audit entry of the run's end (``update run`` with ``ended``
    in its detail), or the old timeline's end event where that table still exists."""
    found: dict[int, int | None] = {}
    stmt = (
        sa.select(AUDIT.c.entity_id, AUDIT.c.actor_id, AUDIT.c.detail)
        .where(AUDIT.c.entity == "run", AUDIT.c.action == "update")
        .order_by(AUDIT.c.id)
    )
    for a in w.conn.execute(stmt):
        if isinstance(a.detail, dict) and "ended" in a.detail and str(a.entity_id).isdigit():
            found[int(a.entity_id)] = a.actor_id
    if w.has("timeline_event"):
        old = sa.select(OLD_TIMELINE).where(
            OLD_TIMELINE.c.record_type == "run",
            OLD_TIMELINE.c.kind.in_(("decannulation", "death")),
        )
        found.update({r.record_id: r.recorded_by for r in w.conn.execute(old)})
    return found


def cannula_text(role: str, french: int | None, side: str | None, site: str) -> str:
    size = f"{french} Fr " if french else ""
    where = f"{side} " if side else ""
    return f"{words(role).capitalize()} cannula {size}in {where}{site}"


def component_text(
    kind: str, make: str | None, model: str | None, reason: str | None, replaced: bool
) -> str:
    label = words(kind).capitalize()
    text = f"{label} changed ({words(reason)})" if replaced else f"{label} added"
    name = " ".join(x for x in (make, model) if x)
    return text + (f": {name}" if name else "")


def entered_text(
    values: list[tuple[str, float, str]], entered: list[tuple[float, str] | None] | None = None
) -> str:
    """``entered``: per value, what was entered when in another unit ("62 kPa (465 mmHg)")."""
    typed = entered or [None] * len(values)
    shown = ", ".join(
        f"{words(code)} "
        + (display_names.as_entered(value, code, unit, *e) if e else f"{value:g} {unit}")
        for (code, value, unit), e in zip(values[:6], typed[:6], strict=True)
    )
    more = f" and {len(values) - 6} more" if len(values) > 6 else ""
    return f"Entered by hand: {shown}{more}"


def _observations(w: _Writer) -> None:
    # One event per batch: the values one person entered for one time, in the same minute.
    batches: dict[tuple[int, Any, datetime, datetime], list[Any]] = defaultdict(list)
    stmt = sa.select(OBSERVATION).where(
        OBSERVATION.c.source == "manual", OBSERVATION.c.amends_id.is_(None)
    )
    for o in w.conn.execute(stmt.order_by(OBSERVATION.c.id)):
        minute = o.recorded_at.replace(second=0, microsecond=0)
        batches[(o.run_id, o.entered_by, o.time, minute)].append(o)
    for (run_id, by, _, _), rows in batches.items():
        w.add(
            "observation.entered", max(o.time for o in rows),
            entered_text([(o.code, o.value, o.unit) for o in rows]),
            ("observation", rows[0].id), run_id, by, details={"count": len(rows)},
        )  # fmt: skip
    orig = OBSERVATION.alias("orig")
    repl = OBSERVATION.alias("repl")
    stmt2 = (
        sa.select(AMENDMENT, orig.c.run_id, orig.c.code, orig.c.value.label("old"),
                  orig.c.unit, repl.c.value.label("new"))
        .join(orig, orig.c.id == AMENDMENT.c.original_id)
        .outerjoin(repl, repl.c.id == AMENDMENT.c.replacement_id)
    )  # fmt: skip
    for a in w.conn.execute(stmt2):
        w.add(
            "observation.amended", a.amended_at,
            amended_text(a.code, a.old, a.new, a.unit, a.reason),
            ("observation", a.original_id), a.run_id, a.amended_by,
            details={"from": a.old, "to": a.new, "replacement_id": a.replacement_id},
        )  # fmt: skip


def amended_text(code: str, old: float, new: float | None, unit: str, reason: str) -> str:
    to = f"{new:g}" if new is not None else "?"
    return f"{words(code).capitalize()} amended {old:g} → {to} {unit}: {reason}"


def _alerts(w: _Writer) -> None:
    alert = _table(
        "alert", "id", "run_id", "detector", ("raised_at", T), ("cleared_at", T),
        ("evidence", sa.JSON()), ("acknowledged_at", T), ("resolved_at", T),
    )  # fmt: skip
    event = _table(
        "alert_event", "id", "alert_id", "run_id", "kind", "severity", ("at", T), "by_id",
        "by_name", "comment", ("detail", sa.JSON()),
    )  # fmt: skip
    alerts = {a.id: a for a in w.conn.execute(sa.select(alert))}
    events = list(w.conn.execute(sa.select(event).order_by(event.c.id)))
    last: dict[tuple[int, str], int] = {}
    for e in events:
        last[(e.alert_id, e.kind)] = e.id
    for e in events:
        if e.kind == "updated" or e.alert_id not in alerts:
            continue
        a = alerts[e.alert_id]
        is_last = last[(e.alert_id, e.kind)] == e.id
        at = alert_time(e.kind, e.at, e.severity, e.detail, a, is_last)
        extra = e.comment or ((e.detail or {}).get("because") if e.kind == "cleared" else None)
        w.add(
            f"alert.{e.kind}", at, alert_summary(f"alert.{e.kind}", a.detector, e.severity, extra),
            ("alert", a.id), e.run_id, e.by_id, details={"severity": e.severity},
            system=e.by_name,
        )  # fmt: skip


def alert_time(
    kind: str, at: datetime, severity: str, detail: Any, a: Any, is_last: bool
) -> datetime:
    """Clinical time of an alert event: the condition's times from the alert itself."""
    if kind == "raised":
        return a.raised_at
    if kind == "cleared" and is_last and a.cleared_at is not None:
        return a.cleared_at
    if kind == "escalated":
        since = ((a.evidence or {}).get("severity_from") or {}).get(severity)
        if since:
            return datetime.fromisoformat(str(since).replace("Z", "+00:00"))
    if kind == "acknowledged" and is_last and a.acknowledged_at is not None:
        return a.acknowledged_at
    if kind == "resolved" and a.resolved_at is not None:
        return a.resolved_at
    return at


def attendance_text(people: list[tuple[str, str]]) -> str:
    if not people:
        return "no attendance recorded"
    disciplines = sorted({words(d) for _, d in people})
    return f"{len(people)} present ({', '.join(disciplines)})"


def _rounds(w: _Writer) -> None:
    rnd = _table(
        "rounds_round", "id", "run_id", ("held_at", T), "status", ("goals", sa.JSON()),
        "signed_by", ("signed_at", T),
    )  # fmt: skip
    action = _table(
        "rounds_action", "id", "run_id", "round_id", "circuit_check_id", "text",
        "owner_discipline", ("due_at", T), "created_by", ("created_at", T),
        ("completed_at", T), "completed_by", "completion_note",
    )  # fmt: skip
    check = _table(
        "rounds_circuit_check", "id", "run_id", ("checked_at", T), "shift",
        ("inspection", sa.JSON()), ("transfusions", sa.JSON()), "findings", "checked_by",
    )  # fmt: skip
    amend = _table(
        "rounds_amendment", "id", "record_type", "record_id", "section", "text", "amended_by",
        ("amended_at", T),
    )  # fmt: skip
    present: dict[int, list[tuple[str, str]]] = defaultdict(list)
    stmt = sa.select(PARTICIPATION).where(
        PARTICIPATION.c.record_type == "round", PARTICIPATION.c.how == "present"
    )
    for p in w.conn.execute(stmt):
        person = w.staff.get(p.staff_id)
        if person is not None:
            present[p.record_id].append((person.name, person.discipline))
    rounds = {r.id: r for r in w.conn.execute(sa.select(rnd))}
    for r in rounds.values():
        if r.status == "signed":
            w.add(
                "round.signed", r.held_at, round_text(present[r.id], r.goals),
                ("round", r.id), r.run_id, r.signed_by,
                details={"attendance": [n for n, _ in present[r.id]], "goals": r.goals},
            )  # fmt: skip
    checks = {c.id: c for c in w.conn.execute(sa.select(check))}
    for c in checks.values():
        w.add(
            "circuit_check.signed", c.checked_at,
            check_summary(c.shift, c.findings, c.inspection), ("circuit_check", c.id),
            c.run_id, c.checked_by, details={"inspection": c.inspection},
        )  # fmt: skip
        given = transfusion_text(c.transfusions)
        if given:
            w.add(
                "transfusion.recorded", c.checked_at, f"Transfused since the last check: {given}",
                ("circuit_check", c.id), c.run_id, c.checked_by, details=c.transfusions,
            )  # fmt: skip
    for a in w.conn.execute(sa.select(action)):
        src = rounds.get(a.round_id) if a.round_id else None
        chk = checks.get(a.circuit_check_id) if a.circuit_check_id else None
        at = src.held_at if src else chk.checked_at if chk else a.created_at
        w.add(
            "action.raised", at, action_text(a.text, a.owner_discipline),
            ("round_action", a.id), a.run_id, a.created_by,
            details={"due_at": a.due_at.isoformat() if a.due_at else None},
        )  # fmt: skip
        if a.completed_at is not None:
            note = f" — {a.completion_note}" if a.completion_note else ""
            w.add(
                "action.completed", a.completed_at, f"Action done: {a.text}{note}",
                ("round_action", a.id), a.run_id, a.completed_by,
            )  # fmt: skip
    for m in w.conn.execute(sa.select(amend).where(amend.c.record_type == "round")):
        r = rounds.get(m.record_id)
        if r is not None:
            w.add(
                "round.amended", m.amended_at, f"Round amended ({words(m.section)}): {m.text}",
                ("round", r.id), r.run_id, m.amended_by,
            )  # fmt: skip


def round_text(people: list[tuple[str, str]], goals: dict[str, Any] | None) -> str:
    text = f"Round signed — {attendance_text(people)}"
    g = goals_text(goals)
    return text + (f". Goals: {g}" if g else "")


def action_text(text: str, owner: str | None) -> str:
    return f"Action for {words(owner)}: {text}" if owner else f"Action: {text}"


def _initiation(w: _Writer) -> None:
    referral = _table(
        "referral", "id", "patient_id", ("referred_at", T), "support_type",
        "referring_hospital", "created_by",
    )  # fmt: skip
    decision = _table(
        "initiation_decision", "id", "referral_id", "outcome", "reasons", ("decided_at", T),
        "decided_by", "physician_signed_by", ("physician_signed_at", T),
        "perfusionist_signed_by", ("perfusionist_signed_at", T), "run_id",
    )  # fmt: skip
    amend = _table("initiation_amendment", "id", "decision_id", "note", "by", ("at", T))
    decisions = list(w.conn.execute(sa.select(decision).order_by(decision.c.id)))
    run_of: dict[int, int] = {d.referral_id: d.run_id for d in decisions if d.run_id}
    refs = {r.id: r for r in w.conn.execute(sa.select(referral))}
    for r in refs.values():
        w.add(
            "referral.received", r.referred_at,
            f"Referred for {r.support_type} ECMO by {r.referring_hospital}",
            ("referral", r.id), run_of.get(r.id), r.created_by, patient_id=r.patient_id,
        )  # fmt: skip
    for d in decisions:
        ref = refs.get(d.referral_id)
        if ref is None:
            continue
        run_id = run_of.get(d.referral_id)
        record = ("initiation_decision", d.id)
        if d.decided_at is not None and d.outcome:
            w.add(
                "decision.recorded", d.decided_at, decision_text(d.outcome, d.reasons), record,
                run_id, d.decided_by, patient_id=ref.patient_id, details={"outcome": d.outcome},
            )  # fmt: skip
        for role in ("physician", "perfusionist"):
            w.add(
                "decision.signed", getattr(d, f"{role}_signed_at"),
                f"Decision ({words(d.outcome)}) signed by the {role}", record, run_id,
                getattr(d, f"{role}_signed_by"), patient_id=ref.patient_id,
                details={"as": role},
            )  # fmt: skip
    _status_changes(w, refs, run_of)
    _reassessments(w, refs, decisions)
    by_id = {d.id: d for d in decisions}
    for m in w.conn.execute(sa.select(amend)):
        d = by_id.get(m.decision_id)
        ref = refs.get(d.referral_id) if d else None
        if d is not None and ref is not None:
            w.add(
                "decision.amended", m.at, f"Decision amended: {m.note}",
                ("initiation_decision", d.id), run_of.get(d.referral_id), m.by,
                patient_id=ref.patient_id,
            )  # fmt: skip


def _reassessments(w: _Writer, refs: dict[int, Any], decisions: list[Any]) -> None:
    """A reassessment's time: the referral's move from deferred back to assessment with the
    reassessment's reason (the service writes both in one unit of work)."""
    d2 = _table(
        "initiation_decision", "id", "referral_id", "sequence", "supersedes_id",
        "reassessment_reason", "updated_by",
    )  # fmt: skip
    change = _table(
        "referral_status_change", "id", "referral_id", "from_status", "to_status", "reason",
        ("at", T), "changed_by",
    )  # fmt: skip
    moves: dict[tuple[int, str], Any] = {}
    stmt = sa.select(change).where(
        change.c.from_status == "deferred", change.c.to_status == "under_assessment"
    )
    for c in w.conn.execute(stmt.order_by(change.c.id)):
        moves.setdefault((c.referral_id, (c.reason or "").strip()), c)
    for d in w.conn.execute(sa.select(d2).where(d2.c.supersedes_id.is_not(None))):
        ref = refs.get(d.referral_id)
        move = moves.get((d.referral_id, (d.reassessment_reason or "").strip()))
        if ref is None or move is None:
            continue
        w.add(
            "decision.reassessed", move.at, reassessed_text(d.sequence, d.reassessment_reason),
            ("initiation_decision", d.id), None, move.changed_by, patient_id=ref.patient_id,
            details={"supersedes": d.supersedes_id, "sequence": d.sequence},
        )  # fmt: skip


def _status_changes(w: _Writer, refs: dict[int, Any], run_of: dict[int, int]) -> None:
    change = _table(
        "referral_status_change", "id", "referral_id", "from_status", "to_status", "reason",
        ("at", T), "changed_by",
    )  # fmt: skip
    stmt = sa.select(change).where(change.c.from_status.is_not(None)).order_by(change.c.id)
    for c in w.conn.execute(stmt):
        ref = refs.get(c.referral_id)
        if ref is not None:
            w.add(
                "referral.status_changed", c.at, status_text(c.from_status, c.to_status, c.reason),
                ("referral", ref.id), run_of.get(ref.id), c.changed_by,
                patient_id=ref.patient_id, details={"from": c.from_status, "to": c.to_status},
            )  # fmt: skip


def reassessed_text(sequence: int, reason: str | None) -> str:
    return f"Referral reassessed: decision record {sequence} opened" + (
        f" — {reason}" if reason else ""
    )


def decision_text(outcome: str, reasons: str | None) -> str:
    return f"Decision: {words(outcome)}" + (f" — {reasons}" if reasons else "")


def trial_text(kind: str) -> str:
    return f"{words(kind).capitalize()} trial"


def _weaning(w: _Writer) -> None:
    trial = _table(
        "weaning_trial", "id", "run_id", "kind", "status", ("started_at", T), ("ended_at", T),
        "started_by", "outcome_reason", "ended_by", "perfusion_assessment",
        "perfusion_flow_safe", "perfusion_anticoagulation_ok", "perfusion_by",
        ("perfusion_at", T),
    )  # fmt: skip
    step = _table(
        "weaning_step", "id", "trial_id", "seq", "stage", ("at", T),
        ("measurements", sa.JSON()), "note", "recorded_by",
    )  # fmt: skip
    dec = _table(
        "decannulation", "id", "run_id", ("decannulated_at", T), "outcome", "stop_reason",
        "created_by", "physician_id", ("physician_signed_at", T), "perfusionist_id",
        ("perfusionist_signed_at", T),
    )  # fmt: skip
    trials = {t.id: t for t in w.conn.execute(sa.select(trial))}
    for t in trials.values():
        rec = ("weaning_trial", t.id)
        w.add("weaning.trial_started", t.started_at, f"{trial_text(t.kind)} started", rec,
              t.run_id, t.started_by, details={"kind": t.kind})  # fmt: skip
        if t.perfusion_at is not None:
            w.add(
                "weaning.assessed", t.perfusion_at,
                assessment_text(t.perfusion_flow_safe, t.perfusion_anticoagulation_ok,
                                t.perfusion_assessment),
                rec, t.run_id, t.perfusion_by,
            )  # fmt: skip
        if t.ended_at is not None:
            w.add(
                "weaning.trial_ended", t.ended_at,
                f"{trial_text(t.kind)} {t.status}" + (f": {t.outcome_reason}"
                                                     if t.outcome_reason else ""),
                rec, t.run_id, t.ended_by, details={"outcome": t.status},
            )  # fmt: skip
    for s in w.conn.execute(sa.select(step)):
        t = trials.get(s.trial_id)
        if t is not None:
            w.add(
                "weaning.step", s.at, step_text(t.kind, s.seq, s.stage, s.measurements, s.note),
                ("weaning_trial", t.id), t.run_id, s.recorded_by,
                details={"seq": s.seq, "stage": s.stage},
            )  # fmt: skip
    for d in w.conn.execute(sa.select(dec)):
        rec = ("decannulation", d.id)
        w.add(
            "decannulation.recorded", d.decannulated_at,
            f"Decannulation: {OUTCOME_LABELS.get(d.outcome, words(d.outcome))} — {d.stop_reason}",
            rec, d.run_id, d.created_by, details={"outcome": d.outcome},
        )  # fmt: skip
        for part, who in (("physician", d.physician_id), ("perfusionist", d.perfusionist_id)):
            w.add(
                "decannulation.signed", getattr(d, f"{part}_signed_at"),
                f"Decannulation signed by the {part}", rec, d.run_id, who, details={"part": part},
            )  # fmt: skip


def assessment_text(flow_safe: bool | None, anticoag_ok: bool | None, text: str | None) -> str:
    flow = "minimum flow safe" if flow_safe else "minimum flow NOT safe"
    anti = "anticoagulation adequate" if anticoag_ok else "anticoagulation NOT adequate"
    return f"Circuit-safety assessment: {flow}, {anti}" + (f" — {text}" if text else "")


def step_text(
    kind: str, seq: int, stage: str, values: dict[str, Any] | None, note: str | None
) -> str:
    shown = ", ".join(f"{words(k)} {v:g}" for k, v in list((values or {}).items())[:6])
    text = f"{trial_text(kind)} step {seq} ({words(stage)})"
    return text + (f": {shown}" if shown else "") + (f" — {note}" if note else "")


def _follow_ups(w: _Writer) -> None:
    item = _table(
        "weaning_follow_up", "id", "run_id", "item", ("due_at", T), ("done_at", T), "done_by",
        "result",
    )  # fmt: skip
    for f in w.conn.execute(sa.select(item).where(item.c.done_at.is_not(None))):
        w.add(
            "follow_up.completed", f.done_at, follow_up_text(f.item, f.result),
            ("weaning_follow_up", f.id), f.run_id, f.done_by,
            details={"due_at": f.due_at.isoformat() if f.due_at else None},
        )  # fmt: skip


def _transfusions(w: _Writer) -> None:
    tx = _table(
        "rounds_transfusion", "id", "run_id", "product", "units", "volume_ml", ("given_at", T),
        "reason", "recorded_by",
    )  # fmt: skip
    for t in w.conn.execute(sa.select(tx)):
        w.add(
            "transfusion.recorded", t.given_at,
            transfusion_entry_text(t.product, t.units, t.volume_ml, t.reason),
            ("transfusion", t.id), t.run_id, t.recorded_by,
            details={"product": t.product, "units": t.units, "volume_ml": t.volume_ml},
        )  # fmt: skip


# --- adverse events (quality register; read through lightweight tables, no quality import)

ADVERSE_TEXT_FIELDS = ("description", "immediate_actions")


ADVERSE_CODE_PREFIXES = ("mech", "haem", "neuro", "renal", "cv", "pulm", "inf", "metab", "limb")


def adverse_event_text(code: str, category: str, event_class: str, harm: str) -> str:
    """The timeline line of a recorded adverse event (the service writes the same). Core
    does not read the quality taxonomy, so the code is shown in words without its category
    prefix ('metab_haemolysis_severe' → 'haemolysis severe'); the event page has the label."""
    head, _, rest = code.partition("_")
    what = words(rest) if head in ADVERSE_CODE_PREFIXES and rest else words(code)
    what = " ".join("membrane-lung" if w == "ml" else w for w in what.split())
    return f"Adverse event ({words(category)}): {what} — {words(event_class)}, harm {words(harm)}"


def adverse_amended_text(kind: str, changes: list[tuple[str, str | None]], reason: str) -> str:
    """The timeline line of one amendment (one or more fields, one reason)."""
    shown = "; ".join(
        f"{words(field)} changed"
        if field in ADVERSE_TEXT_FIELDS
        else f"{words(field)} → {words(value) if value is not None else 'cleared'}"
        for field, value in changes
    )
    return f"Adverse event amended ({kind}): {shown} — {reason}"


def _adverse_events(w: _Writer) -> None:
    event = _table(
        "adverse_event", "id", "run_id", "code", "category", "event_class", "harm",
        ("occurred_at", T), "recorded_by",
    )  # fmt: skip
    amendment = _table(
        "adverse_event_amendment", "id", "event_id", "field", "value", "reason", "kind",
        "by", ("at", T),
    )  # fmt: skip
    runs: dict[int, int] = {}
    for e in w.conn.execute(sa.select(event)):
        runs[e.id] = e.run_id
        w.add(
            "adverse_event.recorded", e.occurred_at,
            adverse_event_text(e.code, e.category, e.event_class, e.harm),
            ("adverse_event", e.id), e.run_id, e.recorded_by,
            details={"code": e.code, "category": e.category, "harm": e.harm},
        )  # fmt: skip
    # One amendment saved with several fields is one event (same event, time, person,
    # kind and reason).
    saves: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    stmt = sa.select(amendment).order_by(amendment.c.id)
    for a in w.conn.execute(stmt):
        saves[(a.event_id, a.at, a.by, a.kind, a.reason)].append(a)
    for (event_id, at, by, kind, reason), rows in saves.items():
        w.add(
            "adverse_event.amended", at,
            adverse_amended_text(kind, [(r.field, r.value) for r in rows], reason),
            ("adverse_event", event_id), runs.get(event_id), by,
            details={"kind": kind, "fields": [r.field for r in rows]},
        )  # fmt: skip


# --- hospital outcomes and ECPR times (core records, read through lightweight tables) ---


def _hospital_outcomes(w: _Writer) -> None:
    from continuum.core.hospital_outcome import summary_text

    table = _table(
        "hospital_outcome", "id", "run_id", "status", ("at", T), "destination", "corrects_id",
        "reason", "recorded_by",
    )  # fmt: skip
    for o in w.conn.execute(sa.select(table).order_by(table.c.id)):
        w.add(
            "discharge.recorded", o.at,
            summary_text(o.status, o.destination, o.corrects_id is not None, o.reason),
            ("hospital_outcome", o.id), o.run_id, o.recorded_by,
            details={"status": o.status, "destination": o.destination},
        )  # fmt: skip


def _ecpr_times(w: _Writer) -> None:
    from continuum.core.ecpr_times import summary_text

    table = _table(
        "ecpr_times", "id", "run_id", ("cpr_started_at", T), ("full_flow_at", T),
        "corrects_id", "reason", "recorded_by",
    )  # fmt: skip
    for e in w.conn.execute(sa.select(table).order_by(table.c.id)):
        minutes = (e.full_flow_at - e.cpr_started_at).total_seconds() / 60
        w.add(
            "ecpr.times_recorded", e.full_flow_at,
            summary_text(minutes, e.corrects_id is not None, e.reason),
            ("ecpr_times", e.id), e.run_id, e.recorded_by,
            details={"low_flow_min": round(minutes, 1)},
        )  # fmt: skip


# --- ambulation sessions (a domain's table, read through a lightweight table) -----------


def ambulation_text(
    level: int,
    label: str,
    minutes: float,
    events: list[str],
    stop_reason: str | None,
    amended: bool,
    reason: str | None,
) -> str:
    """The timeline line of an ambulation / physiotherapy session (or its correction)."""
    text = f"{'Corrected: ambulation' if amended else 'Ambulation'} session, {minutes:.0f} min: "
    text += f"ICU Mobility Scale {level} ({label.lower()})"
    if events:
        text += "; events: " + ", ".join(words(e) for e in events)
    if stop_reason:
        text += f"; stopped early: {stop_reason}"
    if amended and reason:
        text += f". Reason: {reason}"
    return text


# ICU Mobility Scale labels as the back-fill writes them (ambulation.models.IMS_LABELS).
IMS_WORDS = (
    "nothing (lying in bed)", "sitting in bed, exercises in bed",
    "passively moved to chair (no standing)", "sitting over the edge of the bed", "standing",
    "transferring bed to chair", "marching on the spot at the bedside",
    "walking with the help of 2 or more people", "walking with the help of 1 person",
    "walking independently with a gait aid", "walking independently without a gait aid",
)  # fmt: skip


def _ambulation(w: _Writer) -> None:
    table = _table(
        "ambulation_session", "id", "session_no", "follows_id", "run_id", ("started_at", T),
        ("ended_at", T), "ims_level", ("events", sa.JSON()), "stopped_early", "stop_reason",
        "amend_reason", "recorded_by",
    )  # fmt: skip
    for s in w.conn.execute(sa.select(table).order_by(table.c.id)):
        amended = s.follows_id is not None
        minutes = (s.ended_at - s.started_at).total_seconds() / 60
        w.add(
            "ambulation.session_amended" if amended else "ambulation.session_recorded",
            s.started_at,
            ambulation_text(
                s.ims_level, IMS_WORDS[s.ims_level], minutes,
                [e.get("kind", "") for e in s.events or []],
                s.stop_reason if s.stopped_early else None, amended, s.amend_reason,
            ),
            ("ambulation_session", s.id), s.run_id, s.recorded_by,
            details={"session": s.session_no or s.id, "ims_level": s.ims_level,
                     "events": len(s.events or [])},
        )  # fmt: skip

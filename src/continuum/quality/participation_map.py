"""The participation map (docs/participation-map.md): the care pathway's records in a period
and who took part in each, read from the record, reduced by ``participation_map_calc``.

Who took part in a record is read two ways, and both count:

* ``participation`` rows (present, consulted, signed) pointing at the record;
* the record's own author and signer columns (a decision's signatures and plan author, a
  round's author and signer, a check's checker, an alert's acknowledger and resolver, a
  trial's starter, ender and perfusion assessor, a decannulation's signers, an M&M
  meeting's attendance, an audit's author), each read as the discipline of that staff member.

The "registry and research" step reads research's record tables (never its services): a
study (its author recorded it; anyone recorded on it as participant), a run's registry
submission (the reviewer who marked it ready signed it), and a publication (each author,
by discipline, signed it). A step with no table in the record (transport and ambulation) is
shown as "no records". Figures are aggregates for every role with ``VIEW_QUALITY``; the
records behind a step, and today's missing voices, need ``VIEW_IDENTIFIERS`` as well.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from continuum.alerts.models import CircuitAlert
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, Run, clinical_run_ids, not_training
from continuum.core.vocab import DISCIPLINE_LABELS, DISCIPLINES
from continuum.db import utcnow
from continuum.errors import FieldProblem, Forbidden, ValidationFailed
from continuum.initiation.models import InitiationDecision, Referral
from continuum.quality import adverse_events, metrics_calc, participation_policy
from continuum.quality import participation_map_calc as calc
from continuum.quality.audit_record import ClinicalAudit
from continuum.quality.review_record import ReviewAttendance, ReviewMeeting
from continuum.research.registry_record import RegistrySubmission
from continuum.research.study_record import Publication, PublicationAuthor, Study
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.weaning.models import Decannulation, WeaningTrial

PERFUSION = "perfusion"
# Steps the record has no table for yet: always "no records".
UNRECORDED: tuple[str, ...] = ("transport",)
NOT_RECORDED_NOTE = {
    "transport": "no records: this programme's record has no transport or ambulation entries",
}


@dataclass(frozen=True)
class MapFilter:
    start: datetime
    end: datetime
    discipline: str = PERFUSION


def check_filter(f: MapFilter) -> MapFilter:
    problems: list[FieldProblem] = []
    if f.end <= f.start:
        problems.append(
            FieldProblem(
                "end",
                f"the period ends ({f.end.date().isoformat()}) before or when it starts "
                f"({f.start.date().isoformat()}); give an end after the start",
                f.end.isoformat(),
            )
        )
    if f.discipline not in DISCIPLINES:
        problems.append(
            FieldProblem(
                "discipline",
                f"'{f.discipline}' is not a discipline; one of {', '.join(DISCIPLINES)}",
                f.discipline,
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return f


@dataclass
class ParticipationMap:
    filter: MapFilter
    records: list[calc.StepRecord]
    shares: list[calc.StepShare]
    perfusion_shares: list[calc.StepShare]
    policy: participation_policy.Policy
    comparisons: list[calc.Comparison]
    months: list[str]
    trend: list[calc.TrendPoint]
    computed_at: datetime

    def share(self, step: str) -> calc.StepShare:
        for s in self.shares:
            if s.step.key == step:
                return s
        raise KeyError(step)


# --- reading the record -------------------------------------------------------------------


class _Reader:
    """Reads each step's records in [start, end) with who took part."""

    def __init__(self, session: Session, start: datetime, end: datetime) -> None:
        self.db = session
        self.start = start
        self.end = end
        self.staff: dict[int, str] = dict(session.execute(select(Staff.id, Staff.discipline)).all())

    def _by(self, staff_id: int | None, how: str) -> list[tuple[str, str]]:
        if staff_id is None or staff_id not in self.staff:
            return []
        return [(self.staff[staff_id], how)]

    def _participation(
        self, record_type: str, ids: Select[Any]
    ) -> dict[int, list[tuple[str, str]]]:
        stmt = select(Participation.record_id, Participation.discipline, Participation.how).where(
            Participation.record_type == record_type, Participation.record_id.in_(ids)
        )
        out: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for record_id, discipline, how in self.db.execute(stmt):
            out[record_id].append((discipline, how))
        return out

    def decisions(self) -> list[calc.StepRecord]:
        when = InitiationDecision.decided_at
        ids = select(InitiationDecision.id).where(when >= self.start, when < self.end)
        parts = self._participation("initiation_decision", ids)
        stmt = select(
            InitiationDecision.id,
            InitiationDecision.referral_id,
            InitiationDecision.run_id,
            InitiationDecision.decided_at,
            InitiationDecision.decided_by,
            InitiationDecision.physician_signed_by,
            InitiationDecision.perfusionist_signed_by,
            InitiationDecision.plan_by,
            InitiationDecision.chosen_mode,
            InitiationDecision.outcome,
        ).where(when >= self.start, when < self.end)
        out: list[calc.StepRecord] = []
        for r in self.db.execute(stmt):
            signed = [
                *self._by(r.decided_by, "recorded"),
                *self._by(r.physician_signed_by, "signed"),
                *self._by(r.perfusionist_signed_by, "signed"),
            ]
            takers = tuple([*parts.get(r.id, []), *signed])
            href = f"/referrals/{r.referral_id}"
            outcome = r.outcome or "open"
            out.append(
                calc.StepRecord(
                    "candidacy", "decision", r.id, r.run_id, r.decided_at, takers,
                    f"Decision record {r.id} ({outcome})", href,
                )
            )  # fmt: skip
            if r.chosen_mode:
                plan = tuple([*takers, *self._by(r.plan_by, "recorded")])
                out.append(
                    calc.StepRecord(
                        "configuration", "decision", r.id, r.run_id, r.decided_at, plan,
                        f"Configuration {r.chosen_mode}, decision record {r.id}", href,
                    )
                )  # fmt: skip
        return out

    def cannulations(self) -> list[calc.StepRecord]:
        cond = and_(Run.started_at >= self.start, Run.started_at < self.end, not_training())
        parts = self._participation("run", select(Run.id).where(cond))
        setup: dict[int, list[tuple[str, str]]] = defaultdict(list)
        first = (
            select(Component.run_id, Component.recorded_by)
            .join(Run, Run.id == Component.run_id)
            .where(cond, Component.started_at == Run.started_at)
        )
        for run_id, by in self.db.execute(first):
            setup[run_id] += self._by(by, "recorded")
        out = []
        for run_id, started, created_by in self.db.execute(
            select(Run.id, Run.started_at, Run.created_by).where(cond)
        ):
            takers = tuple(
                [*parts.get(run_id, []), *self._by(created_by, "recorded"), *setup[run_id]]
            )
            out.append(
                calc.StepRecord(
                    "cannulation", "run", run_id, run_id, started, takers,
                    f"Run {run_id} started", f"/runs/{run_id}",
                )
            )  # fmt: skip
        return out

    def rounds(self) -> list[calc.StepRecord]:
        cond = and_(
            RoundRecord.held_at >= self.start,
            RoundRecord.held_at < self.end,
            RoundRecord.run_id.in_(clinical_run_ids()),
        )
        parts = self._participation("round", select(RoundRecord.id).where(cond))
        out = []
        stmt = select(
            RoundRecord.id,
            RoundRecord.run_id,
            RoundRecord.held_at,
            RoundRecord.status,
            RoundRecord.created_by,
            RoundRecord.signed_by,
        ).where(cond)
        for r in self.db.execute(stmt):
            takers = tuple(
                [*parts.get(r.id, []), *self._by(r.created_by, "recorded"),
                 *self._by(r.signed_by, "signed")]
            )  # fmt: skip
            out.append(
                calc.StepRecord(
                    "rounds", "round", r.id, r.run_id, r.held_at, takers,
                    f"Round ({r.status}), run {r.run_id}", f"/runs/{r.run_id}/rounds",
                )
            )  # fmt: skip
        cond = and_(
            CircuitCheck.checked_at >= self.start,
            CircuitCheck.checked_at < self.end,
            CircuitCheck.run_id.in_(clinical_run_ids()),
        )
        parts = self._participation("circuit_check", select(CircuitCheck.id).where(cond))
        checks = select(
            CircuitCheck.id,
            CircuitCheck.run_id,
            CircuitCheck.checked_at,
            CircuitCheck.shift,
            CircuitCheck.checked_by,
        ).where(cond)
        for c in self.db.execute(checks):
            takers = tuple([*parts.get(c.id, []), *self._by(c.checked_by, "signed")])
            out.append(
                calc.StepRecord(
                    "rounds", "circuit check", c.id, c.run_id, c.checked_at, takers,
                    f"Circuit check ({c.shift} shift), run {c.run_id}",
                    f"/runs/{c.run_id}/rounds",
                )
            )  # fmt: skip
        return out

    def alerts(self) -> list[calc.StepRecord]:
        stmt = select(
            CircuitAlert.id,
            CircuitAlert.run_id,
            CircuitAlert.raised_at,
            CircuitAlert.summary,
            CircuitAlert.acknowledged_by,
            CircuitAlert.resolved_by,
        ).where(
            CircuitAlert.raised_at >= self.start,
            CircuitAlert.raised_at < self.end,
            CircuitAlert.run_id.in_(clinical_run_ids()),
        )
        out = []
        for a in self.db.execute(stmt):
            takers = tuple(
                [*self._by(a.acknowledged_by, "signed"), *self._by(a.resolved_by, "signed")]
            )
            out.append(
                calc.StepRecord(
                    "alerts", "alert", a.id, a.run_id, a.raised_at, takers,
                    f"Alert: {a.summary}", f"/runs/{a.run_id}/alerts",
                )
            )  # fmt: skip
        return out

    def trials(self) -> list[calc.StepRecord]:
        cond = and_(
            WeaningTrial.started_at >= self.start,
            WeaningTrial.started_at < self.end,
            WeaningTrial.run_id.in_(clinical_run_ids()),
        )
        parts = self._participation("weaning_trial", select(WeaningTrial.id).where(cond))
        stmt = select(
            WeaningTrial.id,
            WeaningTrial.run_id,
            WeaningTrial.started_at,
            WeaningTrial.kind,
            WeaningTrial.status,
            WeaningTrial.started_by,
            WeaningTrial.ended_by,
            WeaningTrial.perfusion_by,
        ).where(cond)
        out = []
        for t in self.db.execute(stmt):
            takers = tuple(
                [*parts.get(t.id, []), *self._by(t.started_by, "recorded"),
                 *self._by(t.ended_by, "recorded"), *self._by(t.perfusion_by, "signed")]
            )  # fmt: skip
            out.append(
                calc.StepRecord(
                    "weaning", "weaning trial", t.id, t.run_id, t.started_at, takers,
                    f"{t.kind.replace('_', ' ')} trial ({t.status.replace('_', ' ')})",
                    f"/runs/{t.run_id}/weaning", t.status,
                )
            )  # fmt: skip
        return out

    def decannulations(self) -> list[calc.StepRecord]:
        when = Decannulation.decannulated_at
        cond = and_(
            when >= self.start, when < self.end, Decannulation.run_id.in_(clinical_run_ids())
        )
        parts = self._participation("decannulation", select(Decannulation.id).where(cond))
        stmt = select(
            Decannulation.id,
            Decannulation.run_id,
            Decannulation.decannulated_at,
            Decannulation.created_by,
            Decannulation.physician_id,
            Decannulation.physician_signed_at,
            Decannulation.perfusionist_id,
            Decannulation.perfusionist_signed_at,
        ).where(cond)
        out = []
        for d in self.db.execute(stmt):
            signed = [*self._by(d.created_by, "recorded")]
            if d.physician_signed_at is not None:
                signed += self._by(d.physician_id, "signed")
            if d.perfusionist_signed_at is not None:
                signed += self._by(d.perfusionist_id, "signed")
            out.append(
                calc.StepRecord(
                    "decannulation", "decannulation", d.id, d.run_id, d.decannulated_at,
                    tuple([*parts.get(d.id, []), *signed]), f"Decannulation, run {d.run_id}",
                    f"/runs/{d.run_id}/decannulation",
                )
            )  # fmt: skip
        return out

    def reviews(self, zone: ZoneInfo) -> list[calc.StepRecord]:
        first = self.start.astimezone(zone).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        meetings = select(ReviewMeeting.id, ReviewMeeting.held_on, ReviewMeeting.title).where(
            ReviewMeeting.held_on >= first, ReviewMeeting.held_on <= last
        )
        rows = self.db.execute(meetings).all()
        attendance: dict[int, list[tuple[str, str]]] = defaultdict(list)
        if rows:
            stmt = select(ReviewAttendance.meeting_id, ReviewAttendance.discipline).where(
                ReviewAttendance.meeting_id.in_([m.id for m in rows]),
                ReviewAttendance.present.is_(True),
            )
            for meeting_id, discipline in self.db.execute(stmt):
                attendance[meeting_id].append((discipline, "present"))
        out = []
        for m in rows:
            at = datetime(m.held_on.year, m.held_on.month, m.held_on.day, 12, tzinfo=zone)
            out.append(
                calc.StepRecord(
                    "review", "M&M meeting", m.id, None, at, tuple(attendance[m.id]),
                    f"M&M: {m.title}", f"/quality/reviews/meetings/{m.id}",
                )
            )  # fmt: skip
        audits = select(
            ClinicalAudit.id,
            ClinicalAudit.created_at,
            ClinicalAudit.title,
            ClinicalAudit.created_by,
        ).where(ClinicalAudit.created_at >= self.start, ClinicalAudit.created_at < self.end)
        for a in self.db.execute(audits):
            out.append(
                calc.StepRecord(
                    "review", "audit", a.id, None, a.created_at,
                    tuple(self._by(a.created_by, "recorded")), f"Audit: {a.title}",
                    f"/quality/audits/{a.id}",
                )
            )  # fmt: skip
        return out

    def research(self) -> list[calc.StepRecord]:
        """Studies recorded, registry submissions and publications in the period."""
        out: list[calc.StepRecord] = []
        when = Study.created_at
        cond = and_(when >= self.start, when < self.end)
        parts = self._participation("research_study", select(Study.id).where(cond))
        for st in self.db.execute(
            select(Study.id, Study.title, when, Study.created_by).where(cond)
        ):
            out.append(
                calc.StepRecord(
                    "research", "study", st.id, None, st.created_at,
                    tuple([*parts.get(st.id, []), *self._by(st.created_by, "recorded")]),
                    f"Study: {st.title}", f"/research/studies/{st.id}",
                )
            )  # fmt: skip
        sub = RegistrySubmission
        cond = and_(sub.at >= self.start, sub.at < self.end)
        parts = self._participation("registry_submission", select(sub.id).where(cond))
        for r in self.db.execute(select(sub.id, sub.run_id, sub.at, sub.by).where(cond)):
            out.append(
                calc.StepRecord(
                    "research", "registry submission", r.id, r.run_id, r.at,
                    tuple([*parts.get(r.id, []), *self._by(r.by, "signed")]),
                    f"Registry record ready, run {r.run_id}", f"/research/registry/runs/{r.run_id}",
                )
            )  # fmt: skip
        pub = Publication
        cond = and_(pub.added_at >= self.start, pub.added_at < self.end)
        rows = self.db.execute(select(pub.id, pub.study_id, pub.title, pub.added_at).where(cond))
        pubs = rows.all()
        authors: dict[int, list[tuple[str, str]]] = defaultdict(list)
        if pubs:
            stmt = select(PublicationAuthor.publication_id, PublicationAuthor.discipline).where(
                PublicationAuthor.publication_id.in_([p.id for p in pubs])
            )
            for publication_id, discipline in self.db.execute(stmt):
                authors[publication_id].append((discipline, "signed"))
        for p in pubs:
            out.append(
                calc.StepRecord(
                    "research", "publication", p.id, None, p.added_at, tuple(authors[p.id]),
                    f"Publication: {p.title}", f"/research/studies/{p.study_id}",
                )
            )  # fmt: skip
        return out

    def all(self, zone: ZoneInfo) -> list[calc.StepRecord]:
        return [
            *self.decisions(),
            *self.cannulations(),
            *self.rounds(),
            *self.alerts(),
            *self.trials(),
            *self.decannulations(),
            *self.reviews(zone),
            *self.research(),
        ]


# --- gaps that matter ---------------------------------------------------------------------


def _gap_facts(
    session: Session, f: MapFilter, records: list[calc.StepRecord], zone: ZoneInfo, now: datetime
) -> calc.GapFacts:
    facts = calc.GapFacts()
    rounds_by_day: dict[tuple[int, date], bool] = {}
    for r in records:
        if r.step == "rounds" and r.kind == "round" and r.run_id is not None:
            key = (r.run_id, r.at.astimezone(zone).date())
            rounds_by_day[key] = rounds_by_day.get(key, False) or r.has(PERFUSION)
    stmt = select(
        CircuitAlert.run_id,
        CircuitAlert.raised_at,
        CircuitAlert.acknowledged_at,
        CircuitAlert.resolved_at,
    ).where(
        CircuitAlert.raised_at >= f.start,
        CircuitAlert.raised_at < f.end,
        CircuitAlert.run_id.in_(clinical_run_ids()),
    )
    for run_id, raised, acked, resolved in session.execute(stmt):
        day = raised.astimezone(zone).date()
        present = rounds_by_day.get((run_id, day), False)
        facts.alert_acks.append((_minutes(raised, acked), present))
        facts.alert_resolves.append((_minutes(raised, resolved), present))
    lungs = select(Component.run_id, Component.stopped_at, Component.stop_reason).where(
        Component.kind == "membrane_lung",
        Component.run_id.in_(clinical_run_ids()),
        Component.stopped_at >= f.start,
        Component.stopped_at < f.end,
    )
    for run_id, stopped, reason in session.execute(lungs):
        klass = metrics_calc.change_class(reason)
        if klass is None or stopped is None:
            continue
        day = stopped.astimezone(zone).date()
        present = rounds_by_day.get((run_id, day), False) or rounds_by_day.get(
            (run_id, day - timedelta(days=1)), False
        )
        facts.ml_changes.append((klass, present))
    for r in records:
        if r.step == "weaning" and r.state != "in_progress":
            facts.trials.append((r.state == "aborted", r.has(PERFUSION)))
    runs = session.execute(
        select(Run.id, Run.started_at, Run.ended_at).where(
            Run.started_at >= f.start, Run.started_at < f.end, not_training()
        )
    ).all()
    if runs:
        ids = [row[0] for row in runs]
        incidents = _incidents(session, ids)
        per_run: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for (run_id, _), present in rounds_by_day.items():
            per_run[run_id][1] += 1
            per_run[run_id][0] += int(present)
        for run_id, started, ended in runs:
            hours = max(0.0, ((ended or now) - started).total_seconds() / 3600)
            with_p, total = per_run.get(run_id, [0, 0])
            facts.runs.append((incidents.get(run_id, 0), hours, with_p, total))
    return facts


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds() / 60)


def _incidents(session: Session, run_ids: list[int]) -> dict[int, int]:
    """Adverse events that reached the patient, per run, with the class in force (the
    register's one reading of an event's current values)."""
    out: dict[int, int] = defaultdict(int)
    for event, force in adverse_events.events_in_force(session, run_ids):
        if force.values.get("event_class") == "incident":
            out[event.run_id] += 1
    return out


# --- the map --------------------------------------------------------------------------------


def compute(
    session: Session, actor: Actor, f: MapFilter, zone: ZoneInfo, now: datetime | None = None
) -> ParticipationMap:
    """The map for the period and discipline (``VIEW_QUALITY``): aggregates only."""
    actor.require(Permission.VIEW_QUALITY)
    check_filter(f)
    now = now or utcnow()
    records = _Reader(session, f.start, f.end).all(zone)
    policy = participation_policy.in_force(session)
    shares = calc.step_shares(records, f.discipline, UNRECORDED)
    perfusion = (
        shares if f.discipline == PERFUSION else calc.step_shares(records, PERFUSION, UNRECORDED)
    )
    months = calc.months_between(f.start, f.end, zone)
    trend = calc.monthly_trend(records, f.discipline, zone, months)
    facts = _gap_facts(session, f, records, zone, now)
    comparisons = calc.gap_comparisons(facts, policy.target_share_pct)
    return ParticipationMap(f, records, shares, perfusion, policy, comparisons, months, trend, now)


def require_records(actor: Actor) -> None:
    """The records behind a step name runs: roles that may read identifiers only."""
    actor.require(Permission.VIEW_QUALITY)
    if not actor.can(Permission.VIEW_IDENTIFIERS):
        raise Forbidden(
            "your role sees the participation map as aggregate counts only, not the records"
        )


def drill_down(m: ParticipationMap, actor: Actor, step: str) -> list[calc.StepRecord]:
    require_records(actor)
    if step not in calc.STEP_KEYS:
        raise ValidationFailed([FieldProblem("step", f"one of {', '.join(calc.STEP_KEYS)}", step)])
    return calc.drill(m.records, step, m.filter.discipline)


def discipline_label(code: str) -> str:
    return DISCIPLINE_LABELS.get(code, code)


# --- missing voices -------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingVoice:
    step: str
    what: str
    run_id: int | None
    href: str
    since: datetime | None


def missing_voices(
    session: Session, actor: Actor, zone: ZoneInfo, now: datetime | None = None
) -> list[MissingVoice]:
    """Today's decisions, rounds, trials and decannulations that the policy says need
    perfusion input and that have none yet (``VIEW_IDENTIFIERS``: they name runs)."""
    require_records(actor)
    now = now or utcnow()
    policy = participation_policy.in_force(session)
    today = now.astimezone(zone).date()
    day_start = datetime(today.year, today.month, today.day, tzinfo=zone)
    reader = _Reader(session, day_start, day_start + timedelta(days=1))
    out: list[MissingVoice] = []
    if policy.required["candidacy"] or policy.required["configuration"]:
        out += _open_decisions(session, reader, day_start)
    if policy.required["rounds"]:
        held = {r.run_id: r for r in reader.rounds() if r.kind == "round"}
        active = session.execute(
            select(Run.id, Run.started_at)
            .where(Run.status.in_(("active", "weaning")), not_training())
            .order_by(Run.id)
        ).all()
        for run_id, started in active:
            if started > now:
                continue
            found = held.get(run_id)
            if found is None:
                out.append(
                    MissingVoice(
                        "rounds", "today's round not recorded yet: no perfusion input",
                        run_id, f"/runs/{run_id}/rounds", None,
                    )
                )  # fmt: skip
            elif not found.has(PERFUSION):
                out.append(
                    MissingVoice(
                        "rounds", "today's round has no perfusion input", run_id,
                        f"/runs/{run_id}/rounds", found.at,
                    )
                )  # fmt: skip
    if policy.required["weaning"]:
        trials = select(WeaningTrial.id, WeaningTrial.run_id, WeaningTrial.started_at).where(
            WeaningTrial.status == "in_progress",
            WeaningTrial.perfusion_by.is_(None),
            WeaningTrial.run_id.in_(clinical_run_ids()),
        )
        rows = session.execute(trials).all()
        parts = reader._participation(
            "weaning_trial", select(WeaningTrial.id).where(WeaningTrial.status == "in_progress")
        )
        for trial_id, run_id, started in rows:
            if any(d == PERFUSION for d, _ in parts.get(trial_id, [])):
                continue
            out.append(
                MissingVoice(
                    "weaning", "weaning trial in progress without a perfusion assessment",
                    run_id, f"/runs/{run_id}/weaning", started,
                )
            )  # fmt: skip
    if policy.required["decannulation"]:
        for d in reader.decannulations():
            if not d.has(PERFUSION):
                out.append(
                    MissingVoice(
                        "decannulation", "decannulation today without a perfusion signature",
                        d.run_id, d.href or "", d.at,
                    )
                )  # fmt: skip
    return out


def _open_decisions(session: Session, reader: _Reader, day_start: datetime) -> list[MissingVoice]:
    """Current decision records of referrals still being assessed, or decided today, with
    no perfusion signature or participation."""
    newest = (
        select(InitiationDecision.referral_id, func.max(InitiationDecision.sequence).label("seq"))
        .group_by(InitiationDecision.referral_id)
        .subquery()
    )
    stmt = (
        select(
            InitiationDecision.id,
            InitiationDecision.referral_id,
            InitiationDecision.run_id,
            Referral.referred_at,
            InitiationDecision.decided_at,
        )
        .join(
            newest,
            and_(
                newest.c.referral_id == InitiationDecision.referral_id,
                newest.c.seq == InitiationDecision.sequence,
            ),
        )
        .join(Referral, Referral.id == InitiationDecision.referral_id)
        .where(
            InitiationDecision.perfusionist_signed_by.is_(None),
            or_(
                Referral.status.in_(("new", "under_assessment")),
                InitiationDecision.decided_at >= day_start,
            ),
        )
    )
    rows = session.execute(stmt).all()
    if not rows:
        return []
    parts = reader._participation(
        "initiation_decision", select(InitiationDecision.id).where(
            InitiationDecision.id.in_([r.id for r in rows])
        )
    )  # fmt: skip
    out = []
    for r in rows:
        if any(d == PERFUSION for d, _ in parts.get(r.id, [])):
            continue
        what = (
            "decision signed today without perfusion"
            if r.decided_at is not None
            else "candidacy and configuration decision open without perfusion input"
        )
        out.append(
            MissingVoice("candidacy", what, r.run_id, f"/referrals/{r.referral_id}", r.referred_at)
        )
    return out

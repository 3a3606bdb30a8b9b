"""The M&M case packet of a run (or of one adverse event: the run's packet centred on the
event's time): one chronological account taken from the clinical timeline and the records
behind it, in the order a review reads it. Page one is an SBAR summary (situation,
background, assessment, recommendation); then the circuit trends charted with the alerts,
acknowledgements (who, how many minutes after raising), component changes with their stop
reasons, mode changes, decisions and who took part (by discipline, perfusion present or
not), rounds and circuit checks, weaning, the outcome and the whole timeline.

The de-identified teaching variant shows the patient's label only: no names of patient or
staff (a discipline instead), no MRN, no free text (event summaries become their kind's
label), and times as "day N HH:MM" counted from the start of the run (day 0 is its first
24 hours). The HTML page and the PDF (``case_packet_pdf``) are drawn from this one object.
Presentation and de-identification: docs/clinical/reference.md §7.9.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import calculators
from continuum.alerts.models import CircuitAlert
from continuum.core import audit, hospital_outcome, patient_service, run_trends
from continuum.core.clinical_event import KIND_LABELS
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.timeline_view import Filters, events
from continuum.core.trend_chart import MARKER_WORDS, X_UNITS, Chart, Dot, build
from continuum.core.vocab import DISCIPLINE_LABELS, OUTCOME_LABELS
from continuum.errors import Forbidden, NotFound
from continuum.initiation.models import InitiationDecision
from continuum.local_time import shown
from continuum.quality import adverse_events, review_service
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.quality.pdsa_chart import day_ticks
from continuum.quality.review_factors import cause_label, factor_label
from continuum.quality.taxonomy import (
    BY_CODE,
    EVENT_CLASS_LABELS,
    HARM_LABELS,
    PREVENTABILITY_LABELS,
)
from continuum.rounds.models import RoundAction

P = Permission
EVENT_WINDOW = timedelta(hours=12)  # an event's packet charts 12 h either side of it
SCORE_NAMES = {"murray": "Murray", "resp": "RESP", "preserve": "PRESERVE", "save": "SAVE"}
SECTION_KINDS: dict[str, tuple[str, ...]] = {
    "decisions": ("decision.",),
    "rounds": ("round.", "circuit_check.", "action."),
    "weaning": ("weaning.", "decannulation.", "follow_up."),
}


def may_read(actor: Actor, deidentified: bool) -> None:
    """The identified packet: case reviewers (REVIEW_CASES), or clinical roles that see
    identifiers (VIEW_IDENTIFIERS and VIEW_CLINICAL). The de-identified teaching packet: case
    reviewers only (it is a review document, handed out by those who run reviews)."""
    if deidentified:
        actor.require(P.REVIEW_CASES)
    elif not actor.can(P.REVIEW_CASES) and not (
        actor.can(P.VIEW_IDENTIFIERS) and actor.can(P.VIEW_CLINICAL)
    ):
        raise Forbidden(f"the {actor.role} role may not read an identified case packet")


@dataclass
class Row:
    time: str
    what: str
    detail: str = ""
    who: str = ""
    extra: str = ""
    href: str = ""  # the record's own page (identified packet only)


@dataclass
class Packet:
    run_id: int
    title: str
    deidentified: bool
    patient_label: str
    mrn: str | None
    name: str | None
    support: str
    modes: str
    started: str
    ended: str
    outcome: str
    indication: str
    diagnosis: str
    scores: list[str]
    adverse_events: list[Row]
    alert_counts: dict[str, int]
    alerts_total: int
    ack_median_min: float | None
    ack_max_min: float | None
    unacknowledged: int
    open_actions: list[Row]
    chart: Chart | None
    acknowledgements: list[Row]
    components: list[Row]
    mode_changes: list[Row]
    decisions: list[Row]
    rounds: list[Row]
    weaning: list[Row]
    reviews: list[Row]
    findings: list[Row]
    timeline: list[Row]
    centre: str | None = None
    centre_event_id: int | None = None
    generated: str = ""
    perfusion_at_decisions: str = ""
    notes: list[str] = field(default_factory=list)


class Clock:
    """Times as the packet shows them: local time, or "day N HH:MM" from the run's start."""

    def __init__(self, start: datetime, zone: ZoneInfo, deidentified: bool) -> None:
        self.start, self.zone, self.deidentified = start, zone, deidentified

    def __call__(self, t: datetime | None) -> str:
        if t is None:
            return "—"
        if not self.deidentified:
            return shown(t, self.zone)
        return relative(t, self.start)


def relative(t: datetime, start: datetime) -> str:
    """``day N HH:MM`` after ``start`` (day 0 is the first 24 h; before it: "before start")."""
    seconds = int((t - start).total_seconds())
    if seconds < 0:
        minutes = -seconds // 60
        return f"{minutes // 60:d} h {minutes % 60:02d} min before start"
    days, rest = divmod(seconds, 86400)
    return f"day {days} {rest // 3600:02d}:{rest % 3600 // 60:02d}"


def _minutes(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 60.0, 1)


def _scores(session: Session, run: Run) -> list[str]:
    decision = session.scalar(select(InitiationDecision).where(InitiationDecision.run_id == run.id))
    if decision is None:
        return []
    out = []
    for name, inputs in (decision.score_inputs or {}).items():
        if name not in SCORE_NAMES or not inputs:
            continue
        try:
            data = dict(inputs)
            if name in ("resp", "save"):
                data.setdefault("support", run.support_type)
            result = calculators.run_calculator(name, data)
        except Exception:
            out.append(f"{SCORE_NAMES[name]}: inputs incomplete")
            continue
        words = ", ".join(
            f"{k.replace('_', ' ')} {v}"
            for k, v in result.interpretation.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)
        )
        unit = "" if result.unit in ("", "1", "points") else f" {result.unit}"
        out.append(f"{SCORE_NAMES[name]} {result.value:g}{unit}" + (f" ({words})" if words else ""))
    return out


def _chart(
    session: Session, run: Run, zone: ZoneInfo, start: datetime, end: datetime, title: str
) -> Chart | None:
    """The run's circuit trends over [start, end] with alerts and changes as markers (the
    run page's signals and ΔP per L/min, drawn by core.trend_chart)."""
    s = run_trends.surveillance_settings(session)
    lead = start - timedelta(minutes=s.tmp_smoothing_min)
    codes = (*run_trends.RUN_PAGE_CODES, *run_trends.DP_CODES)
    found = run_trends.readings(session, run.id, codes, lead, end)
    typed = run_trends.entered_results(session, run.id, run_trends.RUN_PAGE_CODES, start, end)
    traces = []
    for code in run_trends.RUN_PAGE_CODES:
        if code == run_trends.DP_PER_FLOW:
            lung = run_trends.lung_trend(session, run, start, end, s, recent=found)
            if lung.points:
                traces.append(run_trends.lung_trace(lung, s))
            continue
        points = found.get(code)
        if points:
            traces.append(run_trends.trace_of(code, points, entered=typed.get(code)))
    if not traces:
        return None
    span = (end - start).total_seconds()
    buckets = 240 if span <= 3 * 86400 else 360
    chart = build(
        traces, start, end, zone, run_trends.markers(session, run.id, start, end), title, buckets
    )
    if span > 2 * 86400:  # a long run: day labels rather than crowded hours
        chart = replace(chart, x_ticks=day_ticks(start, end, zone))
    return chart


def _deidentify_chart(chart: Chart, start: datetime) -> Chart:
    """Relative times on the axis and markers; no value table (its rows carry times)."""
    span = (chart.end - chart.start).total_seconds()
    ticks = []
    if span > 2 * 86400:  # whole run-days from the start: "day N"
        every = max(1, math.ceil(span / 86400 / 6))
        day = math.ceil((chart.start - start).total_seconds() / 86400)
        while (t := start + timedelta(days=day)) <= chart.end:
            left = round((t - chart.start).total_seconds() / span * 100, 2)
            if 3 <= left <= 97 and day % every == 0:
                ticks.append((left, f"day {day}"))
            day += 1
    else:
        for left, _ in chart.x_ticks:
            t = chart.start + timedelta(seconds=span * left / 100.0)
            ticks.append((left, relative(t, start)))
    markers = [
        replace(
            m,
            title=relative(chart.start + timedelta(seconds=span * m.left / 100.0), start)
            + " · "
            + MARKER_WORDS.get(m.kind, m.kind),  # the kind only: summaries carry typed reasons
        )
        for m in chart.markers
    ]

    def dot_title(d: Dot) -> str:
        t = chart.start + timedelta(seconds=span * d.x / X_UNITS)
        return relative(t, start) + ": " + d.title.split(": ", 1)[-1]

    panels = [
        replace(
            p,
            latest="",  # "latest … at HH:MM" names a clock time
            hovers=[],  # period strips are titled with clock times
            dots=[replace(d, title=dot_title(d)) for d in p.dots],
        )
        for p in chart.panels
    ]
    return replace(
        chart,
        panels=panels,
        x_ticks=ticks,
        markers=markers,
        table_head=[],
        table_rows=[],
        events=[],
    )


def build_packet(
    session: Session,
    actor: Actor,
    run_id: int,
    zone: ZoneInfo,
    deidentified: bool = False,
    event_id: int | None = None,
) -> Packet:
    """The case packet (audited: an identified packet's read is recorded with the patient)."""
    may_read(actor, deidentified)
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    centre_event = None
    if event_id is not None:
        centre_event = session.get(AdverseEvent, event_id)
        if centre_event is None or centre_event.run_id != run.id:
            raise NotFound(f"adverse event {event_id} of run {run_id} not found")
    clock = Clock(run.started_at, zone, deidentified)
    identity = None
    if not deidentified:
        identity = patient_service.identities(session, actor, [run.patient_id], "case packet").get(
            run.patient_id
        )
    audit.record(
        session,
        actor,
        "read_case_packet",
        "run",
        run.id,
        run.patient_id,
        {"deidentified": deidentified, "event_id": event_id},
    )

    staff = dict(session.execute(select(Staff.id, Staff.name)).all())
    disc = dict(session.execute(select(Staff.id, Staff.discipline)).all())

    def who(staff_id: int | None, name: str | None = None, discipline: str | None = None) -> str:
        d = DISCIPLINE_LABELS.get(discipline or disc.get(staff_id or -1, ""), discipline or "")
        if deidentified:
            return d or ("system" if staff_id is None else "")
        shown_name = name or (staff.get(staff_id) if staff_id else None) or "system"
        return f"{shown_name} ({d})" if d else shown_name

    def text(value: str | None) -> str:
        if deidentified:
            return "(free text removed)" if value else ""
        return value or ""

    # Situation
    modes = " → ".join(dict.fromkeys(m.mode for m in run.modes)) or "—"
    outcome = OUTCOME_LABELS.get(run.outcome or "", "on ECMO (run not ended)")
    if run.ended_at is not None and run.outcome != "died_on_ecmo":
        hospital = hospital_outcome.in_force(session, run.id)
        outcome += "; hospital outcome: " + (
            f"{hospital.status_label.lower()} ({clock(hospital.at)})"
            if hospital is not None
            else "not recorded yet"
        )
    # Assessment: adverse events with the values in force
    ae_rows = []
    for ae, force in sorted(
        adverse_events.events_in_force(session, [run.id]),
        key=lambda x: (x[1].values["occurred_at"], x[0].id),
    ):
        v = force.values
        code = BY_CODE.get(v["code"] or "")
        prevent = PREVENTABILITY_LABELS.get(v["preventability"] or "", "not yet agreed")
        ae_rows.append(
            Row(
                clock(v["occurred_at"]) + (" (estimated)" if v["time_estimated"] else ""),
                code.label if code else str(v["code"]),
                EVENT_CLASS_LABELS.get(v["event_class"] or "", "")
                + f"; harm: {HARM_LABELS.get(v['harm'] or '', v['harm'])}; {prevent.lower()}"
                + (f"; cause: {cause_label(v['cause_class']).lower()}" if v["cause_class"] else ""),
                text(v["description"]),
                extra=f"#{ae.id}",
                href="" if deidentified else f"/quality/events/{ae.id}",
            )
        )
    # Alerts and acknowledgement delays
    alerts = session.scalars(
        select(CircuitAlert).where(CircuitAlert.run_id == run.id).order_by(CircuitAlert.raised_at)
    ).all()
    counts: dict[str, int] = {}
    delays = []
    acks = []
    for a in alerts:
        counts[a.peak_severity] = counts.get(a.peak_severity, 0) + 1
        if a.acknowledged_at is not None:
            m = _minutes(a.raised_at, a.acknowledged_at)
            delays.append(m)
            acks.append(
                Row(
                    clock(a.raised_at),
                    f"{a.peak_severity} · {a.detector.replace('_', ' ')}",
                    f"{m:g} min after raising",
                    who(a.acknowledged_by),
                )
            )
        else:
            acks.append(
                Row(
                    clock(a.raised_at),
                    f"{a.peak_severity} · {a.detector.replace('_', ' ')}",
                    "not acknowledged",
                    "",
                )
            )
    # Recommendation: open actions (review actions of this run, open round actions)
    open_rows = []
    for r in review_service.reviews_of_run(session, run.id):
        for act in review_service.actions_of(session, r.id):
            if act.status == "open":
                open_rows.append(
                    Row(
                        act.due_on.isoformat() if not deidentified else "",
                        "M&M action",
                        text(act.text),
                        who(act.owner_id),
                    )
                )
    round_actions = session.scalars(
        select(RoundAction).where(RoundAction.run_id == run.id, RoundAction.completed_at.is_(None))
    ).all()
    for ra in round_actions:
        open_rows.append(
            Row(
                clock(ra.due_at),
                "Round action",
                text(ra.text),
                DISCIPLINE_LABELS.get(ra.owner_discipline, ra.owner_discipline),
            )
        )
    # Components and modes
    comp_rows = [
        Row(
            clock(c.started_at),
            c.kind.replace("_", " "),
            " ".join(x for x in (c.make, c.model) if x)
            + (f" · serial {c.serial}" if c.serial and not deidentified else ""),
            "in use"
            if c.stopped_at is None
            else f"stopped {clock(c.stopped_at)}: {(c.stop_reason or '').replace('_', ' ')}",
            "replaces an earlier one" if c.replaces_id else "",
        )
        for c in run.components
    ]
    mode_rows = [
        Row(
            clock(m.started_at), m.mode, text(m.reason), "", clock(m.ended_at) if m.ended_at else ""
        )
        for m in run.modes
    ]
    # Participation by record (decisions, rounds, checks, weaning)
    # Timeline sections, with who took part in each record (decisions may predate the run,
    # so participation is found by the events' records, not only by the run)
    all_events = events(session, run, Filters())
    keys = {(e.record_type, e.record_id) for e in all_events}
    parts: dict[tuple[str, int], list[Participation]] = {}
    if keys:
        stmt = select(Participation).where(
            Participation.record_type.in_({k[0] for k in keys}),
            Participation.record_id.in_({k[1] for k in keys}),
        )
        for p in session.scalars(stmt):
            if (p.record_type, p.record_id) in keys:
                parts.setdefault((p.record_type, p.record_id), []).append(p)
    sections: dict[str, list[Row]] = {k: [] for k in SECTION_KINDS}
    timeline = []
    decision_perf: dict[tuple[str, int], bool] = {}  # per decision record
    for e in all_events:
        label = KIND_LABELS[e.kind]
        summary = label if deidentified else e.summary
        row = Row(clock(e.clinical_time), label, summary, who(e.staff_id, e.by_name, e.discipline))
        timeline.append(row)
        for section, prefixes in SECTION_KINDS.items():
            if e.kind.startswith(prefixes):
                took_part = parts.get((e.record_type, e.record_id), [])
                if took_part:
                    ds = sorted(
                        {DISCIPLINE_LABELS.get(p.discipline, p.discipline) for p in took_part}
                    )
                    perf = any(p.discipline == "perfusion" for p in took_part)
                    row = replace(
                        row,
                        extra="took part: "
                        + ", ".join(ds)
                        + f" · perfusion present: {'yes' if perf else 'no'}",
                    )
                    if section == "decisions":
                        decision_perf[(e.record_type, e.record_id)] = perf
                sections[section].append(row)
    reviews = [
        Row(
            clock(r.signed_at) if r.signed_at else "draft",
            f"M&M review #{r.id}"
            + (f" of adverse event #{r.adverse_event_id}" if r.adverse_event_id else ""),
            "cause class: "
            + cause_label(review_service.in_force(session, r)["cause_class"]).lower(),
            "perfusion present: "
            + ("yes" if review_service.perfusion_present(session, r.meeting_id) else "no"),
            href=f"/quality/reviews/cases/{r.id}" if actor.can(P.REVIEW_CASES) else "",
        )
        for r in review_service.reviews_of_run(session, run.id)
    ]
    findings = [
        Row(
            f"review #{r.id}",
            text(problem.description),
            "; ".join(factor_label(f.factor_group) for f in factors) or "no factor recorded",
        )
        for r in review_service.reviews_of_run(session, run.id)
        for problem, factors in review_service.problems(session, r.id)
    ]
    # Chart window: the run (to its last data), or 12 h either side of the event
    last_alert = max((a.raised_at for a in alerts), default=None)
    data_end = run_trends.window_end(session, run)
    end = run.ended_at or max(
        (t for t in (data_end, last_alert) if t is not None), default=run.started_at
    )
    start = run.started_at
    centre = None
    if centre_event is not None:
        at = adverse_events.in_force(centre_event).values["occurred_at"]
        start, end = max(start, at - EVENT_WINDOW), min(end, at + EVENT_WINDOW)
        centre = clock(at)
        end = max(end, start + timedelta(minutes=1))
    chart = None
    if end > start:
        title = f"Run {run.id}: circuit trends with alerts" + (
            f", 12 h either side of adverse event #{centre_event.id}" if centre_event else ""
        )
        chart = _chart(session, run, zone, start, end, title)
        if chart is not None and deidentified:
            chart = _deidentify_chart(chart, run.started_at)
    delays_sorted = sorted(delays)
    return Packet(
        run_id=run.id,
        title=f"M&M case packet — run {run.id}, {run.patient.label}",
        deidentified=deidentified,
        patient_label=run.patient.label,
        mrn=identity.mrn if identity else None,
        name=identity.name if identity else None,
        support=run.support_type,
        modes=modes,
        started=clock(run.started_at),
        ended=clock(run.ended_at) if run.ended_at else "not ended",
        outcome=outcome,
        indication=text(run.indication),
        diagnosis=text(run.diagnosis),
        scores=_scores(session, run),
        adverse_events=ae_rows,
        alert_counts=counts,
        alerts_total=len(alerts),
        ack_median_min=round(statistics.median(delays_sorted), 1) if delays_sorted else None,
        ack_max_min=delays_sorted[-1] if delays_sorted else None,
        unacknowledged=sum(1 for a in alerts if a.acknowledged_at is None),
        open_actions=open_rows,
        chart=chart,
        acknowledgements=acks,
        components=comp_rows,
        mode_changes=mode_rows,
        decisions=sections["decisions"],
        rounds=sections["rounds"],
        weaning=sections["weaning"],
        reviews=reviews,
        findings=findings,
        timeline=timeline,
        centre=centre,
        centre_event_id=centre_event.id if centre_event else None,
        generated=shown(datetime.now(tz=ZoneInfo("UTC")), zone) if not deidentified else "",
        perfusion_at_decisions=(
            f"{sum(decision_perf.values())} of {len(decision_perf)} decision records "
            "with perfusion present"
            if decision_perf
            else "no participation recorded at decisions"
        ),
    )


def summary_lines(p: Packet) -> dict[str, list[str]]:
    """Page one (SBAR) as lines of text, shared by the page and the PDF."""
    sev = ", ".join(f"{n} {s}" for s, n in sorted(p.alert_counts.items())) or "none"
    ack = (
        f"median {p.ack_median_min:g} min, longest {p.ack_max_min:g} min"
        if p.ack_median_min is not None
        else "no acknowledgements"
    )
    ident = [] if p.deidentified or p.mrn is None else [f"Patient: {p.name}, MRN {p.mrn}"]
    situation = [
        *ident,
        f"Patient label: {p.patient_label}",
        f"Support: {p.support} · mode {p.modes}",
        f"Run: {p.started} to {p.ended}"
        if p.ended != "not ended"
        else f"Run: since {p.started} (not ended)",
        f"Outcome: {p.outcome}",
    ]
    if p.centre:
        situation.append(f"Centred on adverse event #{p.centre_event_id} at {p.centre}")
    background = [
        f"Indication: {p.indication or '—'}",
        f"Diagnosis: {p.diagnosis or '—'}",
        "Scores at the decision: " + ("; ".join(p.scores) if p.scores else "none recorded"),
    ]
    assessment = [
        f"Adverse events: {len(p.adverse_events)}",
        *(f"  {r.time} — {r.what} ({r.detail})" for r in p.adverse_events),
        f"Alerts: {p.alerts_total} ({sev}); unacknowledged: {p.unacknowledged}",
        f"Acknowledgement delay: {ack}",
        f"Decisions: {p.perfusion_at_decisions}",
    ]
    recommendation = [f"Open actions: {len(p.open_actions)}"] + [
        f"  {r.what}: {r.detail} — {r.who}" + (f" (due {r.time})" if r.time else "")
        for r in p.open_actions
    ]
    return {
        "Situation": situation,
        "Background": background,
        "Assessment": assessment,
        "Recommendation": recommendation,
    }


def packet_json(p: Packet) -> dict[str, Any]:
    """For tests and tools: the SBAR lines and the section sizes."""
    return {"sbar": summary_lines(p), "timeline": len(p.timeline)}

"""A run's weaning history: reviews, trials on one timeline, decannulation, and the signals
that mattered charted across each trial."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from continuum.core import free_text, observation_service, run_trends
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.trend_chart import Chart, Marker, build
from continuum.db import utcnow
from continuum.weaning import decannulation, readiness, trials
from continuum.weaning.models import WeaningTrial
from continuum.weaning.protocols import PROTOCOLS

SIGNALS = ("blood_flow", "sweep_flow", "spo2", "sao2", "paco2", "map")
MARGIN = timedelta(minutes=30)
# Weaning values are often charted by hand at each step: a line breaks only after an hour.
MAX_GAP = timedelta(hours=1)


def window(trial_list: list[WeaningTrial]) -> tuple[datetime, datetime] | None:
    if not trial_list:
        return None
    """From half an hour before the first trial to half an hour after the last one ended, but
    never past now: a trial under way is charted up to now, not into the future."""
    now = utcnow()
    start = min(t.started_at for t in trial_list) - MARGIN
    last = max((t.ended_at or now) for t in trial_list)
    end = max(min(last + MARGIN, now), last)
    return start, end


def chart(session: Session, run_id: int, trial_list: list[WeaningTrial]) -> dict[str, Any]:
    """Series of the key signals over the trials' span, and one band per trial."""
    span = window(trial_list)
    if span is None:
        return {"series": {}, "bands": []}
    series = {
        code: [
            [t.isoformat(), v] for t, v in observation_service.series(session, run_id, code, *span)
        ]
        for code in SIGNALS
    }
    bands = [
        {
            "start": t.started_at.isoformat(),
            "end": (t.ended_at or utcnow()).isoformat(),
            "label": f"#{t.id} {PROTOCOLS[t.kind].title}: {t.status.replace('_', ' ')}",
            "status": t.status,
            "steps": [[s.at.isoformat(), s.stage] for s in t.steps],
        }
        for t in trial_list
    ]
    return {"series": {k: v for k, v in series.items() if v}, "bands": bands}


def trial_chart(
    session: Session, run_id: int, trial_list: list[WeaningTrial], zone: ZoneInfo
) -> Chart | None:
    """The pages' chart (server-drawn SVG, ``core.trend_chart``): one panel per signal
    recorded over the trials' span, a marker at each trial's start, step and end."""
    span = window(trial_list)
    if span is None:
        return None
    found = run_trends.readings(session, run_id, SIGNALS, *span)
    typed = run_trends.entered_results(session, run_id, SIGNALS, *span)
    traces = [
        replace(run_trends.trace_of(code, found[code], None, typed.get(code)), max_gap=MAX_GAP)
        for code in SIGNALS
        if found.get(code)
    ]
    if not traces:
        return None
    marks: list[Marker] = []
    for t in trial_list:
        protocol = PROTOCOLS[t.kind]
        name = f"#{t.id} {protocol.title}"
        stages = {st.key: st.label for st in protocol.stages}
        marks.append(Marker(t.started_at, "trial", f"{name} started"))
        marks += [
            Marker(s.at, "step", f"{name}: step {s.seq}, {stages.get(s.stage, s.stage)}")
            for s in t.steps
        ]
        if t.ended_at:
            marks.append(Marker(t.ended_at, "trial", f"{name} {t.status.replace('_', ' ')}"))
    title = "Signals across the trial" if len(trial_list) == 1 else "Signals across the trials"
    return build(traces, *span, zone, marks, title=title)


def trial_out(trial: WeaningTrial) -> dict[str, Any]:
    return {
        "id": trial.id,
        "kind": trial.kind,
        "title": PROTOCOLS[trial.kind].title,
        "status": trial.status,
        "started_at": trial.started_at.isoformat(),
        "ended_at": trial.ended_at.isoformat() if trial.ended_at else None,
        "reason": trial.outcome_reason,
        "baseline_flow": trial.baseline_flow,
        "perfusion_assessment": {
            "by": trial.perfusion_name,
            "at": trial.perfusion_at.isoformat() if trial.perfusion_at else None,
            "flow_safe": trial.perfusion_flow_safe,
            "anticoagulation_ok": trial.perfusion_anticoagulation_ok,
            "text": trial.perfusion_assessment,
        },
        "steps": [
            {
                "seq": s.seq,
                "stage": s.stage,
                "at": s.at.isoformat(),
                "measurements": s.measurements,
                "judged": s.judged,
                "note": s.note,
            }
            for s in trial.steps
        ],
    }


def history(session: Session, actor: Actor, run: Run) -> dict[str, Any]:
    """Everything about weaning on this run (JSON-ready)."""
    actor.require(Permission.VIEW_CLINICAL)
    trial_list = trials.trials_for(session, run.id)
    out = {
        "run_id": run.id,
        "status": run.status,
        "outcome": run.outcome,
        "family": readiness.family_of(run),
        "reviews": [
            {
                "id": r.id,
                "at": r.reviewed_at.isoformat(),
                "by": r.reviewer,
                "met": r.met,
                "not_met": r.not_met,
                "unknown": r.unknown,
                "criteria": r.criteria,
                "note": r.note,
            }
            for r in readiness.reviews(session, run.id)
        ],
        "trials": [trial_out(t) for t in trial_list],
        "decannulations": [decannulation_out(d) for d in decannulation.for_run(session, run.id)],
        "follow_ups": [
            {
                "id": f.id,
                "item": f.item,
                "due_at": _iso(f.due_at),
                "done_at": _iso(f.done_at),
                "result": f.result,
            }
            for f in decannulation.follow_ups(session, run.id)
        ],
        "chart": chart(session, run.id, trial_list),
    }
    return out if free_text.readable(actor) else _without_free_text(actor, out)


# Typed words of the weaning record (core.free_text): null for a role without identifiers,
# or "hidden for your role" where the field always holds words.
_TYPED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reviews": (("note",), ()),
    "trials": (("reason",), ()),
    "decannulations": (("no_trial_reason", "doppler"),
                       ("positioning", "closure_technique", "limb_perfusion")),
    "follow_ups": (("result",), ()),
}  # fmt: skip


def _without_free_text(actor: Actor, out: dict[str, Any]) -> dict[str, Any]:
    for part, (nullable, worded) in _TYPED.items():
        for row in out[part]:
            free_text.hide_fields(actor, row, nullable)
            row.update({k: free_text.for_page(actor, row[k]) for k in worded if k in row})
    for trial in out["trials"]:
        free_text.hide_fields(actor, trial["perfusion_assessment"], ("text",))
        for step in trial["steps"]:
            free_text.hide_fields(actor, step, ("note",))
    return out


def decannulation_out(d: Any) -> dict[str, Any]:
    return {
        "id": d.id,
        "trial_id": d.trial_id,
        "no_trial_reason": d.no_trial_reason,
        "decannulated_at": _iso(d.decannulated_at),
        "anticoagulation_stopped_at": _iso(d.anticoagulation_stopped_at),
        "coagulation": d.coagulation,
        "blood_products_available": d.blood_products_available,
        "positioning": d.positioning,
        "closure_technique": d.closure_technique,
        "haemostasis_minutes": d.haemostasis_minutes,
        "limb_perfusion": d.limb_perfusion,
        "doppler": d.doppler,
        "outcome": d.outcome,
        "signed": d.signed,
        "physician": {"name": d.physician_name, "at": _iso(d.physician_signed_at)},
        "perfusionist": {"name": d.perfusionist_name, "at": _iso(d.perfusionist_signed_at)},
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None

"""M&M pages and API: meetings (/quality/reviews), a meeting (attendance, agenda: its cases
and the open actions of earlier meetings), a review (care delivery problems and factors,
anonymous voting, consensus, signing, amendments, actions and PDSA), the open-action list
(/quality/actions, overdue first) and the case packet of a run (/quality/runs/{id}/packet,
HTML and PDF, identified or de-identified)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from continuum.core.people import Patient, Staff
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run, not_training
from continuum.core.run_view import RunLink, add_run_link
from continuum.core.vocab import DISCIPLINE_LABELS, DISCIPLINES
from continuum.errors import ContinuumError
from continuum.quality import adverse_events, case_packet
from continuum.quality import review_service as svc
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.quality.pdsa_chart import pdsa_chart
from continuum.quality.review_factors import (
    CAUSE_CLASS_LABELS,
    ECMO_GROUPS,
    FACTOR_GROUP_LABELS,
    LONDON_PROTOCOL_GROUPS,
    factor_label,
)
from continuum.quality.review_record import Review, ReviewAction, ReviewMeeting
from continuum.quality.review_schemas import (
    ActionIn,
    ActionOut,
    ActionStatusIn,
    AmendIn,
    AmendmentOut,
    AttendanceIn,
    AttendanceOut,
    ConsensusIn,
    FactorOut,
    MeasurementIn,
    MeasurementOut,
    MeetingBrief,
    MeetingIn,
    MeetingOut,
    ProblemIn,
    ProblemOut,
    ReviewBrief,
    ReviewIn,
    ReviewOut,
    VoteIn,
    VoteOut,
)
from continuum.quality.taxonomy import BY_CODE, HARM_LABELS, PREVENTABILITY_LABELS
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import (
    NavLink,
    add_nav_link,
    add_template_dir,
    parse_form,
    redirect,
    render,
)

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1/quality", dependencies=[Depends(get_actor)], tags=["quality"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("M&M", "/quality/reviews", P.REVIEW_CASES, 60))
add_run_link(RunLink("Case packet (M&M)", "/quality/runs/{run_id}/packet", P.REVIEW_CASES, 80))


def _today(request: Request) -> date:
    return svc.today_in(request.app.state.settings.zone)


# --- JSON shapes -----------------------------------------------------------------------


def _label(db: DbSession, run_id: int) -> str:
    run = db.get(Run, run_id)
    return db.get_one(Patient, run.patient_id).label if run else f"run {run_id}"


def _action_out(db: DbSession, a: ReviewAction, today: date) -> ActionOut:
    review = db.get_one(Review, a.review_id)
    names = svc.staff_names(db, {a.owner_id})
    return ActionOut(
        id=a.id,
        review_id=a.review_id,
        meeting_id=review.meeting_id,
        run_id=review.run_id,
        text=a.text,
        owner_id=a.owner_id,
        owner=names.get(a.owner_id, f"staff {a.owner_id}"),
        due_on=a.due_on,
        status=a.status,
        overdue=a.status == "open" and a.due_on < today,
        pdsa=a.measure_name is not None,
        pdsa_plan=a.pdsa_plan,
        measure_name=a.measure_name,
        measure_unit=a.measure_unit,
        measurements=[
            MeasurementOut(id=m.id, measured_on=m.measured_on, value=m.value, note=m.note)
            for m in svc.measurements(db, a.id)
        ],
        done_at=a.done_at,
    )


def _brief(db: DbSession, r: Review) -> ReviewBrief:
    return ReviewBrief(
        id=r.id,
        run_id=r.run_id,
        patient_label=_label(db, r.run_id),
        adverse_event_id=r.adverse_event_id,
        status=r.status,
        cause_class=r.cause_class,
    )


def _meeting_out(db: DbSession, m: ReviewMeeting, today: date) -> MeetingOut:
    rows = svc.attendance(db, m.id)
    names = svc.staff_names(db, {r.staff_id for r in rows} | {m.chair_id})
    return MeetingOut(
        id=m.id,
        held_on=m.held_on,
        title=m.title,
        chair_id=m.chair_id,
        chair=names.get(m.chair_id) if m.chair_id else None,
        perfusion_present=svc.perfusion_present(db, m.id),
        attendance=[
            AttendanceOut(
                id=r.id,
                staff_id=r.staff_id,
                name=names.get(r.staff_id) if r.staff_id else r.guest_name,
                guest=r.staff_id is None,
                discipline=r.discipline,
                present=r.present,
            )
            for r in rows
        ],
        reviews=[_brief(db, r) for r in svc.reviews_of(db, m.id)],
        open_actions=[_action_out(db, a, today) for a in svc.carried_actions(db, m)],
    )


def _review_out(db: DbSession, r: Review, today: date) -> ReviewOut:
    names = svc.staff_names(db, {r.signed_by} | {a.by for a in svc.amendments(db, r.id)})
    return ReviewOut(
        id=r.id,
        meeting_id=r.meeting_id,
        run_id=r.run_id,
        patient_label=_label(db, r.run_id),
        adverse_event_id=r.adverse_event_id,
        status=r.status,
        summary=r.summary,
        voting_open=r.voting_open,
        votes=svc.tally(db, r.id),
        voters=svc.voters(db, r.id),
        cause_class=r.cause_class,
        harm=r.harm,
        preventability=r.preventability,
        lessons=r.lessons,
        problems=[
            ProblemOut(
                id=p.id,
                description=p.description,
                factors=[
                    FactorOut(group=f.factor_group, label=factor_label(f.factor_group), note=f.note)
                    for f in fs
                ],
            )
            for p, fs in svc.problems(db, r.id)
        ],
        actions=[_action_out(db, a, today) for a in svc.actions_of(db, r.id)],
        amendments=[
            AmendmentOut(
                field=a.field,
                value=a.value,
                reason=a.reason,
                by=names.get(a.by) if a.by else None,
                at=a.at,
            )
            for a in svc.amendments(db, r.id)
        ],
        signed_at=r.signed_at,
        signed_by=names.get(r.signed_by) if r.signed_by else None,
        perfusion_present=svc.perfusion_present(db, r.meeting_id),
        version=r.version,
    )


# --- API -------------------------------------------------------------------------------


@api.get("/meetings", response_model=list[MeetingBrief], dependencies=[require(P.REVIEW_CASES)])
def api_meetings(db: DbSession, actor: CurrentActor) -> list[MeetingBrief]:
    """M&M meetings, newest first, with perfusion presence and the number of cases."""
    out = []
    for m in svc.meetings(db, actor):
        chair = svc.staff_names(db, {m.chair_id}).get(m.chair_id) if m.chair_id else None
        out.append(
            MeetingBrief(
                id=m.id,
                held_on=m.held_on,
                title=m.title,
                chair=chair,
                perfusion_present=svc.perfusion_present(db, m.id),
                present=svc.present_count(db, m.id),
                cases=len(svc.reviews_of(db, m.id)),
            )
        )
    return out


@api.post(
    "/meetings", status_code=201, response_model=MeetingOut, dependencies=[require(P.REVIEW_CASES)]
)
def api_create_meeting(
    request: Request, data: MeetingIn, db: DbSession, actor: CurrentActor
) -> MeetingOut:
    m = svc.create_meeting(db, actor, data)
    return _meeting_out(db, m, _today(request))


@api.get(
    "/meetings/{meeting_id}", response_model=MeetingOut, dependencies=[require(P.REVIEW_CASES)]
)
def api_meeting(
    request: Request, meeting_id: int, db: DbSession, actor: CurrentActor
) -> MeetingOut:
    """A meeting: attendance (perfusion present or not), its cases, and on its agenda the
    open actions of earlier meetings."""
    return _meeting_out(db, svc.get_meeting(db, actor, meeting_id), _today(request))


@api.post(
    "/meetings/{meeting_id}/attendance",
    status_code=201,
    response_model=MeetingOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_attendance(
    request: Request, meeting_id: int, data: AttendanceIn, db: DbSession, actor: CurrentActor
) -> MeetingOut:
    m = svc.get_meeting(db, actor, meeting_id)
    svc.add_attendance(db, actor, m, data)
    return _meeting_out(db, m, _today(request))


@api.post(
    "/meetings/{meeting_id}/reviews",
    status_code=201,
    response_model=ReviewOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_add_review(
    request: Request, meeting_id: int, data: ReviewIn, db: DbSession, actor: CurrentActor
) -> ReviewOut:
    r = svc.add_review(db, actor, svc.get_meeting(db, actor, meeting_id), data)
    return _review_out(db, r, _today(request))


@api.get("/reviews/{review_id}", response_model=ReviewOut, dependencies=[require(P.REVIEW_CASES)])
def api_review(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> ReviewOut:
    return _review_out(db, svc.get_review(db, actor, review_id), _today(request))


@api.post(
    "/reviews/{review_id}/problems",
    status_code=201,
    response_model=ReviewOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_problem(
    request: Request, review_id: int, data: ProblemIn, db: DbSession, actor: CurrentActor
) -> ReviewOut:
    r = svc.get_review(db, actor, review_id)
    svc.add_problem(db, actor, r, data)
    return _review_out(db, r, _today(request))


@api.post(
    "/reviews/{review_id}/voting", response_model=ReviewOut, dependencies=[require(P.REVIEW_CASES)]
)
def api_open_voting(
    request: Request, review_id: int, db: DbSession, actor: CurrentActor
) -> ReviewOut:
    r = svc.open_voting(db, actor, svc.get_review(db, actor, review_id))
    return _review_out(db, r, _today(request))


def _review_for_vote(db: DbSession, actor: Actor, review_id: int) -> Review:
    svc.require_attendee(db, actor)
    r = db.get(Review, review_id)
    if r is None:
        from continuum.errors import NotFound

        raise NotFound(f"review {review_id} not found")
    return r


@api.post(
    "/reviews/{review_id}/votes",
    status_code=201,
    response_model=VoteOut,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def api_vote(review_id: int, data: VoteIn, db: DbSession, actor: CurrentActor) -> VoteOut:
    """One anonymous vote on the cause class by an attendee marked present (one each)."""
    n = svc.cast_vote(db, actor, _review_for_vote(db, actor, review_id), data)
    return VoteOut(review_id=review_id, voters=n, recorded=True)


@api.post(
    "/reviews/{review_id}/consensus",
    response_model=ReviewOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_consensus(
    request: Request, review_id: int, data: ConsensusIn, db: DbSession, actor: CurrentActor
) -> ReviewOut:
    r = svc.set_consensus(db, actor, svc.get_review(db, actor, review_id), data)
    return _review_out(db, r, _today(request))


@api.post(
    "/reviews/{review_id}/sign", response_model=ReviewOut, dependencies=[require(P.REVIEW_CASES)]
)
def api_sign(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> ReviewOut:
    """Sign: refused without attendance and without a cause class."""
    r = svc.sign(db, actor, svc.get_review(db, actor, review_id))
    return _review_out(db, r, _today(request))


@api.post(
    "/reviews/{review_id}/amendments",
    status_code=201,
    response_model=ReviewOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_amend(
    request: Request, review_id: int, data: AmendIn, db: DbSession, actor: CurrentActor
) -> ReviewOut:
    r = svc.get_review(db, actor, review_id)
    svc.amend(db, actor, r, data)
    return _review_out(db, r, _today(request))


@api.post(
    "/reviews/{review_id}/actions",
    status_code=201,
    response_model=ActionOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_add_action(
    request: Request, review_id: int, data: ActionIn, db: DbSession, actor: CurrentActor
) -> ActionOut:
    a = svc.add_action(db, actor, svc.get_review(db, actor, review_id), data)
    return _action_out(db, a, _today(request))


@api.get("/actions", response_model=list[ActionOut], dependencies=[require(P.REVIEW_CASES)])
def api_actions(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    run_id: int | None = Query(None, ge=1, le=2**31 - 1, description="only this run's"),
) -> list[ActionOut]:
    """Open actions, overdue first (of every run, or of one run)."""
    today = _today(request)
    return [_action_out(db, a, today) for a in svc.open_actions(db, actor, today, run_id)]


@api.post(
    "/actions/{action_id}/status", response_model=ActionOut, dependencies=[require(P.REVIEW_CASES)]
)
def api_action_status(
    request: Request, action_id: int, data: ActionStatusIn, db: DbSession, actor: CurrentActor
) -> ActionOut:
    a = svc.set_action_status(db, actor, svc.get_action(db, actor, action_id), data)
    return _action_out(db, a, _today(request))


@api.post(
    "/actions/{action_id}/measurements",
    status_code=201,
    response_model=ActionOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_measurement(
    request: Request, action_id: int, data: MeasurementIn, db: DbSession, actor: CurrentActor
) -> ActionOut:
    a = svc.get_action(db, actor, action_id)
    svc.add_measurement(db, actor, a, data)
    return _action_out(db, a, _today(request))


# --- pages -----------------------------------------------------------------------------


def _staff(db: DbSession) -> list[Staff]:
    stmt = select(Staff).where(Staff.active.is_(True), Staff.role != "integration")
    return list(db.scalars(stmt.order_by(Staff.name)))


def _blank(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in names and v not in ("", None)}


@pages.get("/quality/reviews", dependencies=[require(P.REVIEW_CASES)])
def meetings_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _meetings_page(request, db, actor)


def _meetings_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    rows = [
        (m, svc.perfusion_present(db, m.id), svc.present_count(db, m.id), svc.reviews_of(db, m.id))
        for m in svc.meetings(db, actor)
    ]
    today = _today(request)
    return render(
        request,
        "review_meetings.html",
        actor,
        status_code=422 if error else 200,
        rows=rows,
        staff=_staff(db),
        error=error,
        values=values or {},
        open_count=len(svc.open_actions(db, actor, today)),
        today=today,
    )


@pages.post("/quality/reviews", dependencies=[require(P.REVIEW_CASES)])
def create_meeting_form(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    m, problem = attempt(
        db,
        lambda: svc.create_meeting(
            db, actor, parse_form(MeetingIn, _blank(values, "held_on", "title", "chair_id"))
        ),
    )
    if problem or m is None:
        return _meetings_page(request, db, actor, problem, values)
    return redirect(f"/quality/reviews/meetings/{m.id}")


def _runs(db: DbSession) -> list[tuple[Run, str]]:
    stmt = select(Run).where(not_training()).order_by(Run.started_at.desc()).limit(300)
    runs = db.scalars(stmt).all()
    return [(r, r.patient.label) for r in runs]


def _meeting_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    meeting_id: int,
    error: ContinuumError | None = None,
    error_form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    m = svc.get_meeting(db, actor, meeting_id)
    today = _today(request)
    out = _meeting_out(db, m, today)
    listed = adverse_events.list_events(db, actor)[:300]
    return render(
        request,
        "review_meeting.html",
        actor,
        status_code=422 if error else 200,
        meeting=out,
        staff=_staff(db),
        disciplines=DISCIPLINES,
        runs=_runs(db),
        events=[
            (x.event, BY_CODE[x.force.values["code"]].label, x.force.values["occurred_at"])
            for x in listed
        ],
        error=error,
        error_form=error_form,
        values=values or {},
    )


@pages.get("/quality/reviews/meetings/{meeting_id}", dependencies=[require(P.REVIEW_CASES)])
def meeting_page(request: Request, meeting_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _meeting_page(request, db, actor, meeting_id)


@pages.post(
    "/quality/reviews/meetings/{meeting_id}/attendance", dependencies=[require(P.REVIEW_CASES)]
)
def attendance_form(
    request: Request, meeting_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = posted_values(request)
    m = svc.get_meeting(db, actor, meeting_id)
    data = _blank(values, "staff_id", "guest_name", "discipline")
    data["present"] = values.get("present", "") in ("on", "true", "1", "yes")
    if data.get("staff_id") and "discipline" not in data:
        s = db.get(Staff, int(data["staff_id"])) if str(data["staff_id"]).isdigit() else None
        if s is not None:
            data["discipline"] = s.discipline
    data.setdefault("discipline", "")
    _, problem = attempt(
        db, lambda: svc.add_attendance(db, actor, m, parse_form(AttendanceIn, data))
    )
    if problem:
        return _meeting_page(request, db, actor, meeting_id, problem, "attendance", values)
    return redirect(f"/quality/reviews/meetings/{meeting_id}#attendance")


@pages.post("/quality/reviews/meetings/{meeting_id}/cases", dependencies=[require(P.REVIEW_CASES)])
def add_case_form(
    request: Request, meeting_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = posted_values(request)
    m = svc.get_meeting(db, actor, meeting_id)
    data = _blank(values, "run_id", "adverse_event_id", "summary")
    if data.get("adverse_event_id") and "run_id" not in data:
        ev = db.get(AdverseEvent, int(data["adverse_event_id"]))
        if ev is not None:
            data["run_id"] = ev.run_id
    r, problem = attempt(db, lambda: svc.add_review(db, actor, m, parse_form(ReviewIn, data)))
    if problem or r is None:
        return _meeting_page(request, db, actor, meeting_id, problem, "case", values)
    return redirect(f"/quality/reviews/cases/{r.id}")


def _review_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    review_id: int,
    error: ContinuumError | None = None,
    error_form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    r = svc.get_review(db, actor, review_id)
    today = _today(request)
    out = _review_out(db, r, today)
    zone = request.app.state.settings.zone
    charts = {
        a.id: pdsa_chart(db.get_one(ReviewAction, a.id), svc.measurements(db, a.id), zone)
        for a in svc.actions_of(db, r.id)
    }
    meeting = db.get_one(ReviewMeeting, r.meeting_id)
    event = db.get(AdverseEvent, r.adverse_event_id) if r.adverse_event_id else None
    force = adverse_events.in_force(event) if event else None
    event_now = force.values if force else None
    held = adverse_events.review_dates(db, {c.review_id for c in force.history} if force else ())
    return render(
        request,
        "review_case.html",
        actor,
        status_code=422 if error else 200,
        review=out,
        meeting=meeting,
        staff=_staff(db),
        charts=charts,
        london=LONDON_PROTOCOL_GROUPS,
        ecmo=ECMO_GROUPS,
        factor_labels=FACTOR_GROUP_LABELS,
        causes=CAUSE_CLASS_LABELS,
        harms=HARM_LABELS,
        preventabilities=PREVENTABILITY_LABELS,
        event=event,
        event_now=event_now,
        event_label=BY_CODE[event_now["code"]].label if event_now else None,
        history=force.history if force else [],
        held=held,
        in_force=svc.in_force(db, r),
        attendee=_is_attendee(db, actor, r),
        error=error,
        error_form=error_form,
        values=values or {},
        discipline_labels=DISCIPLINE_LABELS,
    )


def _is_attendee(db: DbSession, actor: Actor, r: Review) -> bool:
    return actor.staff_id is not None and any(
        a.staff_id == actor.staff_id and a.present for a in svc.attendance(db, r.meeting_id)
    )


@pages.get("/quality/reviews/cases/{review_id}", dependencies=[require(P.REVIEW_CASES)])
def review_page(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _review_page(request, db, actor, review_id)


def _review_post(
    request: Request,
    review_id: int,
    db: DbSession,
    actor: Actor,
    form: str,
    action: Any,
    anchor: str,
) -> Response:
    values = posted_values(request)
    _, problem = attempt(db, lambda: action(values))
    if problem:
        return _review_page(request, db, actor, review_id, problem, form, values)
    return redirect(f"/quality/reviews/cases/{review_id}#{anchor}")


@pages.post("/quality/reviews/cases/{review_id}/problems", dependencies=[require(P.REVIEW_CASES)])
def problem_form(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    factors = form_list(request, "factors")

    def act(values: dict[str, Any]) -> object:
        data = _blank(values, "description", "factor_note")
        data["factors"] = factors
        data.setdefault("description", "")
        return svc.add_problem(
            db, actor, svc.get_review(db, actor, review_id), parse_form(ProblemIn, data)
        )

    return _review_post(request, review_id, db, actor, "problem", act, "problems")


def form_list(request: Request, name: str) -> list[str]:
    from continuum.web.deps import form_of

    form = form_of(request)
    getter = getattr(form, "getlist", None)
    if getter is not None:
        return [str(v) for v in getter(name)]
    value = form.get(name)
    return [str(value)] if value else []


@pages.post("/quality/reviews/cases/{review_id}/voting", dependencies=[require(P.REVIEW_CASES)])
def voting_form(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _review_post(
        request,
        review_id,
        db,
        actor,
        "voting",
        lambda v: svc.open_voting(db, actor, svc.get_review(db, actor, review_id)),
        "voting",
    )


@pages.get("/quality/reviews/cases/{review_id}/vote", dependencies=[require(P.VIEW_CLINICAL)])
def vote_page(
    request: Request, review_id: int, db: DbSession, actor: CurrentActor, voted: bool = False
) -> Response:
    return _vote_page(request, review_id, db, actor, None, voted)


def _vote_page(
    request: Request,
    review_id: int,
    db: DbSession,
    actor: Actor,
    error: ContinuumError | None = None,
    voted: bool = False,
) -> Response:
    """The ballot an attendee sees (no case details: they are presented in the meeting)."""
    r = _review_for_vote(db, actor, review_id)
    return render(
        request,
        "review_vote.html",
        actor,
        status_code=422 if error else 200,
        review=r,
        causes=CAUSE_CLASS_LABELS,
        voters=svc.voters(db, r.id),
        error=error,
        voted=voted,
        label=_label(db, r.run_id),
    )


@pages.post("/quality/reviews/cases/{review_id}/vote", dependencies=[require(P.VIEW_CLINICAL)])
def vote_form(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    r = _review_for_vote(db, actor, review_id)
    data = {"cause_class": values.get("cause_class") or ""}
    _, problem = attempt(db, lambda: svc.cast_vote(db, actor, r, parse_form(VoteIn, data)))
    if problem:
        return _vote_page(request, review_id, db, actor, problem)
    if actor.can(P.REVIEW_CASES):
        return redirect(f"/quality/reviews/cases/{review_id}#voting")
    return redirect(f"/quality/reviews/cases/{review_id}/vote?voted=true")


@pages.post("/quality/reviews/cases/{review_id}/consensus", dependencies=[require(P.REVIEW_CASES)])
def consensus_form(
    request: Request, review_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    def act(values: dict[str, Any]) -> object:
        data = _blank(values, "cause_class", "harm", "preventability", "lessons", "summary")
        return svc.set_consensus(
            db, actor, svc.get_review(db, actor, review_id), parse_form(ConsensusIn, data)
        )

    return _review_post(request, review_id, db, actor, "consensus", act, "consensus")


@pages.post("/quality/reviews/cases/{review_id}/sign", dependencies=[require(P.REVIEW_CASES)])
def sign_form(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _review_post(
        request,
        review_id,
        db,
        actor,
        "sign",
        lambda v: svc.sign(db, actor, svc.get_review(db, actor, review_id)),
        "sign",
    )


@pages.post("/quality/reviews/cases/{review_id}/amend", dependencies=[require(P.REVIEW_CASES)])
def amend_form(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    def act(values: dict[str, Any]) -> object:
        data = _blank(values, "field", "value", "reason")
        data.setdefault("field", "")
        data.setdefault("reason", "")
        return svc.amend(db, actor, svc.get_review(db, actor, review_id), parse_form(AmendIn, data))

    return _review_post(request, review_id, db, actor, "amend", act, "amendments")


@pages.post("/quality/reviews/cases/{review_id}/actions", dependencies=[require(P.REVIEW_CASES)])
def action_form(request: Request, review_id: int, db: DbSession, actor: CurrentActor) -> Response:
    def act(values: dict[str, Any]) -> object:
        data = _blank(
            values, "text", "owner_id", "due_on", "pdsa_plan", "measure_name", "measure_unit"
        )
        for k in ("text", "owner_id", "due_on"):
            data.setdefault(k, "")
        return svc.add_action(
            db, actor, svc.get_review(db, actor, review_id), parse_form(ActionIn, data)
        )

    return _review_post(request, review_id, db, actor, "action", act, "actions")


def _back(values: dict[str, Any], action: ReviewAction) -> str:
    nxt = str(values.get("next") or "")
    if nxt == "actions":
        return f"/quality/actions#action-{action.id}"
    return f"/quality/reviews/cases/{action.review_id}#action-{action.id}"


@pages.post("/quality/actions/{action_id}/status", dependencies=[require(P.REVIEW_CASES)])
def action_status_form(
    request: Request, action_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = posted_values(request)
    a = svc.get_action(db, actor, action_id)
    data = _blank(values, "status", "note")
    data.setdefault("status", "")
    _, problem = attempt(
        db, lambda: svc.set_action_status(db, actor, a, parse_form(ActionStatusIn, data))
    )
    if problem:
        return _review_page(request, db, actor, a.review_id, problem, f"status-{a.id}", values)
    return redirect(_back(values, a))


@pages.post("/quality/actions/{action_id}/measurements", dependencies=[require(P.REVIEW_CASES)])
def measurement_form(
    request: Request, action_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = posted_values(request)
    a = svc.get_action(db, actor, action_id)
    data = _blank(values, "measured_on", "value", "note")
    data.setdefault("measured_on", "")
    data.setdefault("value", "")
    _, problem = attempt(
        db, lambda: svc.add_measurement(db, actor, a, parse_form(MeasurementIn, data))
    )
    if problem:
        return _review_page(request, db, actor, a.review_id, problem, f"measure-{a.id}", values)
    return redirect(_back(values, a))


@pages.get("/quality/actions", dependencies=[require(P.REVIEW_CASES)])
def actions_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    run_id: int | None = Query(None, ge=1, le=2**31 - 1),
) -> Response:
    """The coordinator's list: every open action, overdue first (or one run's)."""
    today = _today(request)
    rows = [_action_out(db, a, today) for a in svc.open_actions(db, actor, today, run_id)]
    return render(request, "review_actions.html", actor, rows=rows, today=today, run_id=run_id)


# --- case packet -----------------------------------------------------------------------


def _packet(
    request: Request,
    db: DbSession,
    actor: Actor,
    run_id: int,
    deidentified: bool,
    event: int | None,
) -> case_packet.Packet:
    zone = request.app.state.settings.zone
    return case_packet.build_packet(db, actor, run_id, zone, deidentified, event)


@pages.get("/quality/runs/{run_id}/packet", dependencies=[require(P.VIEW_CLINICAL)])
def packet_page(
    request: Request,
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    deidentified: bool = Query(False),
    event: int | None = Query(None),
) -> Response:
    """The case packet: identified for case reviewers and clinical roles that see
    identifiers; de-identified (``?deidentified=1``) for case reviewers."""
    p = _packet(request, db, actor, run_id, deidentified, event)
    return render(
        request,
        "packet_run.html",
        actor,
        packet=p,
        sbar=case_packet.summary_lines(p),
        can_review=actor.can(P.REVIEW_CASES),
        event=event,
    )


@pages.get("/quality/runs/{run_id}/packet.pdf", dependencies=[require(P.VIEW_CLINICAL)])
def packet_pdf(
    request: Request,
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    deidentified: bool = Query(False),
    event: int | None = Query(None),
) -> Response:
    from continuum.quality.case_packet_pdf import render_pdf  # reportlab: only when asked

    p = _packet(request, db, actor, run_id, deidentified, event)
    name = f"case-packet-run-{run_id}{'-deidentified' if deidentified else ''}.pdf"
    return Response(
        render_pdf(p),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )

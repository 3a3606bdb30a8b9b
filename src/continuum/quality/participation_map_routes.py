"""The participation map: the page (/quality/participation), the records behind each step
(/quality/participation/steps/{step}), the monthly trend as CSV, SVG and PNG, and the JSON
twins under /api/v1/quality/participation.

Who sees what (docs/participation-map.md): every role with VIEW_QUALITY sees the map, its
counts and comparisons (aggregates, no run named). The records behind a step and today's
missing voices name runs: only roles that also hold VIEW_IDENTIFIERS (not the researcher).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.core.vocab import DISCIPLINE_LABELS, DISCIPLINES
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.quality import participation_map as pmap
from continuum.quality import participation_map_calc as calc
from continuum.quality import participation_map_chart as chart
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.pages import add_template_dir, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["quality"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")

DEFAULT_DAYS = 365
# The records of a step with the discipline listed after all those without, up to this many
# (the rest are counted: the JSON twin lists them all).
LISTED_WITH = 100
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2200, 12, 31)
StepKey = Literal[
    "candidacy", "configuration", "cannulation", "rounds", "alerts", "weaning",
    "decannulation", "transport", "review", "research",
]  # fmt: skip
assert tuple(StepKey.__args__) == calc.STEP_KEYS  # type: ignore[attr-defined]


# --- the filter ---------------------------------------------------------------------------


def _day(raw: str | None, name: str, default: date) -> date:
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed([FieldProblem(name, "a date as YYYY-MM-DD", raw)]) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(
            [FieldProblem(name, f"a day from {FIRST_DAY} to {LAST_DAY}", raw)]
        ) from None
    return day


def parse_filter(params: dict[str, str], zone: ZoneInfo) -> tuple[pmap.MapFilter, dict[str, str]]:
    """Query parameters → filter (local days, the end day included) and the form echo."""
    today = utcnow().astimezone(zone).date()
    problems: list[FieldProblem] = []
    start_day = end_day = today
    try:
        start_day = _day(params.get("start"), "start", today - timedelta(days=DEFAULT_DAYS))
    except ValidationFailed as e:
        problems += e.problems
    try:
        end_day = _day(params.get("end"), "end", today)
    except ValidationFailed as e:
        problems += e.problems
    discipline = params.get("discipline") or pmap.PERFUSION
    if discipline not in DISCIPLINES:
        problems.append(
            FieldProblem(
                "discipline",
                f"'{discipline}' is not a discipline; one of {', '.join(DISCIPLINES)}",
                discipline,
            )
        )
    if not problems and end_day < start_day:
        problems.append(
            FieldProblem(
                "end",
                f"the period ends ({end_day.isoformat()}) before it starts "
                f"({start_day.isoformat()}); give an end on or after the start",
                end_day.isoformat(),
            )
        )
    if not problems and (end_day - start_day).days > 366 * 5:
        problems.append(FieldProblem("start", "a period of at most 5 years", start_day.isoformat()))
    if problems:
        raise ValidationFailed(problems)
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone)
    after = end_day + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=zone)
    form = {"start": start_day.isoformat(), "end": end_day.isoformat(), "discipline": discipline}
    return pmap.check_filter(pmap.MapFilter(start, end, discipline)), form


def _params(**given: str | None) -> dict[str, str]:
    return {k: v or "" for k, v in given.items()}


def _query(form: dict[str, str]) -> str:
    return urlencode({k: v for k, v in form.items() if v})


def _compute(
    request: Request, db: DbSession, actor: Actor, params: dict[str, str]
) -> tuple[pmap.ParticipationMap, dict[str, str]]:
    zone = request.app.state.settings.zone
    f, form = parse_filter(params, zone)
    return pmap.compute(db, actor, f, zone), form


# --- response shapes ------------------------------------------------------------------------


class ShareOut(Out):
    k: int
    n: int
    share: float | None  # 0–1
    ci_low: float | None
    ci_high: float | None


class StepOut(Out):
    key: StepKey
    label: str
    counts: str
    recorded: bool
    discipline: ShareOut
    perfusion: ShareOut
    perfusion_required: bool
    meets_target: bool | None
    policy_source: str


class ArmOut(Out):
    label: str
    n: int
    n_label: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    unit: str
    text: str


class ComparisonOut(Out):
    key: str
    step: StepKey
    title: str
    caveat: str
    note: str
    arms: list[ArmOut]


class TrendOut(Out):
    month: str
    step: StepKey
    k: int
    n: int
    share: float | None
    ci_low: float | None
    ci_high: float | None


class MapOut(Out):
    start: UtcTime
    end: UtcTime
    discipline: str
    computed_at: UtcTime
    target_share_pct: float
    steps: list[StepOut]
    comparisons: list[ComparisonOut]
    trend: list[TrendOut]


class RecordOut(Out):
    kind: str
    record_id: int
    run_id: int | None
    at: UtcTime
    title: str
    href: str | None
    with_discipline: bool
    how: list[str]
    disciplines: list[str]


class StepRecordsOut(Out):
    step: StepOut
    records: list[RecordOut]


class MissingVoiceOut(Out):
    step: StepKey
    what: str
    run_id: int | None
    href: str
    since: UtcTime | None


def _share(p: Any) -> ShareOut:
    return ShareOut(k=p.k, n=p.n, share=p.value, ci_low=p.low, ci_high=p.high)


def _step_out(m: pmap.ParticipationMap, key: str) -> StepOut:
    s = m.share(key)
    perf = next(p for p in m.perfusion_shares if p.step.key == key)
    required = m.policy.required[key]
    return StepOut(
        key=key,  # type: ignore[arg-type]
        label=s.step.label,
        counts=s.step.records,
        recorded=s.recorded,
        discipline=_share(s.share),
        perfusion=_share(perf.share),
        perfusion_required=required,
        meets_target=calc.meets(perf.share, m.policy.target_share_pct) if required else None,
        policy_source=m.policy.sources[key],
    )


def _map_out(m: pmap.ParticipationMap) -> MapOut:
    return MapOut(
        start=m.filter.start,
        end=m.filter.end,
        discipline=m.filter.discipline,
        computed_at=m.computed_at,
        target_share_pct=m.policy.target_share_pct,
        steps=[_step_out(m, s.key) for s in calc.STEPS],
        comparisons=[
            ComparisonOut(
                key=c.key,
                step=c.step,  # type: ignore[arg-type]
                title=c.title,
                caveat=c.caveat,
                note=c.note,
                arms=[
                    ArmOut(
                        label=a.label,
                        n=a.n,
                        n_label=a.n_label,
                        value=a.value,
                        ci_low=a.low,
                        ci_high=a.high,
                        unit=a.unit,
                        text=a.text,
                    )
                    for a in c.arms
                ],
            )
            for c in m.comparisons
        ],
        trend=[
            TrendOut(
                month=t.month,
                step=t.step,  # type: ignore[arg-type]
                k=t.share.k,
                n=t.share.n,
                share=t.share.value,
                ci_low=t.share.low,
                ci_high=t.share.high,
            )
            for t in m.trend
        ],
    )


# --- JSON -----------------------------------------------------------------------------------


@api.get("/quality/participation", response_model=MapOut, dependencies=[require(P.VIEW_QUALITY)])
def map_api(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    start: str | None = None,
    end: str | None = None,
    discipline: str | None = None,
) -> MapOut:
    """Per step of the care pathway, the share of its records in the period (local days,
    end included) in which the discipline (default perfusion) was present, consulted or
    signed: k of n with the 95 % Wilson interval; the policy's target; the comparisons
    (association, not causation) and the monthly trend. Aggregates only: no run is named."""
    m, _ = _compute(request, db, actor, _params(start=start, end=end, discipline=discipline))
    return _map_out(m)


@api.get(
    "/quality/participation/steps/{step}",
    response_model=StepRecordsOut,
    dependencies=[require(P.VIEW_QUALITY), require(P.VIEW_IDENTIFIERS)],
)
def step_api(
    request: Request,
    step: str,
    db: DbSession,
    actor: CurrentActor,
    start: str | None = None,
    end: str | None = None,
    discipline: str | None = None,
) -> StepRecordsOut:
    """The records of one step, those without the discipline first (roles that may read
    identifiers only)."""
    m, _ = _compute(request, db, actor, _params(start=start, end=end, discipline=discipline))
    rows = pmap.drill_down(m, actor, step)
    return StepRecordsOut(step=_step_out(m, step), records=[_record_out(m, r) for r in rows])


def _record_out(m: pmap.ParticipationMap, r: calc.StepRecord) -> RecordOut:
    d = m.filter.discipline
    return RecordOut(
        kind=r.kind,
        record_id=r.record_id,
        run_id=r.run_id,
        at=r.at,
        title=r.title,
        href=r.href,
        with_discipline=r.has(d),
        how=r.how(d),
        disciplines=sorted(r.disciplines()),
    )


@api.get(
    "/quality/participation/missing-voices",
    response_model=list[MissingVoiceOut],
    dependencies=[require(P.VIEW_QUALITY), require(P.VIEW_IDENTIFIERS)],
)
def missing_api(request: Request, db: DbSession, actor: CurrentActor) -> list[MissingVoiceOut]:
    """Today's decisions, rounds, trials and decannulations that the policy says need
    perfusion input and have none yet."""
    zone = request.app.state.settings.zone
    return [
        MissingVoiceOut(step=v.step, what=v.what, run_id=v.run_id, href=v.href, since=v.since)  # type: ignore[arg-type]
        for v in pmap.missing_voices(db, actor, zone)
    ]


# --- exports --------------------------------------------------------------------------------


def _trend_title(m: pmap.ParticipationMap) -> str:
    label = DISCIPLINE_LABELS.get(m.filter.discipline, m.filter.discipline)
    return f"{label} involvement by step and month (k/n records)"


@pages.get("/quality/participation/trend.csv", dependencies=[require(P.VIEW_QUALITY)])
def trend_csv(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    m, form = _compute(request, db, actor, dict(request.query_params))
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        ["month", "step", "step_label", "discipline", "k", "n", "share", "ci_low", "ci_high"]
    )
    for t in m.trend:
        p = t.share
        w.writerow(
            [
                t.month, t.step, calc.BY_KEY[t.step].label, m.filter.discipline, p.k, p.n,
                "" if p.value is None else f"{p.value:.4f}",
                "" if p.low is None else f"{p.low:.4f}",
                "" if p.high is None else f"{p.high:.4f}",
            ]
        )  # fmt: skip
    name = f"participation-{form['discipline']}-{form['start']}-{form['end']}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@pages.get("/quality/participation/trend.svg", dependencies=[require(P.VIEW_QUALITY)])
def trend_svg(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    m, form = _compute(request, db, actor, dict(request.query_params))
    svg = chart.trend_grid(m.trend, m.months, _trend_title(m))
    name = f"participation-{form['discipline']}-{form['start']}-{form['end']}.svg"
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@pages.get("/quality/participation/trend.png", dependencies=[require(P.VIEW_QUALITY)])
def trend_png(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    m, form = _compute(request, db, actor, dict(request.query_params))
    png = chart.trend_png(m.trend, m.months, _trend_title(m))
    name = f"participation-{form['discipline']}-{form['start']}-{form['end']}.png"
    return Response(
        png,
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- pages ----------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    return {"disciplines": [(d, DISCIPLINE_LABELS[d]) for d in DISCIPLINES]}


@pages.get("/quality/participation", dependencies=[require(P.VIEW_QUALITY)])
def map_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    params = dict(request.query_params)
    try:
        m, form = _compute(request, db, actor, params)
    except ValidationFailed as e:
        return render(
            request, "participation_map.html", actor, status_code=422, error=e, form=params,
            error_lead="The map was not drawn.",
            m=None, query="", **_choices(),
        )  # fmt: skip
    named = actor.can(P.VIEW_IDENTIFIERS)
    query = _query(form)
    label = DISCIPLINE_LABELS[m.filter.discipline]

    def link(step: str) -> str:
        return f"/quality/participation/steps/{step}?{query}"

    tags = {k: f"[{_tag(v)}]" for k, v in m.policy.sources.items()}
    kinds = calc.kind_counts(m.records, m.filter.discipline)
    voices = pmap.missing_voices(db, actor, request.app.state.settings.zone) if named else []
    return render(
        request,
        "participation_map.html",
        actor,
        m=m,
        form=form,
        query=query,
        named=named,
        label=label,
        current_svg=chart.current_panel(
            m.shares, label, m.policy.min_n_for_percent, link if named else None,
            pmap.NOT_RECORDED_NOTE, kinds,
        ),
        target_svg=chart.target_panel(
            m.perfusion_shares, m.policy.required, m.policy.target_share_pct, tags
        ),
        trend_svg=chart.trend_grid(m.trend, m.months, _trend_title(m)),
        reads=calc.reads,
        not_recorded=pmap.NOT_RECORDED_NOTE,
        kinds=kinds,
        voices=voices,
        step_labels={s.key: s.label for s in calc.STEPS},
        period_end=m.filter.end - timedelta(days=1),
        **_choices(),
    )  # fmt: skip


def _tag(source: str) -> str:
    from continuum.core.settings_service import provenance_of

    return provenance_of(source)


@pages.get(
    "/quality/participation/steps/{step}",
    dependencies=[require(P.VIEW_QUALITY), require(P.VIEW_IDENTIFIERS)],
)
def step_page(request: Request, step: str, db: DbSession, actor: CurrentActor) -> Response:
    params = dict(request.query_params)
    try:
        m, form = _compute(request, db, actor, params)
        rows = pmap.drill_down(m, actor, step)
    except ValidationFailed as e:
        return render(
            request, "participation_map.html", actor, status_code=422, error=e, form=params,
            error_lead="The map was not drawn.",
            m=None, query="", **_choices(),
        )  # fmt: skip
    share = m.share(step)
    without = [r for r in rows if not r.has(m.filter.discipline)]
    with_ = [r for r in rows if r.has(m.filter.discipline)]
    return render(
        request,
        "participation_step.html",
        actor,
        m=m,
        share=share,
        rows=without + with_[:LISTED_WITH],
        hidden=max(0, len(with_) - LISTED_WITH),
        total=len(rows),
        kinds=calc.kind_counts(m.records, m.filter.discipline).get(step, []),
        form=form,
        query=_query(form),
        label=DISCIPLINE_LABELS[m.filter.discipline],
        reads=calc.reads,
        not_recorded=pmap.NOT_RECORDED_NOTE.get(step),
        period_end=m.filter.end - timedelta(days=1),
        comparisons=[c for c in m.comparisons if c.step == step],
    )

"""Programme metrics: the page (/quality/metrics), its drill-down to the runs behind each
figure (/quality/metrics/{metric}) and the JSON twin (/api/v1/quality/metrics).

Who sees what (docs/quality-metrics.md): every role with VIEW_QUALITY sees the figures.
The drill-down names runs (run number, link to the run, start time) only to roles holding
both VIEW_CLINICAL and VIEW_IDENTIFIERS; others (the researcher) see each run's
pseudonymous patient label, its month of start and its value, nothing that identifies.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.core.vocab import MODES, SUPPORT_TYPES
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.quality import metrics, metrics_chart
from continuum.quality.metrics_calc import AGE_GROUPS
from continuum.quality.taxonomy import CATEGORY_LABELS
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["quality"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Quality", "/quality/metrics", P.VIEW_QUALITY, 60))

DEFAULT_DAYS = 183


# --- response shapes --------------------------------------------------------------------


class FigureOut(Out):
    key: str
    label: str
    value: float | None
    unit: str
    n: int
    n_label: str
    ci_low: float | None
    ci_high: float | None
    q1: float | None
    q3: float | None
    note: str
    recorded: bool
    group: str


class BreakdownOut(Out):
    key: str
    label: str
    events: int
    rate_per_1000_h: float | None
    ci_low: float | None
    ci_high: float | None


class SurvivalPointOut(Out):
    hours: float
    survival: float
    ci_low: float
    ci_high: float


class KaplanMeierOut(Out):
    n: int
    changed: int
    censored: int
    median_hours: float | None
    points: list[SurvivalPointOut]


class MetricsOut(Out):
    start: UtcTime
    end: UtcTime
    support_type: str | None
    mode: str | None
    age_group: str | None
    computed_at: UtcTime
    figures: list[FigureOut]
    complications: list[BreakdownOut]
    change_reasons: list[BreakdownOut]
    membrane_lung_life: KaplanMeierOut


def _figure_out(f: metrics.Figure) -> FigureOut:
    return FigureOut(
        key=f.key,
        label=f.label,
        value=f.value,
        unit=f.unit,
        n=f.n,
        n_label=f.n_label,
        ci_low=f.low,
        ci_high=f.high,
        q1=f.q1,
        q3=f.q3,
        note=f.note,
        recorded=f.recorded,
        group=f.group,
    )


def _breakdown_out(b: metrics.Breakdown) -> BreakdownOut:
    return BreakdownOut(
        key=b.key,
        label=b.label,
        events=b.events,
        rate_per_1000_h=b.rate,
        ci_low=b.low,
        ci_high=b.high,
    )


# --- the filter -------------------------------------------------------------------------


def _date(raw: str | None, name: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed([FieldProblem(name, "a date as YYYY-MM-DD", raw)]) from None


def _choice(raw: str | None) -> str | None:
    return raw or None


def parse_filter(
    params: dict[str, str], zone: ZoneInfo
) -> tuple[metrics.MetricsFilter, dict[str, Any]]:
    """Query parameters → filter (dates are local days, the end day included)."""
    today = utcnow().astimezone(zone).date()
    problems: list[FieldProblem] = []
    start_day = end_day = today
    try:
        start_day = _date(params.get("start"), "start", today - timedelta(days=DEFAULT_DAYS))
    except ValidationFailed as e:
        problems += e.problems
    try:
        end_day = _date(params.get("end"), "end", today)
    except ValidationFailed as e:
        problems += e.problems
    if problems:
        raise ValidationFailed(problems)
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone)
    end_next = end_day + timedelta(days=1)
    end = datetime(end_next.year, end_next.month, end_next.day, tzinfo=zone)
    if end_day < start_day:
        raise ValidationFailed(
            [
                FieldProblem(
                    "end",
                    f"the period ends ({end_day.isoformat()}) before it starts "
                    f"({start_day.isoformat()}); give an end on or after the start",
                    end_day.isoformat(),
                )
            ]
        )
    f = metrics.check_filter(
        metrics.MetricsFilter(
            start,
            end,
            _choice(params.get("support_type")),
            _choice(params.get("mode")),
            _choice(params.get("age_group")),
        )
    )
    form = {
        "start": start_day.isoformat(),
        "end": end_day.isoformat(),
        "support_type": f.support_type or "",
        "mode": f.mode or "",
        "age_group": f.age_group or "",
    }
    return f, form


def _query(form: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in form.items() if v})


# --- JSON -------------------------------------------------------------------------------


@api.get(
    "/quality/metrics",
    response_model=MetricsOut,
    dependencies=[require(P.VIEW_QUALITY)],
)
def metrics_api(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    start: str | None = None,
    end: str | None = None,
    support_type: str | None = None,
    mode: str | None = None,
    age_group: str | None = None,
) -> MetricsOut:
    """Programme figures for a period (local days, end included), by support type, mode at
    cannulation and age group: counts (n), 95 % intervals (exact Poisson for rates per
    1,000 ECMO hours, Wilson for proportions), medians with IQR, and membrane-lung life
    (Kaplan–Meier, censored at decannulation). Aggregates only: no run or patient is named."""
    params = {
        "start": start or "",
        "end": end or "",
        "support_type": support_type or "",
        "mode": mode or "",
        "age_group": age_group or "",
    }
    f, _ = parse_filter(params, request.app.state.settings.zone)
    m = metrics.compute(db, actor, f)
    return MetricsOut(
        start=f.start,
        end=f.end,
        support_type=f.support_type,
        mode=f.mode,
        age_group=f.age_group,
        computed_at=m.computed_at,
        figures=[_figure_out(x) for x in m.figures],
        complications=[_breakdown_out(b) for b in m.complications],
        change_reasons=[_breakdown_out(b) for b in m.change_reasons],
        membrane_lung_life=KaplanMeierOut(
            n=m.ml_life.n,
            changed=m.ml_life.events,
            censored=m.ml_life.censored,
            median_hours=m.ml_life.median,
            points=[
                SurvivalPointOut(hours=p.t, survival=p.survival, ci_low=p.low, ci_high=p.high)
                for p in m.ml_life.points
            ],
        ),
    )


# --- pages ------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    return {
        "support_types": [(s, metrics.SUPPORT_LABELS[s]) for s in SUPPORT_TYPES],
        "modes": list(MODES),
        "age_groups": [(a, metrics.AGE_LABELS[a]) for a in AGE_GROUPS],
    }


def _refused(
    request: Request, actor: Actor, error: ValidationFailed, params: dict[str, str]
) -> Response:
    return render(
        request,
        "metrics_page.html",
        actor,
        status_code=422,
        error=error,
        form=params,
        m=None,
        query="",
        **_choices(),
    )


@pages.get("/quality/metrics", dependencies=[require(P.VIEW_QUALITY)])
def metrics_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    params = dict(request.query_params)
    try:
        f, form = parse_filter(params, request.app.state.settings.zone)
        m = metrics.compute(db, actor, f)
    except ValidationFailed as e:
        return _refused(request, actor, e, params)
    bars = metrics_chart.rate_bars(
        [(b.label, b.events, b.rate, b.low, b.high) for b in m.complications],
        title="Complications per 1,000 ECMO hours by category",
    )
    km = metrics_chart.km_curve(m.ml_life)
    groups: dict[str, list[metrics.Figure]] = {}
    for fig in m.figures:
        groups.setdefault(fig.group, []).append(fig)
    return render(
        request,
        "metrics_page.html",
        actor,
        m=m,
        form=form,
        query=_query(form),
        groups=groups,
        bars_svg=bars,
        km_svg=km,
        described=metrics.describe_filter(f),
        period_end=(f.end - timedelta(days=1)),
        categories=CATEGORY_LABELS,
        **_choices(),
    )


@pages.get("/quality/metrics/{metric}", dependencies=[require(P.VIEW_QUALITY)])
def drill_page(request: Request, metric: str, db: DbSession, actor: CurrentActor) -> Response:
    params = dict(request.query_params)
    try:
        f, form = parse_filter(params, request.app.state.settings.zone)
        m = metrics.compute(db, actor, f)
        rows = metrics.drill_down(m, metric)
    except ValidationFailed as e:
        return _refused(request, actor, e, params)
    figure = m.figure(metric)
    named = actor.can(P.VIEW_CLINICAL) and actor.can(P.VIEW_IDENTIFIERS)
    return render(
        request,
        "metrics_drill.html",
        actor,
        figure=figure,
        rows=rows,
        named=named,
        form=form,
        query=_query(form),
        described=metrics.describe_filter(f),
        which=metrics.DRILL[metric],
        period_end=(f.end - timedelta(days=1)),
        m=m,
    )


class DrillRowOut(Out):
    run_id: int | None  # only for roles that may see identifiers
    patient_label: str
    support_type: str
    mode: str | None
    age_group: str | None
    started_at: UtcTime | None  # only for roles that may see identifiers
    started_month: str
    value: str


class DrillOut(Out):
    figure: FigureOut
    runs_counted: str
    runs: list[DrillRowOut]


@api.get(
    "/quality/metrics/{metric}",
    response_model=DrillOut,
    dependencies=[require(P.VIEW_QUALITY)],
)
def drill_api(
    request: Request,
    metric: str,
    db: DbSession,
    actor: CurrentActor,
    start: str | None = None,
    end: str | None = None,
    support_type: str | None = None,
    mode: str | None = None,
    age_group: str | None = None,
) -> DrillOut:
    """The runs behind one figure, each with its own value. Run numbers and start times only
    for roles holding VIEW_CLINICAL and VIEW_IDENTIFIERS; others get the pseudonymous patient
    label and the month of start."""
    params = {
        "start": start or "",
        "end": end or "",
        "support_type": support_type or "",
        "mode": mode or "",
        "age_group": age_group or "",
    }
    f, _ = parse_filter(params, request.app.state.settings.zone)
    m = metrics.compute(db, actor, f)
    rows = metrics.drill_down(m, metric)
    named = actor.can(P.VIEW_CLINICAL) and actor.can(P.VIEW_IDENTIFIERS)
    zone = request.app.state.settings.zone
    return DrillOut(
        figure=_figure_out(m.figure(metric)),
        runs_counted=metrics.DRILL[metric],
        runs=[
            DrillRowOut(
                run_id=run.run_id if named else None,
                patient_label=run.label,
                support_type=run.support_type,
                mode=run.mode,
                age_group=run.age_group,
                started_at=run.started_at if named else None,
                started_month=run.started_at.astimezone(zone).strftime("%Y-%m"),
                value=value,
            )
            for run, value in rows
        ],
    )

"""/quality/control-charts: the risk-adjusted CUSUM (both charts), VLAD and observed vs
expected survival over the ended runs (read-only; VIEW_QUALITY)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core.roles import Permission as P
from continuum.core.vocab import OUTCOME_LABELS
from continuum.errors import ValidationFailed
from continuum.quality import control_chart_plot as plot
from continuum.quality import control_chart_service as service
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, render

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Control charts", "/quality/control-charts", P.VIEW_QUALITY, 60))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [pages]


@pages.get("/quality/control-charts", dependencies=[require(P.VIEW_QUALITY)])
def control_charts_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    h: str = str(service.DEFAULT_H),
    h_improvement: str = "",
    runs_per_year: str = "",
) -> Response:
    error = None
    try:
        limits = service.read_limits(h, h_improvement, runs_per_year)
    except ValidationFailed as exc:
        error, limits = exc, service.Limits()
    charts = service.control_charts(db, actor, limits)
    runs = charts.runs

    def title(i: int) -> str:
        run = runs[i]
        return f"signal at run {run.number} (record {run.run_id})"

    plots = {}
    if charts.deterioration and charts.improvement and charts.vlad:
        plots = {
            "deterioration": plot.line_plot(
                charts.deterioration.values, charts.deterioration.h,
                charts.deterioration.signals, title,
            ),
            "improvement": plot.line_plot(
                charts.improvement.values, charts.improvement.h,
                charts.improvement.signals, title,
            ),
            "vlad": plot.line_plot(charts.vlad.values),
        }  # fmt: skip
    return render(
        request,
        "quality_control_charts.html",
        actor,
        status_code=422 if error else 200,
        error=error,
        charts=charts,
        plots=plots,
        given={"h": h, "h_improvement": h_improvement, "runs_per_year": runs_per_year},
        outcome_labels=OUTCOME_LABELS,
    )

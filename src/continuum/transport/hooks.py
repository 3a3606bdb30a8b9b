"""Transport's entries in core's hook lists: the run that arrived on ECMO from another
centre (``core.transfers.ARRIVAL_PROVIDERS``), its note on the run page and rounds board
(``run_view.RUN_NOTES``) and the run page's link to its missions (``run_view.RUN_LINKS``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from continuum.core import free_text, run_view, transfers
from continuum.core.roles import Actor, Permission


def arrivals(session: Session, run_ids: list[int]) -> dict[int, transfers.Arrival]:
    from continuum.transport import service  # when asked: not at every command's start-up

    return {
        run_id: transfers.Arrival(run_id, centre, number, f"/transport/{number}")
        for run_id, (number, centre) in service.arrivals(session, run_ids).items()
    }


def arrival_notes(
    session: Session, actor: Actor, run_ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    if not actor.can(Permission.VIEW_CLINICAL):
        return {}
    out: dict[int, list[tuple[str, str]]] = {}
    for run_id, a in arrivals(session, run_ids).items():
        centre = a.centre if free_text.readable(actor) else "another centre"
        out[run_id] = [(f"Arrived on ECMO from {centre}", a.href)]
    return out


def install_hooks() -> None:
    if arrivals not in transfers.ARRIVAL_PROVIDERS:
        transfers.ARRIVAL_PROVIDERS.append(arrivals)
    if arrival_notes not in run_view.RUN_NOTES:
        run_view.RUN_NOTES.append(arrival_notes)
    run_view.add_run_link(run_view.RunLink("Transport", "/transport?run_id={run_id}", order=65))

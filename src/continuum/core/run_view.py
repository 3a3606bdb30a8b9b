"""What a run looks like to a reader: one summary used by the page, the API and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import free_text, observation_service, participation_service, patient_service
from continuum.core.people import PatientIdentity
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, Run
from continuum.core.run_service import current_mode
from continuum.db import utcnow
from continuum.errors import Forbidden

# Surveillance registers a provider of a run's open alerts here (alert JSON dicts).
AlertProvider = Callable[[Session, int], list[dict[str, Any]]]
ALERT_PROVIDERS: list[AlertProvider] = []
# ... and a reviewer that acknowledges a run's open alerts of one detector for someone who
# reviewed them elsewhere (e.g. at rounds): (session, actor, run_id, detector, comment) →
# how many it acknowledged. Rounds act through ``review_alerts`` without importing alerts.
AlertReviewer = Callable[[Session, Actor, int, str, str], int]
ALERT_REVIEWERS: list[AlertReviewer] = []
# Rounds registers a raiser of a run's actions, so an alert page raises one in a step without
# importing rounds: (session, actor, run_id, text, owner_discipline, due_at) → the action as a
# dict (id, text, owner_discipline, due_at ISO, href). Raises ValidationFailed on bad input.
ActionRaiser = Callable[[Session, Actor, int, str, str | None, datetime | None], dict[str, Any]]
ACTION_RAISERS: list[ActionRaiser] = []
# Weaning registers a provider of the follow-up items planned at decannulation that are not
# done by ``now`` (of any run, ended runs included), so the rounds board lists them without
# importing weaning: dicts with id, run_id, patient_id, item, due_at (aware UTC or None) and
# overdue (due_at < now).
FollowUpProvider = Callable[[Session, datetime], list[dict[str, Any]]]
FOLLOW_UP_PROVIDERS: list[FollowUpProvider] = []
# The quality layer registers a judge of which of a run's records are worth offering as an
# adverse event where the rule is not the record's own (e.g. a transfusion above the
# programme's 24-hour red-cell threshold): (session, run_id) → {(source_type, record id)}.
AdverseEventOffers = Callable[[Session, int], set[tuple[str, int]]]
ADVERSE_EVENT_OFFERS: list[AdverseEventOffers] = []
# Surveillance registers a provider of a run's exchange forecasts (one dict per exchange
# criterion: continuum.forecast.Forecast.to_dict), shown on the run page and rounds board.
ForecastProvider = Callable[[Session, int], list[dict[str, Any]]]
FORECAST_PROVIDERS: list[ForecastProvider] = []

# The quality layer registers a provider of what is still open about runs in its programme
# (adverse events not yet reviewed, open M&M actions), shown as links on the run page and
# the rounds board: (session, actor, run_ids) → {run_id: [(label, href)]}.
RunNotes = Callable[[Session, Actor, list[int]], dict[int, list[tuple[str, str]]]]
RUN_NOTES: list[RunNotes] = []
# A domain adds lines to the run page's summary (e.g. ambulation: the highest mobility level
# reached and the sessions recorded): (session, actor, run_id) → [(label, text, href)].
RunSummary = Callable[[Session, Actor, int], list[tuple[str, str, str]]]
RUN_SUMMARIES: list[RunSummary] = []


def run_summaries(session: Session, actor: Actor, run_id: int) -> list[tuple[str, str, str]]:
    return [line for provider in RUN_SUMMARIES for line in provider(session, actor, run_id)]


def run_notes(
    session: Session, actor: Actor, run_ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for provider in RUN_NOTES:
        for run_id, notes in provider(session, actor, run_ids).items():
            found.setdefault(run_id, []).extend(notes)
    return found


@dataclass(frozen=True)
class RunLink:
    """A link on every run page to a domain's view of that run, e.g. its rounds."""

    label: str
    href: str  # with {run_id}
    permission: Permission = Permission.VIEW_CLINICAL
    order: int = 50


RUN_LINKS: list[RunLink] = []


def add_run_link(link: RunLink) -> None:
    if link not in RUN_LINKS:
        RUN_LINKS.append(link)


def run_links(actor: Actor, run_id: int) -> list[tuple[str, str]]:
    links = sorted((x for x in RUN_LINKS if actor.can(x.permission)), key=lambda x: x.order)
    return [(x.label, x.href.format(run_id=run_id)) for x in links]


def open_alerts(session: Session, run_id: int) -> list[dict[str, Any]]:
    return [alert for provider in ALERT_PROVIDERS for alert in provider(session, run_id)]


def exchange_forecasts(session: Session, run_id: int) -> list[dict[str, Any]]:
    return [f for provider in FORECAST_PROVIDERS for f in provider(session, run_id)]


def adverse_event_offers(session: Session, run_id: int) -> set[tuple[str, int]]:
    """Records of the run to offer as an adverse event ("Record as adverse event")."""
    return {key for judge in ADVERSE_EVENT_OFFERS for key in judge(session, run_id)}


def open_follow_ups(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every provider's open follow-up items, oldest due first (no due time last)."""
    items = [item for provider in FOLLOW_UP_PROVIDERS for item in provider(session, now)]
    return sorted(
        items, key=lambda x: (x["due_at"] is None, x["due_at"] or now, x["run_id"], x.get("id", 0))
    )


def review_alerts(session: Session, actor: Actor, run_id: int, detector: str, comment: str) -> int:
    """Acknowledge the run's open (not yet acknowledged) alerts of ``detector`` as ``actor``
    with ``comment``, in the caller's unit of work; 0 when the actor may not acknowledge
    alerts or none is open. Returns how many were acknowledged."""
    if not actor.can(Permission.ACKNOWLEDGE_ALERT):
        return 0
    return sum(review(session, actor, run_id, detector, comment) for review in ALERT_REVIEWERS)


def can_raise_actions(actor: Actor) -> bool:
    return bool(ACTION_RAISERS) and actor.can(Permission.RECORD_ROUND)


def raise_action(
    session: Session,
    actor: Actor,
    run_id: int,
    text: str,
    owner_discipline: str | None,
    due_at: datetime | None,
) -> dict[str, Any]:
    """Raise an action on the run through the registered raiser (rounds), in the caller's
    unit of work. RECORD_ROUND is required; without a raiser, Forbidden says so."""
    actor.require(Permission.RECORD_ROUND)
    if not ACTION_RAISERS:
        raise Forbidden("no domain raises actions in this installation")
    return ACTION_RAISERS[0](session, actor, run_id, text, owner_discipline, due_at)


def ecmo_day(run: Run, now: datetime | None = None) -> int:
    end = run.ended_at or now or utcnow()
    return (end - run.started_at).days + 1


def component_age_hours(component: Component, now: datetime | None = None) -> float:
    end = component.stopped_at or now or utcnow()
    return (end - component.started_at).total_seconds() / 3600.0


def observations_summary(session: Session, run_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, (count, obs) in observation_service.latest_per_code(session, run_id).items():
        out[code] = {
            "count": count,
            "latest": {
                "time": obs.time.isoformat(),
                "value": obs.value,
                "unit": obs.unit,
                "source": obs.source,
                "entered_value": obs.entered_value,
                "entered_unit": obs.entered_unit,
            },
        }
    return out


def summary(session: Session, actor: Actor, run: Run) -> dict[str, Any]:
    """The `run show` JSON (docs/contracts.md §4), identifiers only for roles that see them."""
    ident = patient_service.identities(session, actor, [run.patient_id], "run summary")
    identity: PatientIdentity | None = ident.get(run.patient_id)
    entered_by = participation_service.entered_by_names(session, run.id)
    return {
        "id": run.id,
        "patient_id": run.patient_id,
        "patient": patient_service.patient_out(run.patient, identity).model_dump(mode="json"),
        "support": run.support_type,
        "mode": current_mode(run),
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "ecmo_day": ecmo_day(run),
        "outcome": run.outcome,
        "location": free_text.for_api(actor, run.location),
        "modes": [
            {
                "mode": m.mode,
                "started_at": m.started_at.isoformat(),
                "ended_at": m.ended_at.isoformat() if m.ended_at else None,
                "reason": free_text.for_api(actor, m.reason),
            }
            for m in run.modes
        ],
        "cannulas": [_cannula(c) for c in run.cannulas],
        "components": [_component(c) for c in run.components],
        "observations": observations_summary(session, run.id),
        "participants": [
            {
                "staff": s.name,
                "discipline": p.discipline,
                "how": p.how,
                "record": f"{p.record_type}:{p.record_id}",
                "contribution": free_text.for_api(actor, p.contribution),
                "entered_by": entered_by.get(p.id),
            }
            for p, s in participation_service.for_run(session, run.id)
        ],
        "open_alerts": open_alerts(session, run.id),
    }


def _cannula(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "role": c.role,
        "site": c.site,
        "side": c.side,
        "french": c.french,
        "length_cm": c.length_cm,
        "inserted_at": c.inserted_at.isoformat(),
        "removed_at": c.removed_at.isoformat() if c.removed_at else None,
        "stop_reason": c.stop_reason,
    }


def _component(c: Component) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "make": c.make,
        "model": c.model,
        "serial": c.serial,
        "lot": c.lot,
        "udi": c.udi,
        "started_at": c.started_at.isoformat(),
        "stopped_at": c.stopped_at.isoformat() if c.stopped_at else None,
        "stop_reason": c.stop_reason,
        "replaces_id": c.replaces_id,
        "age_hours": round(component_age_hours(c), 1),
    }


def code_label(code: str) -> str:
    spec = vocabulary.CODES.get(code)
    return spec.meaning if spec else code

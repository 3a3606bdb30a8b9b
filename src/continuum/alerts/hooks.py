"""Plugging surveillance into the record: every stored observation batch is evaluated in
the same unit of work (or, for streaming ingest, marked due and evaluated just after), a
run's unresolved alerts appear wherever the run is shown, and alerts reviewed elsewhere (at
rounds) are acknowledged through ``run_view.review_alerts``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import observation_service, run_trends, run_view
from continuum.core.roles import Actor

WATCHED_GROUPS = frozenset(
    {"circuit", "circuit_gas", "monitoring", "blood_gas", "lab", "anticoagulation"}
    | {"mcs"}  # Impella, IABP and VAD readings (impella_flow_low, impella_purge_pressure)
)


def watched_codes(codes: set[str] | None = None) -> set[str]:
    """The codes (of ``codes``; None: of the vocabulary) that surveillance watches."""
    known = vocabulary.CODES if codes is None else {c for c in codes if c in vocabulary.CODES}
    return {c for c in known if vocabulary.CODES[c].group in WATCHED_GROUPS}


def evaluate_after_store(session: Session, run_id: int, codes: set[str]) -> None:
    """AFTER_STORE_HOOKS entry: a batch that touches a watched signal is evaluated now, or,
    when the unit of work says ``session.info["defer_surveillance"]`` (streaming ingest),
    its run is marked due for ``continuum.alerts.due`` to evaluate within about a second."""
    watched = watched_codes(codes)
    if not watched:
        return
    since = observation_service.stored_since(session)
    if session.info.get("defer_surveillance"):
        from continuum.alerts.due import mark_due

        mark_due(session, run_id, watched, since)
        return
    from continuum.alerts.watch import evaluate_run

    evaluate_run(session, run_id, codes=watched, changed_from=since)


def open_alerts(session: Session, run_id: int) -> list[dict[str, object]]:
    from continuum.alerts.service import open_alerts_for_run

    return open_alerts_for_run(session, run_id)


def review_alerts(session: Session, actor: Actor, run_id: int, detector: str, comment: str) -> int:
    from continuum.alerts.service import acknowledge_reviewed

    return acknowledge_reviewed(session, actor, run_id, detector, comment)


def exchange_forecasts(session: Session, run_id: int) -> list[dict[str, object]]:
    from continuum.alerts.forecasts import run_forecasts

    return run_forecasts(session, run_id)


def stored_baseline(session: Session, run_id: int, segment: datetime, key: str) -> float | None:
    """run_trends.STORED_BASELINES entry: the baseline ``key`` surveillance stored for the
    component segment starting at ``segment`` (segment starts are kept to the millisecond)."""
    from continuum.alerts.models import SurveillanceBaseline

    rows = session.execute(
        select(SurveillanceBaseline.segment_start, SurveillanceBaseline.value).where(
            SurveillanceBaseline.run_id == run_id, SurveillanceBaseline.key == key
        )
    )
    ms = _ms(segment)
    return next((float(v) for start, v in rows if _ms(start) == ms), None)


def _ms(t: datetime) -> int:
    return int((t - _EPOCH) // timedelta(milliseconds=1))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def install_hooks() -> None:
    """Idempotent; listed in ``continuum.domains.HOOK_MODULES``, so every entry point (app
    factory, alerts worker, ingest listeners, CLI) installs it through
    ``continuum.hooks.install_all_hooks``."""
    if evaluate_after_store not in observation_service.AFTER_STORE_HOOKS:
        observation_service.AFTER_STORE_HOOKS.append(evaluate_after_store)
    if exchange_forecasts not in run_view.FORECAST_PROVIDERS:
        run_view.FORECAST_PROVIDERS.append(exchange_forecasts)
    if open_alerts not in run_view.ALERT_PROVIDERS:
        run_view.ALERT_PROVIDERS.append(open_alerts)
    if stored_baseline not in run_trends.STORED_BASELINES:
        run_trends.STORED_BASELINES.append(stored_baseline)
    if review_alerts not in run_view.ALERT_REVIEWERS:
        run_view.ALERT_REVIEWERS.append(review_alerts)

"""Plugging surveillance into the record: every stored observation batch is evaluated in
the same unit of work, and a run's unresolved alerts appear wherever the run is shown."""

from __future__ import annotations

from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import observation_service, run_view

WATCHED_GROUPS = frozenset(
    {"circuit", "circuit_gas", "monitoring", "blood_gas", "lab", "anticoagulation"}
)


def evaluate_after_store(session: Session, run_id: int, codes: set[str]) -> None:
    """AFTER_STORE_HOOKS entry: a batch that touches a watched signal is evaluated now."""
    from continuum.alerts.watch import evaluate_run

    watched = {c for c in codes if c in vocabulary.CODES}
    watched = {c for c in watched if vocabulary.CODES[c].group in WATCHED_GROUPS}
    if watched:
        evaluate_run(session, run_id, codes=watched)


def open_alerts(session: Session, run_id: int) -> list[dict[str, object]]:
    from continuum.alerts.service import open_alerts_for_run

    return open_alerts_for_run(session, run_id)


def install() -> None:
    """Idempotent: called when the package is imported."""
    if evaluate_after_store not in observation_service.AFTER_STORE_HOOKS:
        observation_service.AFTER_STORE_HOOKS.append(evaluate_after_store)
    if open_alerts not in run_view.ALERT_PROVIDERS:
        run_view.ALERT_PROVIDERS.append(open_alerts)

"""Each ended run's stored prognostic score, for the quality control charts
(docs/clinical/reference.md §7.4–7.7).

Core holds no score itself: a domain that records one (initiation: RESP for respiratory
support, SAVE for cardiac support, from the candidacy inputs) puts a provider in
``SCORE_PROVIDERS`` (its ``hooks.install_hooks``). A provider answers, for each run it
knows, either a ``RunScore`` or the reason the run has none (a sentence a reader of the
quality page understands: "no RESP entered at initiation").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from continuum.core.run_record import Run


@dataclass(frozen=True)
class RunScore:
    """A run's score with the survival its class predicts (published cohort survival)."""

    score: str  # "RESP" or "SAVE"
    total: float
    risk_class: str
    predicted_survival: float
    source: str


ScoreProvider = Callable[["Session", Sequence["Run"]], dict[int, "RunScore | str"]]
SCORE_PROVIDERS: list[ScoreProvider] = []


def scores_for(session: Session, runs: Sequence[Run]) -> dict[int, RunScore | str]:
    """Each run's score, or why it has none (a score from any provider beats a reason)."""
    found: dict[int, RunScore | str] = {}
    for provider in SCORE_PROVIDERS:
        for run_id, answer in provider(session, runs).items():
            if isinstance(answer, RunScore) or run_id not in found:
                found[run_id] = answer
    for run in runs:
        found.setdefault(run.id, "no score recorded for this run")
    return found

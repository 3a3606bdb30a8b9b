"""Plugging initiation into the rest of the record without being imported by it: the RESP
(respiratory support) or SAVE (cardiac support) score entered at the decision that started a
run is that run's predicted survival on the quality control charts
(``core.outcome_scores.SCORE_PROVIDERS``; docs/clinical/reference.md §7.7)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import outcome_scores
from continuum.display_names import field_label

if TYPE_CHECKING:
    from continuum.core.run_record import Run

SCORE_FOR_SUPPORT = {"pulmonary": "resp", "cardiac": "save"}
TITLES = {"resp": "RESP", "save": "SAVE"}
SECTIONS = {"resp": "§1.2", "save": "§1.3"}


def stored_scores(
    session: Session, runs: Sequence[Run]
) -> dict[int, outcome_scores.RunScore | str]:
    """SCORE_PROVIDERS entry. The score is computed from the stored inputs as the decision
    page computes it (weight and height from the patient record fill blanks); the age is
    taken only from what was entered (a birth date is an identifier and is not read here)."""
    from continuum.initiation.candidacy import score_views, shared_inputs
    from continuum.initiation.models import InitiationDecision

    ids = [run.id for run in runs]
    if not ids:
        return {}
    decisions = {
        d.run_id: d
        for d in session.scalars(
            select(InitiationDecision).where(InitiationDecision.run_id.in_(ids))
        )
    }
    out: dict[int, outcome_scores.RunScore | str] = {}
    for run in runs:
        name = SCORE_FOR_SUPPORT.get(run.support_type)
        if name is None:
            out[run.id] = (
                "ECPR: neither RESP (respiratory failure) nor SAVE (cardiogenic shock) was "
                "derived for it"
            )
            continue
        title = TITLES[name]
        decision = decisions.get(run.id)
        if decision is None:
            out[run.id] = f"no initiation decision linked to the run, so no {title}"
            continue
        if not (decision.score_inputs or {}).get(name):
            out[run.id] = f"no {title} entered at initiation"
            continue
        patient = run.patient
        shared = shared_inputs(decision, patient.weight_kg, patient.height_cm, None)
        view = next(v for v in score_views(decision, run.support_type, shared) if v.name == name)
        if view.result is None:
            missing = ", ".join(field_label(m).lower() for m in view.missing)
            out[run.id] = f"{title} incomplete: missing {missing}"
            continue
        survival = view.result.interpretation.get("cohort_survival")
        if survival is None:
            out[run.id] = f"{title} class has no published survival"
            continue
        out[run.id] = outcome_scores.RunScore(
            score=title,
            total=float(view.result.value),
            risk_class=str(view.result.interpretation["risk_class"]),
            predicted_survival=float(survival),
            source=f"docs/clinical/reference.md {SECTIONS[name]}",
        )
    return out


def install_hooks() -> None:
    if stored_scores not in outcome_scores.SCORE_PROVIDERS:
        outcome_scores.SCORE_PROVIDERS.append(stored_scores)

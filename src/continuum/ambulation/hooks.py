"""Plugging ambulation into the rest of the record without being imported by it:

* the run page's summary shows the highest ICU Mobility Scale level reached and the number
  of sessions (``run_view.RUN_SUMMARIES``);
* a timeline entry of a session opens the session (``timeline_view.RECORD_PAGES``);
* the ELSO-shaped registry record carries the highest level per run
  (``run_facts.FACT_PROVIDERS``; research reads it without importing this package)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from continuum.core import run_facts, run_view, timeline_view
from continuum.core.roles import Actor, Permission

HIGHEST_IMS = run_facts.FactField(
    table="run",
    name="highest_ims",
    label="Highest ICU Mobility Scale level on ECLS",
    kind="number",
    unit="IMS 0–10",
    low=0,
    high=10,
    whole=True,
    where="/runs/{run}/ambulation",
    mapping=(
        "ICU Mobility Scale (Hodgson 2014) [P]; the ELSO registry fields we could read have "
        "no mobility level: our own field, exported beside the registry's (docs/ambulation.md)"
    ),
)


def highest_levels(
    session: Session, run_ids: Sequence[int]
) -> dict[int, dict[str, run_facts.RunFact | str]]:
    """FACT_PROVIDERS entry: each run's highest level reached over its sessions in force."""
    from continuum.ambulation.models import IMS_LABELS, in_force
    from continuum.ambulation.service import highest

    by_run: dict[int, list] = {}  # type: ignore[type-arg]
    for row in in_force(session, run_ids):
        by_run.setdefault(row.run_id, []).append(row)
    out: dict[int, dict[str, run_facts.RunFact | str]] = {}
    for rid in run_ids:
        best = highest(by_run.get(rid, []))
        if best is None:
            out[rid] = {"highest_ims": "no ambulation session recorded for this run"}
            continue
        n = len(by_run[rid])
        out[rid] = {
            "highest_ims": run_facts.RunFact(
                value=best.ims_level,
                source=f"ambulation session {best.number} "
                f"({best.started_at.isoformat(timespec='minutes')}), highest of {n}",
                source_id=str(best.number),
                at=best.started_at,
                note=f"IMS {best.ims_level}: {IMS_LABELS[best.ims_level].lower()}; "
                + HIGHEST_IMS.mapping,
            )
        }
    return out


PROVIDER = run_facts.FactProvider(fields=(HIGHEST_IMS,), values=highest_levels)


def run_summary(session: Session, actor: Actor, run_id: int) -> list[tuple[str, str, str]]:
    """RUN_SUMMARIES entry: one line on the run page, only when sessions exist."""
    if not actor.can(Permission.VIEW_CLINICAL):
        return []
    from continuum.ambulation.models import IMS_LABELS, in_force
    from continuum.ambulation.service import highest

    rows = in_force(session, [run_id])
    best = highest(rows)
    if best is None:
        return []
    n = len(rows)
    text = (
        f"highest ICU Mobility Scale {best.ims_level} ({IMS_LABELS[best.ims_level].lower()}) "
        f"· {n} session{'s' if n != 1 else ''}"
    )
    return [("Mobility", text, f"/runs/{run_id}/ambulation")]


def install_hooks() -> None:
    """Idempotent; listed in ``continuum.domains.HOOK_MODULES``."""
    if PROVIDER not in run_facts.FACT_PROVIDERS:
        run_facts.FACT_PROVIDERS.append(PROVIDER)
    if run_summary not in run_view.RUN_SUMMARIES:
        run_view.RUN_SUMMARIES.append(run_summary)
    timeline_view.RECORD_PAGES.setdefault("ambulation_session", "/ambulation/{id}")

"""Test helper: a round must give every open alert of its run an explicit disposition
(rounds.round_record.check_reviews); tests that record rounds about something else leave
the run's alerts open with this."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from continuum.core import run_view


def left_open(db: Session, run_id: int) -> list[dict[str, Any]]:
    """A "leave open" review, with a note, of every open alert of the run."""
    return [
        {"detector": a["detector"], "disposition": "left_open", "note": "reviewed, left open"}
        for a in run_view.open_alerts(db, run_id)
        if a.get("status") == "open"
    ]


def left_open_fields(page_html: str) -> dict[str, str]:
    """The rounds form's fields that leave every open alert listed on the page open."""
    import re

    fields: dict[str, str] = {}
    for i, detector in re.findall(r'name="alert\.(\d+)\.detector" value="([^"]+)"', page_html):
        fields[f"alert.{i}.detector"] = detector
        fields[f"alert.{i}.disposition"] = "left_open"
        fields[f"alert.{i}.note"] = "reviewed, left open"
    return fields

"""API and form shapes for alerts (separate from the stored rows)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class AcknowledgeIn(Strict):
    comment: str = Field(min_length=1, max_length=2000, description="what was seen or done")


class ResolveIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class AlertOut(BaseModel):
    """docs/contracts.md §3 alert JSON plus the stored alert's identity and lifecycle."""

    model_config = ConfigDict(extra="allow")

    detector: str
    severity: str
    raised_at: str
    cleared_at: str | None
    summary: str
    evidence: dict[str, Any]

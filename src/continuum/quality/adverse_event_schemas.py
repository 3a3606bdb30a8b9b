"""Adverse-event shapes for the API and the forms (``extra="forbid"``; responses subclass
``core.schemas.Out``). The code is plain text here and checked by the service, so a wrong
code is refused with the code named and the category it belongs to, not a list of 55."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from continuum.core.schemas import MAX_ID, Out, RecordId, Strict, UtcTime
from continuum.quality.review_factors import CAUSE_CLASSES
from continuum.quality.taxonomy import (
    DETECTIONS,
    EVENT_CLASSES,
    HARMS,
    PREVENTABILITIES,
    SOURCES,
)

EventClass = Literal[EVENT_CLASSES]  # type: ignore[valid-type]
Harm = Literal[HARMS]  # type: ignore[valid-type]
Preventability = Literal[PREVENTABILITIES]  # type: ignore[valid-type]
Detection = Literal[DETECTIONS]  # type: ignore[valid-type]
Source = Literal[SOURCES]  # type: ignore[valid-type]
Description = Annotated[str, Field(min_length=3, max_length=4000)]
Actions = Annotated[str | None, Field(max_length=4000)]
AmendKind = Literal["correction", "consensus"]
CauseClass = Literal[CAUSE_CLASSES]  # type: ignore[valid-type]


class AdverseEventIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=48, description="taxonomy code")]
    category: Annotated[
        str | None,
        Field(max_length=24, description="optional; must match the code's"),
    ] = None
    event_class: EventClass
    harm: Harm
    preventability: Preventability | None = None
    occurred_at: AwareDatetime
    time_estimated: bool = False
    component_id: RecordId | None = None
    cannula_id: RecordId | None = None
    detected_by: Detection
    source_type: Source | None = None
    source_id: RecordId | None = None
    description: Description
    immediate_actions: Actions = None


class AmendmentIn(Strict):
    """One or more fields with the reason; fields left out are unchanged, a field given as
    null is cleared (only those that may be empty)."""

    code: Annotated[str | None, Field(max_length=48)] = None
    event_class: EventClass | None = None
    harm: Harm | None = None
    preventability: Preventability | None = None
    occurred_at: AwareDatetime | None = None
    time_estimated: bool | None = None
    component_id: RecordId | None = None
    cannula_id: RecordId | None = None
    detected_by: Detection | None = None
    description: Annotated[str | None, Field(min_length=3, max_length=4000)] = None
    immediate_actions: Actions = None
    cause_class: CauseClass | None = Field(
        default=None, description="agreed at M&M review only (kind consensus)"
    )
    reason: Annotated[str, Field(min_length=3, max_length=2000)]
    kind: AmendKind = "correction"
    review_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    version: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None


class DismissIn(Strict):
    source_type: Source
    source_id: RecordId
    reason: Annotated[str, Field(min_length=3, max_length=2000)]


class HistoryOut(Out):
    at: UtcTime
    by: int | None
    by_name: str
    field: str
    old: Any = Field(description="value before (JSON: text, number, boolean, time or null)")
    new: Any = Field(description="value after")
    reason: str | None = Field(description="null for a role that may not read free text")
    kind: AmendKind
    review_id: int | None
    set_by: str | None = Field(
        default=None, description="'set by M&M review of YYYY-MM-DD' for a review's consensus"
    )
    review_href: str | None = Field(default=None, description="the review page (reviewers)")


class PartOut(Out):
    id: int
    kind: str
    make: str | None
    model: str | None
    serial: str | None
    lot: str | None
    udi: str | None


class AdverseEventOut(Out):
    id: int
    run_id: int
    patient_label: str
    version: int
    code: str
    code_label: str
    category: str
    category_label: str
    elso_code: int | None = Field(description="ELSO complication code; null = unmapped")
    elso_code_set: str
    ecls_cdm_concept: int | None = Field(description="ECLS-CDM (OMOP) concept; null = unmapped")
    mapping: str = Field(description="'mapped', or which mapping is missing ('unmapped …')")
    event_class: str
    harm: str
    preventability: str | None
    cause_class: str | None = Field(description="agreed at M&M review; null until then")
    occurred_at: UtcTime
    time_estimated: bool
    component: PartOut | None
    cannula: PartOut | None
    detected_by: str
    source_type: str | None
    source_id: int | None
    description: str | None = Field(description="null for a role that may not read free text")
    immediate_actions: str | None
    recorded_by: int | None
    recorded_by_name: str
    recorded_at: UtcTime
    amended: bool
    history: list[HistoryOut]
    review_ids: list[int] = Field(description="the M&M reviews that discussed this event")
    packet_href: str = Field(description="the run's case packet centred on this event")


class AdverseEventListOut(Out):
    events: list[AdverseEventOut]


class CountOut(Out):
    count: int | None = Field(description="null when 1 to 4 events (a small cell, shown '<5')")
    shown: str = Field(description="the count as shown: a number, or '<5'")


class CountLineOut(Out):
    value: str
    label: str
    counts: list[CountOut] = Field(description="one per period, in the order of 'periods'")
    total: CountOut


class CountTableOut(Out):
    dimension: Literal["category", "event_class", "harm"]
    label: str
    lines: list[CountLineOut]


class EventCountsOut(Out):
    """Adverse events counted per period by category, class and harm (values in force):
    de-identified and aggregated, no run, patient, time or text."""

    group: Literal["month", "quarter"]
    periods: list[str]
    small_cell: int = Field(description="counts below this are shown as '<N'")
    totals: list[CountOut]
    total: CountOut
    tables: list[CountTableOut]


class PossibleOut(Out):
    source_type: str
    source_id: int
    source_label: str
    run_id: int
    patient_label: str
    at: UtcTime
    what: str
    suggested_code: str | None
    suggested_code_label: str | None
    record_href: str = Field(description="the pre-filled 'record as adverse event' form")


class PossibleListOut(Out):
    days: int
    possible: list[PossibleOut]


class DismissedOut(Out):
    source_type: str
    source_id: int
    run_id: int
    reason: str
    dismissed_at: UtcTime

"""Scoring a training session against the injected fault's truth (pure: no database).

* Recognised: the first alert acknowledgement or signed circuit check at or after the
  fault's onset (``RECOGNITION_KINDS``).
* Right action: the bedside remedy for the simulator's fault (``RIGHT_ACTIONS``): a
  membrane-lung replacement for oxygenator failure, a pump (head) replacement for a pump
  thrombus, an action raised (fluids, cannula position, heparin …) where the remedy is not
  a component.
* Wrong actions: a component replaced that the fault does not call for.
Each time is measured from the fault's onset and compared with when the fault became
obvious by its published criterion (``simulator.truth``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RECOGNITION_KINDS = ("alert.acknowledged", "circuit_check.signed")
ACTION_KINDS = (*RECOGNITION_KINDS, "component.replaced", "component.added", "action.raised")


@dataclass(frozen=True)
class Remedy:
    text: str
    components: tuple[str, ...] = ()  # a replacement of one of these is right
    action: bool = False  # an action raised is right


RIGHT_ACTIONS: dict[str, Remedy] = {
    "oxygenator_failure": Remedy("replace the membrane lung", ("membrane_lung",)),
    "circuit_thrombosis": Remedy(
        "replace the membrane lung or the circuit", ("membrane_lung", "tubing_set")
    ),
    "pump_thrombosis": Remedy("replace the pump head", ("pump",)),
    "hemolysis": Remedy("raise an action (find and remove the cause of shear)", action=True),
    "access_insufficiency": Remedy("raise an action (volume, cannula position)", action=True),
    "recirculation": Remedy("raise an action (cannula position, flow)", action=True),
    "anticoagulation_drift": Remedy("raise an action (heparin dose, antithrombin)", action=True),
    "differential_hypoxia": Remedy("raise an action (flow, upper-body return)", action=True),
}


@dataclass(frozen=True)
class Event:
    """A clinical event on the training run as the scorer needs it."""

    id: int
    kind: str
    at: datetime
    by: str
    summary: str
    component: str | None = None  # for component events: the kind replaced


@dataclass
class FaultScore:
    fault: str
    onset: datetime
    obvious_at: datetime | None
    remedy: str
    recognised_at: datetime | None = None
    recognised_by: str | None = None
    right_action_at: datetime | None = None
    right_action_event: int | None = None
    wrong_actions: list[Event] = field(default_factory=list)

    @property
    def time_to_recognise_s(self) -> float | None:
        return _seconds(self.onset, self.recognised_at)

    @property
    def time_to_right_action_s(self) -> float | None:
        return _seconds(self.onset, self.right_action_at)

    @property
    def recognised_before_obvious(self) -> bool | None:
        if self.recognised_at is None or self.obvious_at is None:
            return None
        return self.recognised_at <= self.obvious_at

    def as_dict(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "remedy": self.remedy,
            "time_to_recognise_s": self.time_to_recognise_s,
            "time_to_right_action_s": self.time_to_right_action_s,
            "wrong_actions": len(self.wrong_actions),
        }


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 1)


def is_right(fault: str, event: Event) -> bool:
    remedy = RIGHT_ACTIONS.get(fault)
    if remedy is None:
        return False
    if event.kind == "component.replaced":
        return event.component in remedy.components
    return remedy.action and event.kind == "action.raised"


def score(
    fault: str,
    onset: datetime,
    obvious_at: datetime | None,
    events: list[Event],
    until: datetime | None = None,
) -> FaultScore:
    """Score one fault from the run's events (any order); ``until``: ignore later events
    (the next fault's onset or the session's end)."""
    remedy = RIGHT_ACTIONS.get(fault, Remedy("raise an action", action=True))
    result = FaultScore(fault, onset, obvious_at, remedy.text)
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        if e.at < onset or (until is not None and e.at >= until):
            continue
        if e.kind in RECOGNITION_KINDS and result.recognised_at is None:
            result.recognised_at, result.recognised_by = e.at, e.by
        if result.right_action_at is None and is_right(fault, e):
            result.right_action_at, result.right_action_event = e.at, e.id
            if result.recognised_at is None:  # acting on it recognises it
                result.recognised_at, result.recognised_by = e.at, e.by
        elif e.kind == "component.replaced" and result.right_action_at is None:
            result.wrong_actions.append(e)
    return result

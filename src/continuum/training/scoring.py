"""Scoring a training session against the injected fault's truth (pure: no database).

* Recognised: the first acknowledgement of an alert of one of the fault's detectors
  (``simulator.faults.FAULT_DETECTORS``, named in the event's text), or the first signed
  circuit check whose text names the fault (its ``words``), at or after the fault's onset.
  Acknowledging an unrelated alert or signing a routine check is not recognition.
* Right action: the bedside remedy for the simulator's fault (``RIGHT_ACTIONS``): a
  replacement of one of its ``components`` (membrane lung for oxygenator failure, pump
  head for a pump thrombus, console for a power failure …), or, where the remedy is not
  only a component, an action raised whose text names it (one of its ``words``: "fluid",
  "cannula", "heparin", "de-air", "hand crank" …).
* Wrong actions (before the right action): a component replaced that the fault does not
  call for, and, for faults whose remedy is an action, an action raised whose text names
  none of the remedy's words. Each wrong action carries its reason for the debrief.
Each time is measured from the fault's onset and compared with when the fault became
obvious by its published criterion (``simulator.truth``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from continuum.simulator.faults import FAULT_DETECTORS

RECOGNITION_KINDS = ("alert.acknowledged", "circuit_check.signed")
ACTION_KINDS = (*RECOGNITION_KINDS, "component.replaced", "component.added", "action.raised")


@dataclass(frozen=True)
class Remedy:
    text: str
    components: tuple[str, ...] = ()  # a replacement of one of these is right
    action: bool = False  # an action raised whose text names the remedy is right
    # lower-case words: an action raised or a circuit check naming one of them fits the fault
    words: tuple[str, ...] = ()

    def fits(self, text: str) -> bool:
        """The text names one of the words: at a word's start, whole words for short ones
        ("air" fits "de-air the circuit", not "repair"; "pump" does not fit "pumps")."""
        low = text.lower()
        return any(re.search(_pattern(w), low) for w in self.words)


def _pattern(word: str) -> str:
    return r"\b" + re.escape(word) + (r"\b" if len(word) <= 4 else "")


RIGHT_ACTIONS: dict[str, Remedy] = {
    "oxygenator_failure": Remedy(
        "replace the membrane lung",
        ("membrane_lung",),
        words=("oxygenator", "membrane", "fibrin", "post-oxy", "gas transfer"),
    ),
    "circuit_thrombosis": Remedy(
        "replace the membrane lung or the circuit",
        ("membrane_lung", "tubing_set"),
        words=("clot", "thromb", "fibrin", "d-dimer", "fibrinogen", "consumption"),
    ),
    "pump_thrombosis": Remedy(
        "replace the pump head",
        ("pump",),
        words=("pump", "thromb", "clot", "free hb", "haemolysis", "hemolysis"),
    ),
    "hemolysis": Remedy(
        "raise an action naming the cause of shear (haemolysis, pump, flow, cannula)",
        action=True,
        words=("haemoly", "hemoly", "shear", "free hb", "ldh", "pump", "flow", "cannula"),
    ),
    "access_insufficiency": Remedy(
        "raise an action naming volume or the drainage cannula (fluid, bolus, position)",
        action=True,
        words=(
            "volume",
            "fluid",
            "bolus",
            "albumin",
            "cannula",
            "drainage",
            "access",
            "chatter",
            "position",
        ),
    ),
    "recirculation": Remedy(
        "raise an action naming cannula position or flow (recirculation)",
        action=True,
        words=("recirculation", "cannula", "position", "flow", "echo"),
    ),
    "anticoagulation_drift": Remedy(
        "raise an action naming the anticoagulation (heparin dose, antithrombin)",
        action=True,
        words=(
            "heparin",
            "anti-xa",
            "anti xa",
            "antithrombin",
            "anticoag",
            "bivalirudin",
            "aptt",
        ),
    ),
    "differential_hypoxia": Remedy(
        "raise an action naming flow or upper-body oxygen (differential hypoxia)",
        action=True,
        words=(
            "flow",
            "differential",
            "harlequin",
            "upper",
            "right hand",
            "right-hand",
            "fio2",
            "ventilat",
            "v-av",
            "vav",
            "jugular",
        ),
    ),
    "air_entrainment": Remedy(
        "clamp, de-air and restart: raise an action naming the air (de-air, clamp) or "
        "replace the circuit",
        ("tubing_set",),
        action=True,
        words=("air", "de-air", "deair", "bubble", "clamp"),
    ),
    "power_failure": Remedy(
        "hand-crank, then power: raise an action naming it (hand crank, power, console) or "
        "replace the console",
        ("console",),
        action=True,
        words=("crank", "power", "console", "battery", "mains"),
    ),
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
    why_wrong: dict[int, str] = field(default_factory=dict)  # event id → reason
    right_why: str | None = None

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
    return remedy.action and event.kind == "action.raised" and remedy.fits(event.summary)


def _detector_named(code: str, text: str) -> bool:
    return code.replace("_", " ") in text.lower()


def recognises(fault: str, event: Event) -> bool:
    """An acknowledgement of one of the fault's alerts, or a circuit check naming it."""
    if event.kind == "alert.acknowledged":
        return any(_detector_named(c, event.summary) for c in FAULT_DETECTORS.get(fault, ()))
    if event.kind == "circuit_check.signed":
        remedy = RIGHT_ACTIONS.get(fault)
        return remedy is not None and remedy.fits(event.summary)
    return False


def why_wrong(fault: str, event: Event) -> str | None:
    """Why ``event`` does not fit the fault (None: it is not a wrong action)."""
    remedy = RIGHT_ACTIONS.get(fault)
    if remedy is None or is_right(fault, event):
        return None
    if event.kind == "component.replaced":
        wanted = " or ".join(c.replace("_", " ") for c in remedy.components) or "none"
        return (
            f"{(event.component or 'component').replace('_', ' ')} replaced; "
            f"this fault calls for: {wanted}"
        )
    if event.kind == "action.raised" and remedy.action:
        return f"the action names none of: {', '.join(remedy.words)}"
    return None


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
        if result.recognised_at is None and recognises(fault, e):
            result.recognised_at, result.recognised_by = e.at, e.by
        if result.right_action_at is not None:
            continue
        if is_right(fault, e):
            result.right_action_at, result.right_action_event = e.at, e.id
            result.right_why = (
                f"{(e.component or '').replace('_', ' ')} replaced"
                if e.kind == "component.replaced"
                else "the action names the remedy"
            )
            if result.recognised_at is None:  # acting on it recognises it
                result.recognised_at, result.recognised_by = e.at, e.by
        elif (why := why_wrong(fault, e)) is not None:
            result.wrong_actions.append(e)
            result.why_wrong[e.id] = why
    return result

"""Flat HTML form fields → the same schemas the API takes (blank rows dropped)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from continuum.local_time import aware
from continuum.rounds.schemas import FLUID_BALANCE, GOAL_CODES, INSPECTION_SITES, PRODUCTS

FORM_ROWS = 3


def _rows(form: dict[str, Any], prefix: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for i in range(20):
        row = {k: form.get(f"{prefix}.{i}.{k}") for k in keys}
        row = {k: v for k, v in row.items() if v not in (None, "")}
        if row:
            out.append(row)
    return out


def actions_from(form: dict[str, Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    rows = _rows(form, "action", ("text", "owner_discipline", "due_at"))
    for i, row in enumerate(rows):
        row.setdefault("text", "")
        if isinstance(row.get("due_at"), str):
            row["due_at"] = aware(row["due_at"], zone, f"actions[{i}].due_at")
    return rows


def round_from(form: dict[str, Any], attendees: list[str], zone: ZoneInfo) -> dict[str, Any]:
    goals: dict[str, dict[str, Any]] = {}
    for code in (*GOAL_CODES, FLUID_BALANCE):
        for bound in ("low", "high"):
            value = form.get(f"goal.{code}.{bound}")
            if value not in (None, ""):
                goals.setdefault(code, {})[bound] = value
    data: dict[str, Any] = {
        "attendees": [a for a in attendees if a],
        "therapy": {
            k.split(".", 1)[1]: v for k, v in form.items() if k.startswith("therapy.") and v
        },
        "goals": goals,
        "alerts_reviewed": _rows(
            form, "alert", ("detector", "severity", "summary", "disposition", "note")
        ),
        "actions": actions_from(form, zone),
    }
    for key in ("round_date", "problems", "version"):
        if form.get(key):
            data[key] = form[key]
    return data


def check_from(form: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    readings = {
        k.split(".", 1)[1]: v for k, v in form.items() if k.startswith("reading.") and v != ""
    }
    data: dict[str, Any] = {
        "shift": form.get("shift") or "round",
        "inspection": {
            s: form[f"inspect.{s}"] for s in INSPECTION_SITES if form.get(f"inspect.{s}")
        },
        "readings": readings,
        "transfusions": {p: form[f"tx.{p}"] for p in PRODUCTS if form.get(f"tx.{p}")},
    }
    for key in ("heater", "findings"):
        if form.get(key):
            data[key] = form[key]
    actions = actions_from(form, zone)
    if actions:
        data["action"] = actions[0]
    return data

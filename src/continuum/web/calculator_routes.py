"""Calculators: a page a clinician fills in, and the JSON API (same registry, same result)."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response
from pydantic import Field

from continuum.calculators import CALCULATORS, get_spec, list_calculators, run_calculator
from continuum.core.schemas import CalculationOut, Out
from continuum.errors import ValidationFailed
from continuum.web.deps import CurrentActor, form_of, get_actor
from continuum.web.pages import render

api = APIRouter(
    prefix="/api/v1/calculators", tags=["calculators"], dependencies=[Depends(get_actor)]
)
pages = APIRouter(prefix="/calculators", include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [api, pages]


class UnitOptionOut(Out):
    unit: str = Field(description="an alternative unit the input may be given in")
    factor: float = Field(description="multiply a value in this unit by it to get ``unit``")


class CalculatorInput(Out):
    name: str
    type: Literal[
        "number", "integer", "boolean", "choice", "multi_choice", "text", "samples", "entries"
    ]
    unit: str = Field(description="the unit the value is read in (blank: none)")
    required: bool
    minimum: float | None = Field(description="lowest allowed value, in ``unit``")
    maximum: float | None = Field(description="highest allowed value, in ``unit``")
    choices: list[str]
    default: Any = Field(description="taken when not given")
    help: str
    units: list[UnitOptionOut]


class CalculatorOut(Out):
    name: str
    title: str
    description: str
    category: str = Field(description="physiology or score")
    inputs: list[CalculatorInput]


@api.get("", response_model=list[CalculatorOut])
def calculators() -> list[dict[str, Any]]:
    """Every calculator with its inputs (type, unit, alternative units, allowed range)."""
    return list_calculators()


@api.post("/{name}", response_model=CalculationOut)
def calculate(name: str, inputs: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Run one calculator: value, unit, interpretation, inputs as used, formula, points,
    source and warnings. Missing or implausible inputs → 422 naming each field."""
    return run_calculator(name, inputs).as_dict()


@pages.get("")
def index(request: Request, actor: CurrentActor) -> Response:
    groups: dict[str, list[Any]] = {}
    for spec in CALCULATORS.values():
        groups.setdefault(spec.category, []).append(spec)
    return render(request, "calculators.html", actor, groups=groups)


@pages.get("/{name}")
def form(request: Request, name: str, actor: CurrentActor) -> Response:
    return render(
        request, "calculator.html", actor, spec=get_spec(name), values={}, result=None, error=None
    )


@pages.post("/{name}")
def submit(request: Request, name: str, actor: CurrentActor) -> Response:
    spec = get_spec(name)
    form_data = form_of(request)
    values = {
        k: form_data.getlist(k) if len(form_data.getlist(k)) > 1 else v
        for k, v in form_data.items()
    }
    try:
        result = run_calculator(name, inputs_from_form(spec, form_data))
    except ValidationFailed as exc:
        return render(
            request,
            "calculator.html",
            actor,
            status_code=422,
            spec=spec,
            values=values,
            result=None,
            error=exc,
        )
    return render(
        request,
        "calculator.html",
        actor,
        spec=spec,
        values=values,
        result=result.as_dict(),
        error=None,
    )


def inputs_from_form(spec: Any, form_data: Any) -> dict[str, Any]:
    """Form fields → calculator inputs; blanks stay missing (never zero)."""
    inputs: dict[str, Any] = {}
    for field in spec.fields:
        raw = form_data.get(field.name)
        if field.type == "boolean":
            inputs[field.name] = raw == "on"
        elif field.type == "multi_choice":
            inputs[field.name] = form_data.getlist(field.name)
        elif field.type == "samples":
            if raw and str(raw).strip():
                inputs[field.name] = _samples(str(raw))
        elif field.type == "entries":
            if raw and str(raw).strip():
                inputs[field.name] = _json(field.name, str(raw))
        elif raw not in (None, ""):
            unit = form_data.get(f"{field.name}_unit")
            inputs[field.name] = {"value": raw, "unit": unit} if unit else raw
    return inputs


def _samples(text: str) -> list[list[Any]]:
    rows = []
    for n, line in enumerate(text.strip().splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace(";", ",").split(",")]
        if len(parts) != 2:
            raise ValidationFailed(f"line {n} '{line}' should be: time, value", "samples")
        try:
            rows.append([parts[0], float(parts[1])])
        except ValueError:
            raise ValidationFailed(f"line {n}: '{parts[1]}' is not a number", "samples") from None
    return rows


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not valid JSON: {exc.msg}", name) from None

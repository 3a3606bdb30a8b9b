"""The data dictionary: the browsable page (/research/dictionary, filter by table and
standard, search), its CSV (/research/dictionary.csv) and JSON
(/api/v1/research/dictionary). It describes the record, not a patient: every clinical role
and the researcher read it (VIEW_QUALITY, the programme-level permission); administrators and
interface accounts do not. docs/data-dictionary.md explains the mapping choices."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from markupsafe import Markup, escape
from pydantic import BaseModel, Field

from continuum.core.roles import Permission as P
from continuum.core.schemas import Out
from continuum.errors import FieldProblem, ValidationFailed
from continuum.research import data_dictionary as dd
from continuum.research.dictionary_entries import (
    STANDARD_LABELS,
    STANDARD_VERSIONS,
    STANDARDS,
)
from continuum.web.deps import CurrentActor, get_actor, require
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["research"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Data dictionary", "/research/dictionary", P.VIEW_QUALITY, 65))

READ = require(P.VIEW_QUALITY)


class StandardOut(Out):
    key: str = Field(description="the standard's key, as used by the standard filter")
    label: str
    version: str = Field(description="the version of the standard the mappings target")


class MappingOut(Out):
    elso: str = Field(description="ELSO run record table.field, or 'not mapped: <reason>'")
    redcap: str = Field(description="REDCap instrument.field (field type), or 'not mapped: …'")
    fhir: str = Field(description="FHIR R4 resource.element, or 'not mapped: …'")
    omop: str = Field(description="OMOP CDM 5.4 / ECLS-CDM table.column, or 'not mapped: …'")
    clif: str = Field(description="CLIF 2.1 ecmo_mcs column, or 'not mapped: …'")


class FieldOut(Out):
    key: str = Field(description="table.column; observation.value[code] for an observation code")
    table: str
    table_label: str
    column: str
    code: str | None = Field(description="the vocabulary code, for observation.value[code]")
    label: str
    type: str
    unit: str | None
    allowed: str | None = Field(description="closed list ('a | b') or range")
    nullable: bool
    excluded: str | None = Field(description="why the table is operational and not exported")
    api_fields: list[str] = Field(description="response fields (Model.field) that carry it")
    description: str | None
    loinc: str | None
    mappings: MappingOut


class DictionaryOut(Out):
    standards: list[StandardOut]
    count: int = Field(description="fields in this answer (after the filters)")
    total: int = Field(description="fields in the whole dictionary")
    fields: list[FieldOut]


def response_models(request: Request) -> tuple[type[BaseModel], ...]:
    """The response models the app serves (every API route's, nested routers included)."""
    found: list[type[BaseModel]] = []
    for context in iter_route_contexts(request.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.response_model is not None:
            found += dd.models_in(route.response_model)
    return tuple(dict.fromkeys(found))


def _fields(request: Request) -> list[dd.DictionaryField]:
    return dd.build(response_models(request))


MAPPED = ("yes", "no")


def _check(table: str | None, standard: str | None, mapped: str | None = None) -> None:
    problems = []
    if table is not None and table not in dd.table_names():
        allowed = ", ".join(dd.table_names())
        problems.append(FieldProblem("table", f"table '{table}' is not in the record "
                                     f"(allowed: {allowed})", table))  # fmt: skip
    if standard is not None and standard not in STANDARDS:
        problems.append(FieldProblem("standard", f"standard '{standard}' is unknown "
                                     f"(allowed: {', '.join(STANDARDS)})", standard))  # fmt: skip
    if mapped is not None and mapped not in MAPPED:
        problems.append(FieldProblem("mapped", f"mapped '{mapped}' is not yes or no "
                                     "(allowed: yes, no)", mapped))  # fmt: skip
    if problems:
        raise ValidationFailed(problems)


def breakable(text: str) -> Markup:
    """Identifiers (ecls_cannula.flow_direction_concept_id) may wrap after a dot or an
    underscore in a narrow column, never inside a word."""
    safe = str(escape(text))
    return Markup(safe.replace(".", ".<wbr>").replace("_", "_<wbr>"))


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _standards() -> list[StandardOut]:
    return [
        StandardOut(key=s, label=STANDARD_LABELS[s], version=STANDARD_VERSIONS[s])
        for s in STANDARDS
    ]


def _out(f: dd.DictionaryField) -> FieldOut:
    return FieldOut(
        key=f.key,
        table=f.table,
        table_label=f.table_label,
        column=f.column,
        code=f.code,
        label=f.label,
        type=f.type,
        unit=f.unit,
        allowed=f.allowed,
        nullable=f.nullable,
        excluded=f.excluded,
        api_fields=list(f.api_fields),
        description=f.description,
        loinc=f.loinc,
        mappings=MappingOut(**f.mappings),
    )


TableQ = Query(None, max_length=64, description="only this table's fields")
StandardQ = Query(None, max_length=16, description="only fields mapped in this standard")
MappedQ = Query(
    None,
    max_length=8,
    description="with standard: 'yes' (default) the fields it has a place for, 'no' the gaps",
)
SearchQ = Query(None, max_length=200, description="words every field shown contains")


@api.get("/research/dictionary", response_model=DictionaryOut, dependencies=[READ])
def dictionary_api(
    request: Request,
    table: str | None = TableQ,
    standard: str | None = StandardQ,
    mapped: str | None = MappedQ,
    q: str | None = SearchQ,
) -> DictionaryOut:
    """Every field of the record (table.column, and each observation code) with its label,
    type, unit, allowed values and its place in ELSO, REDCap, FHIR R4, OMOP/ECLS-CDM and
    CLIF ecmo_mcs (or why it has none). Operational tables are listed as excluded."""
    table, standard, mapped, q = _blank(table), _blank(standard), _blank(mapped), _blank(q)
    _check(table, standard, mapped)
    everything = _fields(request)
    chosen = dd.select(everything, table, standard, q, mapped=mapped != "no")
    return DictionaryOut(
        standards=_standards(),
        count=len(chosen),
        total=len(everything),
        fields=[_out(f) for f in chosen],
    )


@pages.get("/research/dictionary.csv", dependencies=[READ])
def dictionary_csv(
    request: Request,
    table: str | None = TableQ,
    standard: str | None = StandardQ,
    mapped: str | None = MappedQ,
    q: str | None = SearchQ,
) -> Response:
    table, standard, mapped, q = _blank(table), _blank(standard), _blank(mapped), _blank(q)
    _check(table, standard, mapped)
    chosen = dd.select(_fields(request), table, standard, q, mapped=mapped != "no")
    return Response(
        dd.to_csv(chosen),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="data-dictionary.csv"'},
    )


@pages.get("/research/dictionary", dependencies=[READ])
def dictionary_page(
    request: Request,
    actor: CurrentActor,
    table: str | None = TableQ,
    standard: str | None = StandardQ,
    mapped: str | None = MappedQ,
    q: str | None = SearchQ,
) -> Response:
    table, standard, mapped, q = _blank(table), _blank(standard), _blank(mapped), _blank(q)
    problems: list[FieldProblem] = []
    try:
        _check(table, standard, mapped)
    except ValidationFailed as refused:  # the page, unfiltered, says which filter was wrong
        problems, table, standard, mapped = refused.problems, None, None, None
    everything = _fields(request)
    chosen = dd.select(everything, table, standard, q, mapped=mapped != "no")
    if standard is None:
        mapped = None  # "no place in it" means nothing without a standard
    chosen_params = (("table", table), ("standard", standard), ("mapped", mapped), ("q", q))
    params = {k: v for k, v in chosen_params if v}
    query = urlencode(params)
    described = [f for f in chosen if f.excluded is None]
    excluded: dict[str, str] = {}
    for f in chosen:
        if f.excluded is not None:
            excluded.setdefault(f.table, f.excluded)
    return render(
        request,
        "research_dictionary.html",
        actor,
        status_code=422 if problems else 200,
        problems=problems,
        fields=described,
        excluded=excluded,
        total=len(everything),
        count=len(chosen),
        tables=dd.table_names(),
        standards=_standards(),
        standard_labels=STANDARD_LABELS,
        standard_keys=STANDARDS,
        table=table,
        standard=standard,
        gaps=mapped == "no",
        q=q or "",
        params=params,
        query=query,
        mapped_counts={
            s: sum(1 for f in everything if f.excluded is None and f.mapped(s)) for s in STANDARDS
        },
        described_total=sum(1 for f in everything if f.excluded is None),
        breakable=breakable,
    )

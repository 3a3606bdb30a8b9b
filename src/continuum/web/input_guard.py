"""One guard, applied by the app factory to every route, for input no database can store.

Each route declares its own shapes and ranges; this guard refuses, before any endpoint or
service runs, the three kinds of input that used to reach the database and give a 500:

- a record id outside the range of an INTEGER column (path id → 404 "not found", since no
  record can have it; an id in the query string, a form or a JSON body → 422 naming it);
- a NUL character in any text (path, query, form or JSON body; PostgreSQL cannot store
  it), the login form included, before authentication;
- NaN or ±Infinity anywhere in a JSON body (no clinical number is "not a number").

Numbers that arrive as form text are refused by the schemas themselves
(``allow_inf_nan=False`` in every ``Strict`` base). Being a route dependency rather than
middleware, the guard runs inside FastAPI's error handling, so its refusals are the usual
``validation_failed`` / ``not_found`` bodies.
"""

from __future__ import annotations

import math
from typing import Any, get_args

from fastapi import Request
from fastapi.routing import APIRoute

from continuum.errors import NotFound, ProblemCollector

MAX_ID = 2**31 - 1  # ids are INTEGER columns on both databases
NUL = "\x00"


def _int_params(route: Any, kind: str) -> set[str]:
    """Names of the route's ``kind`` ("path_params" / "query_params") typed as int."""
    if not isinstance(route, APIRoute):
        return set()
    names = set()
    for param in getattr(route.dependant, kind):
        annotation = param.field_info.annotation
        if annotation is int or int in get_args(annotation):
            names.add(param.name)
    return names


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _out_of_range(raw: str) -> bool:
    whole, point, fraction = raw.strip().partition(".")
    if point and not fraction.strip("0"):
        raw = whole  # "12.0": the route's validation reads it as the integer 12
    try:
        value = int(raw)
    except ValueError:
        return False  # not a number at all: the route's own validation names it
    return not 1 <= value <= MAX_ID


async def guard_input(request: Request) -> None:
    route = request.scope.get("route")
    problems = ProblemCollector()
    path_ints = _int_params(route, "path_params")
    for name, raw in request.path_params.items():
        if NUL in str(raw):
            problems.add(name, "must not contain a NUL character", str(raw).replace(NUL, "\\0"))
        elif name in path_ints and _out_of_range(str(raw)):
            raise NotFound(f"no record with {name} {raw} (ids run from 1 to {MAX_ID})")
    query_ints = _int_params(route, "query_params")
    for name, raw in request.query_params.multi_items():
        if NUL in name or NUL in raw:
            problems.add(name.replace(NUL, "\\0"), "must not contain a NUL character", None)
        elif name in query_ints and _is_id(name) and _out_of_range(raw):
            problems.add(name, f"must be a record id between 1 and {MAX_ID}", raw)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, value in form.multi_items():
            if not isinstance(value, str):
                continue  # an uploaded file: its reader checks its content
            if NUL in name or NUL in value:
                problems.add(name.replace(NUL, "\\0"), "must not contain a NUL character", None)
            elif _is_id(name) and value.strip().lstrip("+-").isdigit() and _out_of_range(value):
                problems.add(name, f"must be a record id between 1 and {MAX_ID}", value)
    elif "json" in content_type and await request.body():
        try:
            body = await request.json()
        except ValueError:
            body = None  # malformed JSON: FastAPI's own validation reports it
        _walk(body, "", problems)
    problems.raise_if_any()


def _walk(value: Any, where: str, problems: ProblemCollector) -> None:
    if isinstance(value, str):
        if NUL in value:
            problems.add(where or "body", "must not contain a NUL character", None)
    elif isinstance(value, float):
        if not math.isfinite(value):
            problems.add(where or "body", "must be a finite number (not NaN or Infinity)", None)
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = where.split(".")
        key = parts[-1]
        in_id_list = key.isdigit() and len(parts) > 1 and parts[-2].endswith("_ids")
        if (_is_id(key) or in_id_list) and not 1 <= value <= MAX_ID:
            problems.add(where, f"must be a record id between 1 and {MAX_ID}", value)
        elif not -(2**63) <= value < 2**63:
            problems.add(where or "body", "is too large a number", str(value)[:40])
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if NUL in name:
                problems.add(where or "body", "a field name must not contain a NUL character")
                continue
            _walk(item, f"{where}.{name}" if where else name, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{where}.{index}" if where else str(index), problems)

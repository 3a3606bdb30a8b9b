"""The dependencies FastAPI reads for nearly every route carry their signature resolved once
(continuum/web/signatures.py), and it is the signature FastAPI would have evaluated."""

from __future__ import annotations

import inspect
import typing

import pytest
from fastapi.dependencies.utils import get_typed_signature

from continuum.web import concurrency, deps, signatures

EVERY_ROUTE = [deps.get_db, deps.posted_csrf, deps.get_actor, concurrency._request_slot]


@pytest.mark.parametrize("dependency", EVERY_ROUTE, ids=lambda d: d.__name__)
def test_signature_is_resolved_once_and_matches_the_annotations(dependency) -> None:  # type: ignore[no-untyped-def]
    kept = dependency.__dict__.get("__signature__")
    assert kept is not None, f"{dependency.__name__} is not @resolved"
    assert inspect.signature(dependency) is kept
    hints = typing.get_type_hints(dependency, include_extras=True)
    for name, parameter in kept.parameters.items():
        assert not isinstance(parameter.annotation, str), name
        assert parameter.annotation == hints[name], name
    assert [p.annotation for p in get_typed_signature(dependency).parameters.values()] == [
        hints[name] for name in kept.parameters
    ]


def test_resolved_keeps_the_function_itself() -> None:
    async def slot(request: int) -> typing.AsyncIterator[None]:
        yield

    assert signatures.resolved(slot) is slot
    assert inspect.isasyncgenfunction(slot)  # FastAPI tells generators by the function
    assert slot.__signature__.parameters["request"].annotation is int  # type: ignore[attr-defined]

"""Route matching that passes over a router none of whose paths can match the request.

FastAPI (0.16x) keeps each included router as a branch of the app and, for every request,
walks the branches in order, trying each route of each branch in turn (the scope saved and
restored around every try). With about 380 routes, a request for a route near the end
(``/healthz``, the later domains' pages) or for no route at all (a 404) tried them all:
measured on a 2-core machine, 5.7 ms of CPU for ``/healthz`` and 9.3 ms for a 404, against
2.7 and 3.9 ms with the filter (benchmarks/bench_route_matching.py).

``path_filtered(router)`` wraps one domain router in a router that first tests the path
against a single regular expression made of every route's own path pattern: a path none of
them matches is answered "no match" at once, and only a branch that can match is walked
route by route, as before. Branches are tried in the same order, so which route answers a
request, a 405 for a known path with another method, and the OpenAPI document are all
unchanged (tests/web/test_route_matching.py).
"""

from __future__ import annotations

import re
from typing import ClassVar

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class PathFilteredRouter(APIRouter):
    """Holds one router (included into it); matches a request only when some route of that
    router has a path pattern the request's path matches."""

    # Benchmarks turn this off to measure the walk without the filter.
    filtering: ClassVar[bool] = True

    def __init__(self, inner: APIRouter) -> None:
        super().__init__()
        self.inner = inner
        self._pattern: re.Pattern[str] | None = None
        self._pattern_of = -1  # how many routes the inner router had when it was built

    def pattern(self) -> re.Pattern[str] | None:
        """One expression matching any path one of the inner router's routes matches;
        None when a route has no path pattern of its own (then every request is walked)."""
        routes = self.inner.routes
        if self._pattern_of != len(routes):
            regexes = [getattr(route, "path_regex", None) for route in routes]
            # Each route's own pattern (anchored ^…$), its named groups unnamed: several
            # routes name the same parameter, which one expression may not repeat.
            parts = [_NAMED_GROUP.sub("(?:", r.pattern) for r in regexes if r is not None]
            whole = parts and len(parts) == len(regexes)
            self._pattern = re.compile("|".join(f"(?:{p})" for p in parts)) if whole else None
            self._pattern_of = len(routes)
        return self._pattern

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.filtering and scope["type"] == "http":
            pattern = self.pattern()
            if pattern is not None and pattern.match(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)


def path_filtered(router: APIRouter) -> PathFilteredRouter:
    """``router`` inside a ``PathFilteredRouter``, to be included where ``router`` was."""
    outer = PathFilteredRouter(router)
    outer.include_router(router)
    return outer

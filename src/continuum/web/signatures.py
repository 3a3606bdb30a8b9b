"""Dependencies whose signatures FastAPI reads once per route.

FastAPI reads a dependency's signature again for every route that uses it, evaluating its
string annotations (``from __future__ import annotations``) each time: in one app build,
``get_db`` and the request's database slot 1,446 times each, ``get_actor`` and
``posted_csrf`` 1,087 times each. Giving those few the signature resolved once, at import,
makes building the app's routes about a quarter cheaper (``benchmarks/bench_test_apps.py``:
each served process builds them as it starts). FastAPI gets the same parameters and the
same annotation objects it would have evaluated."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

Dependency = TypeVar("Dependency", bound=Callable[..., Any])


def resolved(dependency: Dependency) -> Dependency:
    """``dependency`` with its signature, string annotations evaluated, kept on it
    (``inspect.signature`` returns ``__signature__`` when a function has one)."""
    dependency.__signature__ = inspect.signature(dependency, eval_str=True)  # type: ignore[attr-defined]
    return dependency

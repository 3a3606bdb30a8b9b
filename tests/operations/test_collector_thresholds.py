"""The app and the ingest processes set the garbage collector's thresholds from the
programme's setting when they start (continuum.heap: Python's default made a full
collection pause every request for 110-190 ms under load); 0 keeps Python's; a value out
of range is refused with the allowed range."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from continuum.app import create_app
from continuum.config import Settings
from continuum.heap import MIDDLE, OLDEST, tune_collector
from tests.conftest import test_settings as settings_for


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_app_sets_the_thresholds_at_start_up(thresholds: None, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url).model_copy(update={"gc_young_threshold": 40_000})
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code in (200, 503)
        assert gc.get_threshold() == (40_000, MIDDLE, OLDEST)


def test_zero_keeps_pythons_thresholds(thresholds: None, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url).model_copy(update={"gc_young_threshold": 0})
    with TestClient(create_app(settings)):
        assert gc.get_threshold() == (700, 10, 10)
    assert tune_collector(0) == (700, 10, 10)


@pytest.mark.parametrize("value", [-1, 5, 699, 1_000_001])
def test_a_threshold_out_of_range_is_refused_with_the_range(value: int) -> None:
    with pytest.raises(ValidationError, match="outside 700–1,000,000 allocations"):
        Settings(gc_young_threshold=value)


def test_the_default_is_the_measured_one() -> None:
    assert Settings().gc_young_threshold == 50_000

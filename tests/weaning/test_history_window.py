"""The weaning chart's time axis: half an hour either side of the trials, never into the
future (a trial under way is charted up to now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from continuum.weaning import history
from continuum.weaning.models import WeaningTrial

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "utcnow", lambda: NOW)


def trial(start_h: float, end_h: float | None) -> WeaningTrial:
    return WeaningTrial(
        started_at=NOW - timedelta(hours=start_h),
        ended_at=None if end_h is None else NOW - timedelta(hours=end_h),
    )


def test_a_trial_under_way_is_charted_up_to_now_not_beyond() -> None:
    start, end = history.window([trial(2, None)])
    assert start == NOW - timedelta(hours=2, minutes=30)
    assert end == NOW


def test_an_ended_trial_gets_half_an_hour_after_its_end() -> None:
    start, end = history.window([trial(8, 5), trial(4, 3)])
    assert start == NOW - timedelta(hours=8, minutes=30)
    assert end == NOW - timedelta(hours=2, minutes=30)


def test_a_trial_that_ended_minutes_ago_stops_at_now() -> None:
    _, end = history.window([trial(1, 0.1)])
    assert end == NOW


def test_no_trials_no_window() -> None:
    assert history.window([]) is None

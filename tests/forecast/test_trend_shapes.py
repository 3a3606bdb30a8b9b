"""Spec table: trend shapes → a forecast (with its crossing and interval) or a refusal with
its reason. The fit is pure numbers: hours in, hours out."""

from __future__ import annotations

import numpy as np
import pytest

from continuum.forecast.trend import LINEAR, LOG, TrendOptions, changepoint, fit

RNG = np.random.default_rng(7)
HOURS = np.arange(0.0, 24.0, 1.0)  # 24 hourly values, now = 23 h, component since 0 h


def noisy(y: np.ndarray, sd: float) -> np.ndarray:
    return y + np.random.default_rng(3).normal(0, sd, len(y))


# name, values, line, rising, method, expected reason (None: a forecast), expected hours ahead
SHAPES = [
    ("steady linear rise", 10 + 0.5 * HOURS, 30.0, True, LINEAR, None, 17.0),
    ("noisy linear rise", noisy(10 + 0.5 * HOURS, 0.3), 30.0, True, LINEAR, None, 17.0),
    ("steady linear fall", 480 - 10 * HOURS, 200.0, False, LINEAR, None, 5.0),
    ("exponential rise (log-linear)", 5 * np.exp(0.05 * HOURS), 50.0, True, LOG, None, 23.05),
    ("exponential fall (log-linear)", 500 * np.exp(-0.03 * HOURS), 200.0, False, LOG, None, 7.54),
    ("flat, small scatter", noisy(np.full(24, 10.0), 0.1), 13.0, True, LINEAR, "no_trend", None),
    ("flat, large scatter", noisy(np.full(24, 10.0), 3.0), 13.0, True, LINEAR, "too_noisy", None),
    ("falling away from the line", 20 - 0.2 * HOURS, 30.0, True, LINEAR, "not_towards_line", None),
    ("already beyond the line", 25 + 0.5 * HOURS, 30.0, True, LINEAR, "already_crossed", None),
    ("slow rise, after 48 h", 10 + 0.05 * HOURS, 30.0, True, LINEAR, "beyond_horizon", None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "y", "line", "rising", "method", "reason", "ahead"), SHAPES)
def test_shape(
    name: str,
    y: np.ndarray,
    line: float,
    rising: bool,
    method: str,
    reason: str | None,
    ahead: float | None,
) -> None:
    tr = fit(HOURS, y, line, rising, 23.0, 0.0, method)
    assert tr.reason == reason, name
    if ahead is None:
        assert tr.hours_to_cross is None or reason == "beyond_horizon"
        assert tr.interval_h is None
        return
    assert tr.hours_to_cross == pytest.approx(ahead, abs=1.0)
    early, late = tr.interval_h  # type: ignore[misc]
    assert early is not None and late is not None
    assert early <= tr.hours_to_cross <= late
    assert tr.points == 24 and tr.fit_from_h == 0.0


def test_noise_widens_the_interval() -> None:
    clean = fit(HOURS, 10 + 0.5 * HOURS, 30.0, True, 23.0, 0.0)
    rough = fit(HOURS, noisy(10 + 0.5 * HOURS, 0.6), 30.0, True, 23.0, 0.0)
    width = [t.interval_h[1] - t.interval_h[0] for t in (clean, rough)]  # type: ignore[index,operator]
    assert width[0] < 0.5 < width[1]


def test_too_few_values() -> None:
    tr = fit(HOURS[:4], 10 + 0.5 * HOURS[:4], 30.0, True, 5.0, -10.0)
    assert tr.reason == "too_short" and tr.points == 4


def test_just_after_a_component_change() -> None:
    tr = fit(HOURS, 10 + 0.5 * HOURS, 30.0, True, 23.0, 20.0)
    assert tr.reason == "after_component_change"
    assert tr.details["hours_since_change"] == 3.0


def test_only_values_since_the_change_count() -> None:
    # a high old membrane lung before the change at 10 h must not make it "already crossed"
    y = np.where(HOURS < 10, 40.0, 10 + 0.5 * (HOURS - 10))
    tr = fit(HOURS, y, 30.0, True, 23.0, 10.0)
    assert tr.reason is None and tr.fit_from_h == 10.0
    assert tr.hours_to_cross == pytest.approx(27.0, abs=0.5)


def test_changepoint_keeps_the_new_slope() -> None:
    # flat for 14 h, then rising 2 per hour: the forecast follows the rise, not the average
    y = np.where(HOURS < 14, 10.0, 10 + 2 * (HOURS - 14)) + noisy(np.zeros(24), 0.2)
    assert changepoint(HOURS, y, TrendOptions()) in (13, 14, 15)
    tr = fit(HOURS, y, 40.0, True, 23.0, 0.0)
    assert tr.changepoint_h is not None and 12.0 <= tr.changepoint_h <= 15.0
    assert tr.hours_to_cross == pytest.approx(6.0, abs=1.0)


def test_no_changepoint_on_a_straight_line() -> None:
    assert changepoint(HOURS, noisy(10 + 0.5 * HOURS, 0.3), TrendOptions()) == 0


def test_theil_sen_matches_scipy() -> None:
    from scipy import stats

    from continuum.forecast.trend import theil_sen

    y = noisy(10 + 0.5 * HOURS, 0.8)
    for level in (0.8, 0.95):
        ours, ref = theil_sen(y, HOURS, level), stats.theilslopes(y, HOURS, alpha=level)
        assert ours.slope == pytest.approx(ref.slope)
        assert ours.intercept == pytest.approx(ref.intercept)
        assert (ours.low_slope, ours.high_slope) == pytest.approx((ref.low_slope, ref.high_slope))

"""The metrics arithmetic against values worked by hand (and against lifelines itself)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from continuum.quality import metrics_calc as calc

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def test_rate_per_1000_hours_with_the_exact_poisson_interval() -> None:
    # 2 events in 1,000 h: 2.0 per 1,000 h; Garwood 95 %: χ²(0.025, 4)/2 = 0.2422,
    # χ²(0.975, 6)/2 = 7.2247 (the classic table values).
    r = calc.rate(2, 1000)
    assert r.value == pytest.approx(2.0)
    assert r.low == pytest.approx(0.2422, abs=1e-4)
    assert r.high == pytest.approx(7.2247, abs=1e-4)
    # No event in 500 h: 0 with the "rule of 3.69" upper bound, scaled to 1,000 h.
    zero = calc.rate(0, 500)
    assert zero.value == 0 and zero.low == 0
    assert zero.high == pytest.approx(2 * 3.6889, abs=1e-3)
    # Per ECMO day: 6 units over 3 days.
    assert calc.rate(6, 3, per=1.0).value == pytest.approx(2.0)
    assert calc.rate(3, 0).value is None


def test_proportion_with_the_wilson_interval() -> None:
    # 3 of 10: Wilson 95 % 0.1078–0.6032 (Newcombe 1998, table I).
    p = calc.proportion(3, 10)
    assert p.value == pytest.approx(0.3)
    assert (p.low, p.high) == (pytest.approx(0.1078, abs=1e-4), pytest.approx(0.6032, abs=1e-4))
    assert p.percent == pytest.approx(30.0)
    assert calc.proportion(0, 0).value is None


def test_median_and_interquartile_range() -> None:
    s = calc.median_iqr([8, 1, 2, 3, 4, 5, 6, 7])
    assert (s.n, s.median, s.q1, s.q3) == (8, 4.5, 2.75, 6.25)
    assert calc.median_iqr([]).median is None


def test_kaplan_meier_with_censoring_matches_the_hand_product_limit() -> None:
    # Lungs: 10 h changed, 20 h came off with the patient (censored), 30 h and 40 h changed.
    # S(10) = 3/4; S(30) = 3/4 × 1/2 = 3/8; S(40) = 0. Median: first t with S ≤ 0.5 → 30 h.
    km = calc.kaplan_meier([10, 20, 30, 40], [True, False, True, True])
    steps = {p.t: p.survival for p in km.points}
    assert steps[10] == pytest.approx(0.75)
    assert steps[20] == pytest.approx(0.75)
    assert steps[30] == pytest.approx(0.375)
    assert steps[40] == pytest.approx(0.0)
    assert km.median == 30
    assert (km.n, km.events, km.censored) == (4, 3, 1)
    for p in km.points:
        assert p.low <= p.survival + 1e-9 and p.survival <= p.high + 1e-9


def test_kaplan_meier_agrees_with_lifelines_and_reports_an_unreached_median() -> None:
    from lifelines import KaplanMeierFitter

    durations = [5, 8, 8, 12, 20, 22, 30, 31]
    observed = [True, False, True, False, False, False, False, False]
    km = calc.kaplan_meier(durations, observed)
    ref = KaplanMeierFitter().fit(durations, observed).survival_function_.iloc[:, 0]
    for p in km.points:
        assert p.survival == pytest.approx(float(ref.loc[p.t]))
    assert km.median is None  # the curve stays above 50 %
    assert calc.kaplan_meier([], []).n == 0


def test_time_in_range_reuses_rosendaal_interpolation() -> None:
    # 0.2 → 0.6 over 4 h with range 0.3–0.5: in range for the middle half (2 h of 4 h);
    # then 0.6 → 0.4 over 2 h: in range the second half (1 h of 2 h). 3 of 6 h.
    samples = [(T0, 0.2), (T0 + timedelta(hours=4), 0.6), (T0 + timedelta(hours=6), 0.4)]
    t = calc.time_in_range(samples, 0.3, 0.5, max_gap_hours=24)
    assert t.inside == pytest.approx(3.0)
    assert t.observed == pytest.approx(6.0)
    assert t.fraction == pytest.approx(0.5)
    # A gap longer than the limit is left out of numerator and denominator.
    gap = [(T0, 0.4), (T0 + timedelta(hours=2), 0.4), (T0 + timedelta(hours=40), 0.9)]
    g = calc.time_in_range(gap, 0.3, 0.5, max_gap_hours=24)
    assert (g.inside, g.observed) == (pytest.approx(2.0), pytest.approx(2.0))
    pooled = calc.pooled_ttr([t, g])
    assert pooled.fraction == pytest.approx(5 / 8)
    assert calc.time_in_range(samples[:1], 0.3, 0.5, 24).fraction is None


@pytest.mark.parametrize(
    ("reason", "klass"),
    [
        ("end_of_run", None),
        (None, None),
        ("end_of_product_life", "planned"),
        ("protocol", "planned"),
        ("treatment_changed", "planned"),
        ("oxygenator_failure", "urgent"),
        ("thrombus", "urgent"),
        ("rupture", "urgent"),
        ("other", "unclassified"),
    ],
)
def test_stop_reasons_map_to_planned_or_urgent(reason: str | None, klass: str | None) -> None:
    assert calc.change_class(reason) == klass


def test_age_groups_follow_the_bounds() -> None:
    bounds = calc.AgeBounds(28, 18)
    at = date(2026, 6, 1)
    assert calc.age_group(date(2026, 5, 20), at, bounds) == "neonatal"
    assert calc.age_group(date(2026, 4, 1), at, bounds) == "paediatric"
    assert calc.age_group(date(2008, 6, 2), at, bounds) == "paediatric"  # 17 y 364 d
    assert calc.age_group(date(2008, 6, 1), at, bounds) == "adult"
    assert calc.age_group(None, at, bounds) is None


def test_complete_shifts_inside_a_stay() -> None:
    zone = ZoneInfo("Europe/London")  # winter: local = UTC
    start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    end = datetime(2026, 1, 6, 20, 0, tzinfo=UTC)
    shifts = calc.shifts_within(start, end, zone, 7, 19)
    # 5 Jan 19:00–6 Jan 07:00 (night) and 6 Jan 07:00–19:00 (day); the partial ones are not.
    assert [(s.name, s.start.astimezone(UTC).hour, s.end.astimezone(UTC).hour) for s in shifts] == [
        ("night", 19, 7),
        ("day", 7, 19),
    ]
    assert calc.shifts_within(end, start, zone, 7, 19) == []
    assert math.isclose(sum((s.end - s.start).total_seconds() for s in shifts) / 3600, 24.0)

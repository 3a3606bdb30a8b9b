"""Time in therapeutic range (Rosendaal FR et al., Thromb Haemost 1993;69:236-9).

Derived check vector (reference, not published): anti-Xa range 0.3–0.7 inclusive, samples
(h, value) (0, 0.1) (6, 0.4) (12, 0.8) (18, 0.5) (24, 0.2): continuous = (2 + 4.5 + 4 + 4)/24
= 0.6042 (confirmed).

DISCREPANCY: the reference gives the hourly-sampled form as 15/25 = 0.60. Counting by hand,
the interpolated values at 4 h (0.30), 14 h (0.70) and 22 h (0.30) lie exactly on the limits
and, with an inclusive range, are in range: below = 0,1,2,3,23,24 h (6); above = 11,12,13 h
(3); in range 16/25 = 0.64. The 0.60 is what naive floating point gives (0.8 − 0.1 =
0.7000000000000001 at 14 h counts as "above"). We test 0.64 and guard boundaries against
round-off; the reference's derived vector should be corrected.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuum.errors import ValidationFailed
from continuum.scores import ttr

VECTOR = [[0, 0.1], [6, 0.4], [12, 0.8], [18, 0.5], [24, 0.2]]


def test_continuous_derived_vector():
    result = ttr.ttr(VECTOR, 0.3, 0.7)
    assert result.value == pytest.approx(0.6042, abs=0.0001)
    assert result.interpretation["time_in_range"] == 14.5
    assert result.interpretation["time_below_range"] == 6.0  # 4 h + 2 h
    assert result.interpretation["time_above_range"] == 3.5  # 1.5 h + 2 h


def test_hourly_derived_vector():
    result = ttr.ttr(VECTOR, 0.3, 0.7, method="hourly")
    assert result.value == 0.64  # 16/25 — see the DISCREPANCY note above (reference: 0.60)
    assert result.interpretation["observed"] == 25
    assert result.interpretation["time_below_range"] == 6
    assert result.interpretation["time_above_range"] == 3


def test_iso_times_with_offsets_equal_hours():
    iso = [[f"2026-01-01T{h:02d}:00:00Z", v] for h, v in VECTOR[:-1]]
    iso.append(["2026-01-02T01:00:00+01:00", 0.2])  # = 2026-01-02T00:00Z
    assert ttr.ttr(iso, 0.3, 0.7).value == pytest.approx(0.6042, abs=0.0001)


def test_range_is_inclusive():
    assert ttr.ttr([[0, 0.3], [10, 0.3]], 0.3, 0.7).value == 1.0
    assert ttr.ttr([[0, 0.7], [10, 0.7]], 0.3, 0.7).value == 1.0
    assert ttr.ttr([[0, 0.3], [10, 0.3]], 0.3, 0.7, method="hourly").value == 1.0


def test_gap_longer_than_max_is_not_interpolated():
    # 0–6 h in range; 6–56 h (50 h gap) excluded; 56–62 h below.
    samples = [[0, 0.5], [6, 0.5], [56, 0.1], [62, 0.1]]
    result = ttr.ttr(samples, 0.3, 0.7, max_gap_hours=24)
    assert result.value == 0.5
    assert result.interpretation["observed"] == 12
    assert any("not interpolated" in w for w in result.warnings)
    hourly = ttr.ttr(samples, 0.3, 0.7, max_gap_hours=24, method="hourly")
    assert hourly.interpretation["observed"] == 14  # 0..6 and 56..62


def test_inr_style_days_with_56_day_gap():
    days = 24.0
    samples = [[0, 2.0], [14 * days, 4.0]]  # INR rises 2 → 4 over 14 days, range 2–3
    result = ttr.ttr(samples, 2.0, 3.0, max_gap_hours=56 * days)
    assert result.value == 0.5


def test_duplicates_merged_and_order_ignored():
    samples = [[12, 0.8], [0, 0.1], [6, 0.3], [6, 0.5], [18, 0.5], [24, 0.2]]
    assert ttr.ttr(samples, 0.3, 0.7).value == pytest.approx(0.6042, abs=0.0001)


@pytest.mark.parametrize(
    ("samples", "low", "high"),
    [
        ([[0, 0.5]], 0.3, 0.7),
        ([[0, 0.5], [0, 0.6]], 0.3, 0.7),
        ([[0, 0.5], [100, 0.6]], 0.3, 0.7),
        ([[0, "x"], [1, 0.5]], 0.3, 0.7),
        ([["yesterday", 0.5], [1, 0.5]], 0.3, 0.7),
        ([["2026-01-01T00:00", 0.5], ["2026-01-01T01:00Z", 0.5]], 0.3, 0.7),
        ([[0, 0.5], [1, 0.5]], 0.7, 0.3),
    ],
)
def test_refusals_name_a_field(samples, low, high):
    with pytest.raises(ValidationFailed) as err:
        ttr.ttr(samples, low, high)
    assert err.value.problems[0].field in {"samples", "low"}


sample_lists = st.lists(
    st.tuples(st.floats(0, 200), st.floats(0, 2)), min_size=2, max_size=30, unique_by=lambda s: s[0]
)


@given(samples=sample_lists, method=st.sampled_from(ttr.METHODS))
def test_fractions_add_to_one(samples, method):
    try:
        result = ttr.ttr([list(s) for s in samples], 0.3, 0.7, max_gap_hours=48, method=method)
    except ValidationFailed:
        return
    i = result.interpretation
    assert 0 <= result.value <= 1
    assert result.value + i["fraction_below"] + i["fraction_above"] == pytest.approx(1, abs=1e-3)

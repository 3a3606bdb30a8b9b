"""Observed vs expected deaths against RESP / SAVE class survival
(docs/clinical/reference.md §7.7)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from continuum.control_charts import observed_expected as oe


def test_class_survival_comes_from_the_scores_package() -> None:
    assert oe.class_survival("RESP", 6).survival == 0.92
    assert oe.class_survival("RESP", -6).risk_class == "V"
    assert oe.class_survival("SAVE", 5).risk_class == "II"  # exactly 5 is class II
    assert oe.class_survival("SAVE", 5).survival == 0.58
    assert oe.class_survival("SAVE", -6).survival == 0.30
    assert "§1.3" in oe.class_survival("SAVE", 0).source
    with pytest.raises(ValueError, match=r"score = 'PRESET'.*'RESP' or 'SAVE'"):
        oe.class_survival("PRESET", 3)  # type: ignore[arg-type]


def test_poisson_binomial_matches_enumeration() -> None:
    risks = np.array([0.1, 0.5, 0.8, 0.3])
    pmf = oe.poisson_binomial(risks)
    expected = np.zeros(5)
    for outcome in itertools.product((0, 1), repeat=4):
        expected[sum(outcome)] += np.prod(
            [r if y else 1 - r for r, y in zip(risks, outcome, strict=True)]
        )
    assert pmf == pytest.approx(expected)
    assert pmf.sum() == pytest.approx(1)


def test_garwood_interval_known_values() -> None:
    """Exact Poisson 95 % limits (standard tables): 0 → (0, 3.689); 8 → (3.454, 15.763)."""
    assert oe.garwood(0) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert oe.garwood(8) == pytest.approx((3.454, 15.763), abs=1e-3)


def test_a_cohort_doing_as_the_scores_predict() -> None:
    survival = [0.57] * 40 + [0.33] * 20  # RESP III and IV
    died = [1] * 17 + [0] * 23 + [1] * 13 + [0] * 7
    found = oe.observed_vs_expected(survival, died)
    assert found.runs == 60
    assert found.observed_deaths == 30
    assert found.expected_deaths == pytest.approx(40 * 0.43 + 20 * 0.67)
    assert found.ratio == pytest.approx(30 / 30.6)
    assert found.ratio_low < 1 < found.ratio_high
    assert found.expected_low < 30 < found.expected_high
    assert found.p_value > 0.5
    assert found.observed_survival == pytest.approx(0.5)
    assert "Garwood" in found.formula and "§7.7" in found.source


def test_a_cohort_doing_much_better_falls_below_the_range() -> None:
    """Like the published respiratory example: 8 deaths in 49 runs where the classes predict
    many more."""
    survival = [0.57] * 25 + [0.33] * 24
    died = [1] * 8 + [0] * 41
    found = oe.observed_vs_expected(survival, died)
    assert found.observed_deaths == 8 < found.expected_low
    assert found.ratio_high < 1
    assert found.p_value < 0.001


def test_no_deaths_gives_a_zero_lower_limit() -> None:
    found = oe.observed_vs_expected([0.9, 0.8], [0, 0])
    assert found.ratio == 0 and found.ratio_low == 0 and found.ratio_high > 0


@pytest.mark.parametrize(
    "survival, died, names",
    [
        ([0.5, 1.0], [0, 0], ["predicted_survival[1]", "1.0", "0 < value < 1"]),
        ([0.5], [3], ["died[0]", "3", "1 (died) or 0"]),
        ([0.5], [0, 1], ["died", "2 values"]),
    ],
)
def test_bad_inputs_name_field_value_and_range(
    survival: list[float], died: list[int], names: list[str]
) -> None:
    with pytest.raises(ValueError) as refused:
        oe.observed_vs_expected(survival, died)
    for name in names:
        assert name in str(refused.value)

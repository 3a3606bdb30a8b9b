"""Risk-adjusted CUSUM weights and charts, VLAD and the O–E CUSUM against the worked
examples of docs/clinical/reference.md §9 (W1 weights, W2 O − E) and §7.4–7.5."""

from __future__ import annotations

import math

import pytest

from continuum.control_charts import cusum, vlad, weights


def parsonnet_risk(score: float) -> float:
    """The example model of §9: logit p = −3.68 + 0.077 × Parsonnet."""
    return 1 / (1 + math.exp(-(-3.68 + 0.077 * score)))


@pytest.mark.parametrize(
    "parsonnet, outcome, odds_ratio, printed",
    [
        (0, 0, 2, -0.024),
        (0, 1, 2, 0.669),
        (50, 0, 2, -0.433),
        (50, 1, 2, 0.26),
        (0, 0, 0.5, 0.012),
        (0, 1, 0.5, -0.681),
        (50, 0, 0.5, 0.316),
        (50, 1, 0.5, -0.377),
    ],
)
def test_weights_match_the_worked_example_to_the_printed_precision(
    parsonnet: int, outcome: int, odds_ratio: float, printed: float
) -> None:
    w = weights.llr_weight(parsonnet_risk(parsonnet), outcome, odds_ratio)
    decimals = len(str(printed).split(".")[1])
    assert round(w, decimals) == printed


def test_the_example_risks_are_those_printed() -> None:
    assert round(parsonnet_risk(0), 3) == 0.025
    assert round(parsonnet_risk(50), 3) == 0.542


def test_weights_carry_their_formula_units_and_source() -> None:
    found = weights.llr_weights([0.2, 0.3], [0, 1], 2)
    assert len(found.values) == 2
    assert "ln" in found.formula and "§7.4" in found.source
    assert found.inputs == {"odds_ratio": 2.0, "null_odds_ratio": 1.0, "patients": 2}


@pytest.mark.parametrize(
    "parsonnet, outcome, printed",
    [(0, 0, -0.025), (0, 1, 0.975), (50, 0, -0.542), (50, 1, 0.458)],
)
def test_observed_minus_expected_matches_the_worked_example(
    parsonnet: int, outcome: int, printed: float
) -> None:
    (value,) = vlad.observed_minus_expected([round(parsonnet_risk(parsonnet), 3)], [outcome])
    assert round(value, 3) == printed


def test_vlad_is_the_running_total_of_expected_minus_observed() -> None:
    result = vlad.vlad([0.025, 0.542, 0.025, 0.542], [0, 0, 1, 1])
    assert result.increments == pytest.approx((0.025, 0.542, -0.975, -0.458))
    assert result.values == pytest.approx((0.025, 0.567, -0.408, -0.866))
    assert result.observed_deaths == 2
    assert result.expected_deaths == pytest.approx(1.134)
    assert result.lives_saved == pytest.approx(-0.866)
    assert "§7.5" in result.source


def test_a_run_of_deaths_signals_the_deterioration_chart_and_resets_it() -> None:
    risks = [0.3] * 12
    outcomes = [1] * 12
    chart = cusum.ra_cusum(risks, outcomes, 2, h=2.0)
    w = weights.llr_weight(0.3, 1, 2)  # ≈ 0.43
    crossing = math.floor(2.0 / w)  # S after k deaths = k·w; first k with k·w > 2 is index 4
    assert chart.signals[0] == crossing
    assert chart.values[crossing] > 2.0 >= chart.values[crossing - 1]
    assert chart.values[crossing + 1] == pytest.approx(w)  # restarted from 0
    assert chart.resets == chart.signals
    assert len(chart.signals) == 12 // (crossing + 1)
    assert chart.label.startswith("deterioration")


def test_without_reset_the_chart_signals_once_per_crossing() -> None:
    chart = cusum.ra_cusum([0.3] * 12, [1] * 12, 2, h=2.0, reset=False)
    assert len(chart.signals) == 1 and chart.resets == ()
    assert chart.values[-1] == pytest.approx(12 * weights.llr_weight(0.3, 1, 2))


def test_survivors_keep_the_deterioration_chart_at_zero_and_raise_the_improvement_one() -> None:
    worse, better = cusum.both_charts([0.5] * 20, [0] * 20, 4.5, 2.0)
    assert set(worse.values) == {0.0} and worse.signals == ()
    assert better.odds_ratio == 0.5 and better.label.startswith("improvement")
    step = math.log(1 / 0.75)  # survived, p = 0.5, RA = ½: ln(1 / (1 − p + p/2))
    assert better.weights[0] == pytest.approx(step)
    assert better.signals[0] == math.floor(2.0 / step)


def test_oe_reference_value_is_the_optimal_one() -> None:
    assert vlad.reference_value(0.4, 2) == pytest.approx(0.4 * (1 - math.log(2)) / math.log(2))
    assert vlad.reference_value(0.4, 2) == pytest.approx(0.4 * 0.4427, abs=1e-4)
    assert vlad.reference_value(0.4, 0.5) == pytest.approx(-0.4 * 0.2787, abs=1e-4)


def test_oe_cusum_accumulates_observed_minus_expected_less_k() -> None:
    risks, outcomes = [0.4, 0.4, 0.4, 0.4], [1, 1, 0, 1]
    chart = vlad.oe_cusum(risks, outcomes, 2, h=0.8)
    k = vlad.reference_value(0.4, 2)
    first = 0.6 - k
    assert chart.values[0] == pytest.approx(first)
    assert chart.values[1] == pytest.approx(2 * first)
    assert chart.signals == (1,) and chart.resets == (1,)
    assert chart.values[2] == 0.0  # restarted, then a survivor: max(0, −0.4 − k)
    better = vlad.oe_cusum(risks, [0, 0, 0, 0], 0.5, h=1.0)
    assert better.values[0] == pytest.approx(0.4 + vlad.reference_value(0.4, 0.5))
    assert better.k < 0 and "improvement" in better.label


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: weights.llr_weights([0.2, 1.0], [0, 1], 2), ["risks[1]", "1.0", "0 < value < 1"]),
        (lambda: weights.llr_weights([0.2, 0.0], [0, 1], 2), ["risks[1]", "0.0", "0 < value < 1"]),
        (lambda: weights.llr_weights([-0.1], [0], 2), ["risks[0]", "-0.1", "0 < value < 1"]),
        (lambda: weights.llr_weights([0.2], [0], 0), ["odds_ratio", "0", "odds_ratio > 0"]),
        (lambda: weights.llr_weights([0.2], [0], -2), ["odds_ratio", "-2", "odds_ratio > 0"]),
        (lambda: weights.llr_weights([0.2], [0], 1), ["odds_ratio", "1", "≠ 1"]),
        (lambda: weights.llr_weights([0.2], [2], 2), ["outcomes[0]", "2", "1 (died) or 0"]),
        (lambda: weights.llr_weights([0.2], [0, 1], 2), ["outcomes", "2 values", "1 risks"]),
        (lambda: weights.llr_weights([], [], 2), ["risks", "empty"]),
        (lambda: weights.llr_weights(["x"], [0], 2), ["risks[0]", "'x'", "not a number"]),
        (lambda: cusum.ra_cusum([0.2], [0], 2, h=0), ["h", "0", "h > 0"]),
        (lambda: cusum.ra_cusum([0.2], [0], 2, h=-1.5), ["h", "-1.5", "h > 0"]),
        (lambda: vlad.oe_cusum([0.2], [0], 2, h=0), ["h", "0", "h > 0"]),
        (lambda: vlad.oe_cusum([0.2], [0], 0, h=1), ["q_a", "0", "q_a > 0"]),
        (lambda: vlad.vlad([1.2], [0]), ["risks[0]", "1.2", "0 < value < 1"]),
    ],
)
def test_bad_inputs_are_refused_naming_field_value_and_range(call, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as refused:
        call()
    for name in names:
        assert name in str(refused.value), str(refused.value)

"""In-control run length by the Markov chain, checked against simulation, and the limit h
chosen from false alarms per year (docs/clinical/reference.md §7.6)."""

from __future__ import annotations

import numpy as np
import pytest

from continuum.control_charts import run_length


def risk_mix(count: int = 200, seed: int = 5) -> np.ndarray:
    """A mixed programme: Parsonnet-model risks from 0.025 to about 0.85."""
    scores = np.random.default_rng(seed).integers(0, 72, count)
    return 1 / (1 + np.exp(-(-3.68 + 0.077 * scores)))


@pytest.mark.parametrize("odds_ratio, h", [(2.0, 2.5), (0.5, 2.0)])
def test_markov_arl_agrees_with_simulation_within_a_few_percent(
    odds_ratio: float, h: float
) -> None:
    risks = risk_mix()
    markov = run_length.arl_markov(risks, odds_ratio, h, states=600)
    simulated = run_length.arl_simulated(risks, odds_ratio, h, charts=3000, seed=11)
    assert simulated.standard_error is not None
    assert abs(markov.arl / simulated.arl - 1) < 0.05, (markov.arl, simulated.arl)
    assert abs(markov.arl - simulated.arl) < 4 * simulated.standard_error
    assert markov.units.startswith("patients") and "§7.6" in markov.source


def test_more_states_converge() -> None:
    risks = risk_mix()
    coarse = run_length.arl_markov(risks, 2, 4.5, states=150).arl
    fine = run_length.arl_markov(risks, 2, 4.5, states=600).arl
    finer = run_length.arl_markov(risks, 2, 4.5, states=1200).arl
    assert abs(finer / fine - 1) < 0.01
    assert abs(finer / coarse - 1) < 0.03


def test_arl_grows_with_h_and_shrinks_when_out_of_control() -> None:
    risks = risk_mix()
    arls = [run_length.arl_markov(risks, 2, h).arl for h in (1.0, 2.0, 3.0, 4.5)]
    assert arls == sorted(arls)
    worse = run_length.arl_markov(risks, 2, 4.5, true_odds_ratio=2.0).arl
    assert worse < arls[-1] / 10


def test_single_risk_chain_matches_the_simple_case() -> None:
    """One risk: every death adds ln 2 − ln(1 + p), every survivor −ln(1 + p). With h just
    below one death's weight, S signals at the first death: ARL = 1/p (geometric)."""
    p = 0.2
    died = np.log(2) - np.log(1 + p)
    found = run_length.arl_markov([p], 2, h=died * 0.999, states=400)
    assert found.arl == pytest.approx(1 / p, rel=0.01)


def test_choose_h_gives_the_wanted_false_alarms_per_year() -> None:
    risks = risk_mix()
    limit = run_length.choose_h(risks, 2, runs_per_year=40, false_alarms_per_year=0.2)
    assert limit.target_arl == pytest.approx(200)
    assert limit.run_length.arl == pytest.approx(200, rel=0.005)
    assert limit.run_length.false_alarms_per_year(40) == pytest.approx(0.2, rel=0.01)
    check = run_length.arl_markov(risks, 2, limit.h)
    assert check.arl == pytest.approx(limit.run_length.arl)
    assert 0 < limit.h < 4.5


def test_choose_h_for_a_rare_alarm_needs_a_higher_limit() -> None:
    risks = risk_mix()
    often = run_length.choose_h(risks, 2, 40, 1).h
    rarely = run_length.choose_h(risks, 2, 40, 0.1).h
    assert rarely > often


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: run_length.arl_markov([0.2, 1.5], 2, 4), ["risks[1]", "1.5", "0 < value < 1"]),
        (lambda: run_length.arl_markov([0.2], 2, 0), ["h", "0", "h > 0"]),
        (lambda: run_length.arl_markov([0.2], 0, 4), ["odds_ratio", "0", "> 0"]),
        (lambda: run_length.arl_markov([0.2], -1, 4), ["odds_ratio", "-1", "> 0"]),
        (lambda: run_length.arl_markov([0.2], 2, 4, states=5), ["states", "5", "10–2000"]),
        (
            lambda: run_length.choose_h([0.2], 2, 40, 0),
            ["false_alarms_per_year", "0", "> 0"],
        ),
        (lambda: run_length.choose_h([0.2], 2, -3, 1), ["runs_per_year", "-3", "> 0"]),
    ],
)
def test_bad_inputs_are_refused_naming_field_value_and_range(call, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as refused:
        call()
    for name in names:
        assert name in str(refused.value), str(refused.value)

"""Trial steps must follow the protocol: stages in order, time forwards, settings downwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from continuum.weaning.protocols import PROTOCOLS, order_problems

T0 = datetime(2026, 1, 1, 8, tzinfo=UTC)
SWEEP_OFF = PROTOCOLS["sweep_off"]


def fields(problems: list) -> list[str]:  # type: ignore[type-arg]
    return [p.field for p in problems]


def test_the_first_step_is_the_baseline() -> None:
    assert fields(order_problems(SWEEP_OFF, "during", T0, {}, None)) == ["stage"]
    assert order_problems(SWEEP_OFF, "baseline", T0, {"sweep_flow": 2}, None) == []


def test_sweep_off_then_repeated_gases_then_end() -> None:
    prev = ("baseline", T0, {"sweep_flow": 2.0})
    assert order_problems(SWEEP_OFF, "sweep_off", T0 + timedelta(minutes=5), {}, prev) == []
    prev = ("during", T0 + timedelta(hours=1), {})
    assert order_problems(SWEEP_OFF, "during", T0 + timedelta(hours=2), {}, prev) == []


def test_a_stage_going_backwards_is_refused() -> None:
    prev = ("during", T0 + timedelta(hours=1), {})
    problems = order_problems(SWEEP_OFF, "baseline", T0 + timedelta(hours=2), {}, prev)
    assert fields(problems) == ["stage"]
    assert "cannot follow 'during'" in problems[0].message


def test_a_step_earlier_than_the_previous_one_is_refused() -> None:
    prev = ("sweep_off", T0 + timedelta(hours=1), {})
    assert fields(order_problems(SWEEP_OFF, "during", T0, {}, prev)) == ["at"]


def test_sweep_must_be_off_during_a_sweep_off_trial() -> None:
    prev = ("sweep_off", T0, {})
    problems = order_problems(SWEEP_OFF, "during", T0, {"sweep_flow": 1.5}, prev)
    assert fields(problems) == ["sweep_flow"]


def test_sweep_reduction_may_not_raise_the_sweep() -> None:
    proto = PROTOCOLS["sweep_reduction"]
    prev = ("sweep_reduced", T0, {"sweep_flow": 2.0})
    problems = order_problems(proto, "sweep_reduced", T0, {"sweep_flow": 3.0}, prev)
    assert fields(problems) == ["sweep_flow"]
    assert "higher than the previous step's 2" in problems[0].message


def test_va_flow_steps_in_order() -> None:
    proto = PROTOCOLS["va_flow_reduction"]
    prev = ("flow_66", T0, {"blood_flow": 2.6})
    assert order_problems(proto, "flow_33", T0, {"blood_flow": 1.3}, prev) == []
    assert fields(order_problems(proto, "flow_66", T0, {"blood_flow": 2.6}, prev)) == ["stage"]


def test_an_unknown_stage_names_the_allowed_ones() -> None:
    problems = order_problems(SWEEP_OFF, "clamp", T0, {}, None)
    assert "baseline, sweep_off, during, end" in problems[0].message

"""Oxygen for a transport (docs/clinical/reference.md §8.1): the worked example, the reserve
pressure, several cylinders, the safety factor, and refusals that name the field."""

from __future__ import annotations

import pytest

from continuum.calculators import run_calculator
from continuum.errors import ValidationFailed
from continuum.physiology.transport_supplies import (
    battery_sufficient,
    oxygen_duration,
    oxygen_litres,
)


def test_worked_example_10_l_at_200_bar_for_10_l_min() -> None:
    # 10 L × 200 bar = 2,000 L; sweep 4 + ventilator 6 = 10 L/min → 200 min;
    # a 90-min transfer × 2 = 180 min needed → sufficient
    r = oxygen_duration(10, 200, 4, 6, expected_min=90, safety_factor=2)
    assert r.value == 200.0 and r.unit == "min"
    assert r.interpretation == {
        "litres_o2": 2000.0,
        "flow_l_min": 10.0,
        "minutes": 200.0,
        "needed_min": 180.0,
        "sufficient": True,
    }
    assert "[S]" in r.source and "[U]" in r.source and "§8.1" in r.source
    assert not r.warnings


def test_reserve_cylinders_and_an_insufficient_supply() -> None:
    assert oxygen_litres(10, 200, reserve_bar=20, cylinders=2) == 3600.0
    r = oxygen_duration(10, 100, 8, 0, expected_min=90, safety_factor=2)
    assert r.value == 125.0 and r.interpretation["sufficient"] is False
    assert "125 min is less than the 180 min needed" in r.warnings[0]
    low = oxygen_duration(10, 15, 4, reserve_bar=20)
    assert low.value == 0.0 and "reserve" in low.warnings[-1]
    assert battery_sufficient(120, 60, 2) and not battery_sufficient(119, 60, 2)


def test_refusals_name_the_field() -> None:
    with pytest.raises(ValidationFailed) as err:
        run_calculator(
            "transport_oxygen",
            {"cylinder_volume_l": 10, "cylinder_pressure_bar": -5, "sweep_l_min": 4},
        )
    assert err.value.problems[0].field == "cylinder_pressure_bar"
    assert "0–300 bar" in err.value.problems[0].message
    with pytest.raises(ValidationFailed) as err:
        oxygen_duration(10, 200, 0, 0)
    assert err.value.problems[0].field == "sweep_l_min"
    with pytest.raises(ValidationFailed) as err:
        oxygen_duration(10, -1, 4)
    assert err.value.problems[0].field == "cylinder_pressure_bar"

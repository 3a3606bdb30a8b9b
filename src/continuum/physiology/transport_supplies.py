"""Oxygen and battery for an ECMO transport (docs/clinical/reference.md §8.1).

Oxygen in a cylinder, at atmospheric pressure (Boyle's law, temperature constant, gas ideal):

    litres O2 ≈ water volume (L) × (cylinder pressure − reserve pressure) (bar) × cylinders

1 bar is close to one atmosphere, so a 10 L cylinder at 200 bar holds about 2,000 L. Real
oxygen is slightly less compressible than an ideal gas at 200 bar, so this slightly
*over*-states the content (a few per cent) [U]; the reserve pressure (a cylinder is changed
before it is empty) and the safety factor cover it.

    minutes = litres O2 / (sweep gas flow + transport-ventilator consumption) (L/min)   [S]

(duration = litres available / flow: respiratorytherapyzone.com "How to calculate oxygen
tank duration"; medicalalgorithms.com "oxygen and respiratory supplies" [S]). The oxygen
suffices when minutes ≥ expected duration × safety factor (a programme setting, [U]
default 2). Batteries: the console's and the pump's stated run time against the same
expected duration × safety factor.

Pure: no database or web imports.
"""

from __future__ import annotations

from continuum.errors import FieldProblem, ValidationFailed
from continuum.physiology.result import CalculatorResult, rounded

FORMULA = (
    "litres O2 = water volume (L) × (pressure − reserve) (bar) × cylinders; "
    "minutes = litres O2 / (sweep + ventilator O2) (L/min); "
    "sufficient when minutes ≥ expected duration × safety factor"
)
SOURCE = (
    "Boyle's law (pressure × volume constant; 1 bar ≈ 1 atm) [U]; duration = litres / flow "
    "(respiratorytherapyzone.com, medicalalgorithms.com) [S]; safety factor a programme "
    "setting [U] (docs/clinical/reference.md §8.1)"
)


def oxygen_litres(
    cylinder_volume_l: float, pressure_bar: float, reserve_bar: float = 0.0, cylinders: int = 1
) -> float:
    """Litres of oxygen at atmospheric pressure above the reserve pressure."""
    return cylinder_volume_l * max(0.0, pressure_bar - reserve_bar) * cylinders


def oxygen_duration(
    cylinder_volume_l: float,
    cylinder_pressure_bar: float,
    sweep_l_min: float,
    ventilator_l_min: float = 0.0,
    cylinders: int = 1,
    reserve_bar: float = 0.0,
    expected_min: float | None = None,
    safety_factor: float = 2.0,
) -> CalculatorResult:
    """Minutes of oxygen at the sweep (and transport-ventilator) flow, and whether that
    covers the expected duration × the safety factor."""
    problems: list[FieldProblem] = []
    if cylinder_volume_l <= 0:
        problems.append(
            FieldProblem("cylinder_volume_l", "cylinder water volume must be above 0 L",
                         cylinder_volume_l)
        )  # fmt: skip
    if cylinder_pressure_bar < 0:
        problems.append(
            FieldProblem("cylinder_pressure_bar",
                         f"cylinder pressure {cylinder_pressure_bar:g} bar is negative; "
                         "allowed 0–300 bar", cylinder_pressure_bar)
        )  # fmt: skip
    flow = sweep_l_min + ventilator_l_min
    if flow <= 0:
        problems.append(
            FieldProblem("sweep_l_min", "sweep + ventilator oxygen flow must be above 0 L/min",
                         sweep_l_min)
        )  # fmt: skip
    if problems:
        raise ValidationFailed(problems)
    litres = oxygen_litres(cylinder_volume_l, cylinder_pressure_bar, reserve_bar, cylinders)
    minutes = litres / flow
    interpretation: dict[str, object] = {
        "litres_o2": rounded(litres, 0),
        "flow_l_min": rounded(flow, 2),
        "minutes": rounded(minutes, 0),
    }
    warnings: list[str] = []
    if expected_min is not None:
        needed = expected_min * safety_factor
        interpretation["needed_min"] = rounded(needed, 0)
        interpretation["sufficient"] = minutes >= needed
        if minutes < needed:
            warnings.append(
                f"oxygen for {minutes:.0f} min is less than the {needed:.0f} min needed "
                f"({expected_min:g} min × safety factor {safety_factor:g})"
            )
    if cylinder_pressure_bar <= reserve_bar:
        warnings.append("cylinder at or below its reserve pressure: change it")
    return CalculatorResult(
        name="transport_oxygen",
        value=rounded(minutes, 1),
        unit="min",
        interpretation=interpretation,
        inputs={
            "cylinder_volume_l": cylinder_volume_l,
            "cylinder_pressure_bar": cylinder_pressure_bar,
            "sweep_l_min": sweep_l_min,
            "ventilator_l_min": ventilator_l_min,
            "cylinders": cylinders,
            "reserve_bar": reserve_bar,
            "expected_min": expected_min,
            "safety_factor": safety_factor,
        },
        formula=FORMULA,
        source=SOURCE,
        warnings=tuple(warnings),
    )


def battery_sufficient(run_time_min: float, expected_min: float, safety_factor: float) -> bool:
    """A battery covers the trip when its run time ≥ expected duration × safety factor."""
    return run_time_min >= expected_min * safety_factor

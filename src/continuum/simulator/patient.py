"""The simulated patient: body size, native lung and heart, metabolism, volume status."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from continuum.errors import FieldProblem

MODES: tuple[str, ...] = ("VV", "VA")


@dataclass(frozen=True)
class Patient:
    """Patient parameters.

    ``native_lung`` and ``native_heart`` are fractions of normal function (0–1):
    the native-lung shunt fraction is ``1 − native_lung`` and native cardiac output is
    ``native_heart × cardiac index 3.0 L/min/m² × BSA`` (× 1.15 hyperdynamic in VV sepsis).
    """

    weight_kg: float = 80.0
    height_cm: float = 175.0
    native_lung: float = 0.12
    native_heart: float = 1.0
    hb_g_dl: float = 10.0
    vo2_ml_kg_min: float = 3.3
    vent_fio2: float = 0.5
    cvp_mmhg: float = 9.0
    hr_min: float = 95.0
    temp_c: float = 36.9
    hyperdynamic: float = 1.3
    # Ventilator (docs/clinical/reference.md §3.8): "rest" settings on ECMO by default;
    # spontaneous = awake on pressure support, the rate driven by PaCO2.
    peep_cmh2o: float = 12.0
    driving_pressure_cmh2o: float = 12.0
    vent_rate_min: float = 14.0
    spontaneous: bool = False

    @property
    def bsa_m2(self) -> float:
        """Mosteller body-surface area (m²)."""
        return math.sqrt(self.height_cm * self.weight_kg / 3600.0)

    @property
    def vo2_ml_min(self) -> float:
        return self.vo2_ml_kg_min * self.weight_kg

    @property
    def normal_cardiac_output(self) -> float:
        return 3.0 * self.bsa_m2

    def problems(self) -> list[FieldProblem]:
        """Out-of-range parameters, each naming the field, value and allowed range."""
        out: list[FieldProblem] = []
        for name, (low, high) in PATIENT_LIMITS.items():
            value = getattr(self, name)
            if not (isinstance(value, int | float) and low <= value <= high):
                out.append(
                    FieldProblem(
                        f"patient.{name}", f"{name} must be {low:g}–{high:g}; got {value}", value
                    )
                )
        return out

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["bsa_m2"] = round(self.bsa_m2, 3)
        data["vo2_ml_min"] = round(self.vo2_ml_min, 1)
        return data


PATIENT_LIMITS: dict[str, tuple[float, float]] = {
    "weight_kg": (30.0, 250.0),
    "height_cm": (120.0, 230.0),
    "native_lung": (0.0, 1.0),
    "native_heart": (0.05, 1.5),
    "hb_g_dl": (6.0, 16.0),
    "vo2_ml_kg_min": (1.5, 6.0),
    "vent_fio2": (0.21, 1.0),
    "cvp_mmhg": (2.0, 20.0),
    "hr_min": (40.0, 160.0),
    "temp_c": (33.0, 39.5),
    "hyperdynamic": (0.5, 2.0),
    "peep_cmh2o": (0.0, 25.0),
    "driving_pressure_cmh2o": (4.0, 30.0),
    "vent_rate_min": (4.0, 40.0),
}


def default_patient(mode: str) -> Patient:
    """A typical adult on each mode: severe ARDS on VV, cardiogenic shock on femoral VA."""
    if mode == "VA":
        return Patient(
            native_lung=0.7,
            native_heart=0.15,
            vent_fio2=0.4,
            hr_min=105.0,
            hyperdynamic=1.0,
            hb_g_dl=10.5,
            vent_rate_min=10.0,
        )
    return Patient()

"""Observation vocabulary: the stored codes, their units, plausible ranges and unit conversions.

The single source of truth for docs/contracts.md §1. Pure: no database or web imports.
Every stored observation value is in the unit given here; inputs in other units are
converted on the way in with :func:`normalise`, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from continuum.errors import FieldProblem, ValidationFailed


@dataclass(frozen=True)
class Code:
    code: str
    unit: str
    meaning: str
    low: float
    high: float
    group: str
    loinc: str | None = None

    @property
    def range_text(self) -> str:
        return f"{_fmt(self.low)}–{_fmt(self.high)} {self.unit}".strip()


def _fmt(x: float) -> str:
    return f"{x:g}"


_C = Code
CODES: dict[str, Code] = {
    c.code: c
    for c in [
        _C("blood_flow", "L/min", "ECMO blood flow", 0, 10, "circuit"),
        _C("pump_speed", "rpm", "pump speed", 0, 10000, "circuit"),
        _C("p_access", "mmHg", "drainage (pre-pump) pressure", -400, 150, "circuit"),
        _C("p_preoxy", "mmHg", "pre-oxygenator pressure", -50, 900, "circuit"),
        _C("p_postoxy", "mmHg", "post-oxygenator pressure", -50, 900, "circuit"),
        _C("oxy_delta_p", "mmHg", "transmembrane gradient (ΔP)", -50, 500, "circuit"),
        _C("sweep_flow", "L/min", "sweep gas flow", 0, 20, "circuit"),
        _C("sweep_fio2", "1", "sweep gas FiO2 (FdO2)", 0.21, 1.0, "circuit"),
        _C("post_oxy_po2", "mmHg", "post-oxygenator pO2", 0, 800, "circuit_gas", "11556-8"),
        _C("post_oxy_pco2", "mmHg", "post-oxygenator pCO2", 0, 200, "circuit_gas", "11557-6"),
        _C("pre_oxy_po2", "mmHg", "pre-oxygenator pO2", 0, 800, "circuit_gas", "11556-8"),
        _C("pre_oxy_pco2", "mmHg", "pre-oxygenator pCO2", 0, 200, "circuit_gas", "11557-6"),
        _C("pre_oxy_so2", "%", "drainage-limb saturation", 0, 100, "circuit_gas", "20564-1"),
        _C("post_oxy_so2", "%", "return-limb saturation", 0, 100, "circuit_gas", "20564-1"),
        _C("blood_temp", "°C", "circuit blood temperature", 25, 42, "circuit"),
        _C("hr", "/min", "heart rate", 0, 300, "monitoring", "8867-4"),
        _C("map", "mmHg", "mean arterial pressure (arterial line)", 0, 250, "monitoring", "8478-0"),
        _C("map_nibp", "mmHg", "mean arterial pressure, non-invasive (cuff)", 0, 250, "monitoring"),
        _C("cvp", "mmHg", "central venous pressure", -10, 50, "monitoring", "60985-9"),
        _C("spo2", "%", "pulse oximetry", 0, 100, "monitoring", "59408-5"),
        _C("spo2_right", "%", "right-hand pulse oximetry", 0, 100, "monitoring"),
        _C("sao2", "%", "arterial saturation", 0, 100, "blood_gas", "2708-6"),
        _C("pao2", "mmHg", "arterial pO2", 0, 800, "blood_gas", "2703-7"),
        _C("paco2", "mmHg", "arterial pCO2", 0, 200, "blood_gas", "2019-8"),
        _C("ph", "1", "arterial pH", 6.5, 8.0, "blood_gas", "2744-1"),
        _C("pao2_right_radial", "mmHg", "right radial arterial pO2", 0, 800, "blood_gas"),
        _C("svo2", "%", "venous saturation", 0, 100, "blood_gas", "2711-0"),
        _C("lactate", "mmol/L", "lactate", 0, 30, "lab", "32693-4"),
        _C("hb", "g/dL", "haemoglobin", 0, 25, "lab", "718-7"),
        _C("hct", "%", "haematocrit", 0, 75, "lab"),
        _C("platelets", "10^9/L", "platelets", 0, 2000, "lab", "777-3"),
        _C("fibrinogen", "g/L", "fibrinogen", 0, 15, "lab", "3255-7"),
        _C("pfhb", "mg/dL", "plasma free haemoglobin", 0, 1000, "lab", "721-1"),
        _C("ldh", "U/L", "lactate dehydrogenase", 0, 20000, "lab", "2532-0"),
        _C("bilirubin", "mg/dL", "total bilirubin", 0, 60, "lab", "1975-2"),
        _C("act", "s", "activated clotting time", 0, 1000, "anticoagulation"),
        _C("aptt", "s", "aPTT", 0, 300, "anticoagulation", "14979-9"),
        _C("anti_xa", "IU/mL", "heparin anti-Xa", 0, 3, "anticoagulation", "66483-9"),
        _C("antithrombin", "%", "antithrombin", 0, 200, "anticoagulation", "27811-9"),
        _C("d_dimer", "mg/L FEU", "D-dimer", 0, 100, "anticoagulation", "48065-7"),
        _C("inr", "1", "INR", 0.5, 15, "anticoagulation", "6301-6"),
        _C("creatinine", "mg/dL", "creatinine", 0, 30, "lab", "2160-0"),
        _C("fluid_balance_24h", "mL", "fluid balance, last 24 h", -20000, 20000, "fluids"),
        _C("vent_fio2", "1", "ventilator FiO2", 0.21, 1.0, "ventilator"),
        _C("peep", "cmH2O", "PEEP", 0, 40, "ventilator"),
        _C("plateau_pressure", "cmH2O", "plateau pressure", 0, 80, "ventilator"),
        _C("peak_pressure", "cmH2O", "peak inspiratory pressure", 0, 100, "ventilator"),
        _C("tidal_volume", "mL", "tidal volume", 0, 2000, "ventilator"),
        _C("resp_rate", "/min", "respiratory rate", 0, 80, "ventilator"),
        _C("norepinephrine", "µg/kg/min", "norepinephrine", 0, 100, "drugs"),
        _C("epinephrine", "µg/kg/min", "epinephrine", 0, 100, "drugs"),
        _C("dopamine", "µg/kg/min", "dopamine", 0, 100, "drugs"),
        _C("dobutamine", "µg/kg/min", "dobutamine", 0, 100, "drugs"),
        _C("milrinone", "µg/kg/min", "milrinone", 0, 100, "drugs"),
        _C("vasopressin", "U/kg/min", "vasopressin", 0, 0.01, "drugs"),
        _C("heparin", "U/kg/h", "heparin", 0, 100, "drugs"),
        _C("impella_flow", "L/min", "Impella flow", 0, 7, "mcs"),
        _C("impella_p_level", "1", "Impella P-level", 0, 9, "mcs"),
        _C("impella_purge_pressure", "mmHg", "Impella purge pressure", 0, 1500, "mcs"),
        _C("iabp_ratio", "1", "IABP ratio", 0, 1, "mcs"),
        _C("lvef", "%", "LV ejection fraction", 0, 90, "echo"),
        _C("lvot_vti", "cm", "LVOT VTI", 0, 40, "echo"),
        _C("mitral_s_prime", "cm/s", "lateral mitral S'", 0, 30, "echo"),
        _C("impella_purge_flow", "mL/h", "Impella purge flow", 0, 50, "mcs"),
        _C("iabp_augmentation", "mmHg", "IABP augmented diastolic pressure", 0, 250, "mcs"),
        _C("vad_speed", "rpm", "VAD pump speed", 0, 16000, "mcs"),
        _C("vad_flow", "L/min", "VAD flow", 0, 10, "mcs"),
        _C("vad_power", "W", "VAD power", 0, 25, "mcs"),
        _C("vad_pulsatility_index", "1", "VAD pulsatility index", 0, 15, "mcs"),
        _C("sbp", "mmHg", "systolic arterial pressure", 0, 300, "monitoring", "8480-6"),
        _C("dbp", "mmHg", "diastolic arterial pressure", 0, 250, "monitoring", "8462-4"),
    ]
}

# The eight 1-minute console signals every console CSV / HL7 feed carries.
CONSOLE_CODES: tuple[str, ...] = (
    "blood_flow",
    "pump_speed",
    "p_access",
    "p_preoxy",
    "p_postoxy",
    "sweep_flow",
    "sweep_fio2",
    "blood_temp",
)

# ΔP across the membrane lung: the one derivation (contracts §1). Where a console sends
# pre- and post-oxygenator pressures at the same time and no ΔP, ΔP = pre − post; a derived
# value outside ΔP's plausible range is no value (a transducer fault, not a gradient).
DELTA_P = "oxy_delta_p"
DELTA_P_FROM = ("p_preoxy", "p_postoxy")
DELTA_P_LOW = CODES[DELTA_P].low
DELTA_P_HIGH = CODES[DELTA_P].high


def delta_p(pre: float, post: float) -> float | None:
    """ΔP from one pre/post pair taken together; None when implausible."""
    dp = pre - post
    return dp if DELTA_P_LOW <= dp <= DELTA_P_HIGH else None


def delta_p_of(values: Mapping[str, float]) -> float | None:
    """The ΔP to derive from one moment's values (code → value in stored units): None when
    ΔP itself was measured, a pressure is missing, or the difference is implausible."""
    if DELTA_P in values:
        return None
    pre, post = values.get(DELTA_P_FROM[0]), values.get(DELTA_P_FROM[1])
    if pre is None or post is None:
        return None
    return delta_p(pre, post)


def delta_p_series(pre: Any, post: Any, measured: Any = None) -> Any:
    """Vectorised ΔP (numpy arrays, NaN = no value): the measured ΔP where there is one, else
    pre − post where that is plausible, else NaN."""
    import numpy as np  # only the array callers pay for numpy

    dp = np.asarray(pre, dtype=float) - np.asarray(post, dtype=float)
    with np.errstate(invalid="ignore"):
        dp = np.where((dp >= DELTA_P_LOW) & (dp <= DELTA_P_HIGH), dp, np.nan)
    if measured is None:
        return dp
    m = np.asarray(measured, dtype=float)
    return np.where(np.isfinite(m), m, dp)


# One measure, several sources: where a reader asks for the first code and the run has no
# value of it, the next code stands in (an arterial line's MAP is preferred; a cuff reading
# is used only when there is no arterial value, and it is shown as what it is).
PREFERRED_SOURCES: dict[str, tuple[str, ...]] = {"map": ("map", "map_nibp")}

# Unit aliases: how people write the stored unit.
_SAME: dict[str, tuple[str, ...]] = {
    "L/min": ("l/min", "lpm", "l/min."),
    "mmHg": ("mmhg", "mm hg", "mm[hg]", "torr"),
    "rpm": ("rpm", "/min", "1/min", "min-1"),
    "%": ("%", "percent", "pct"),
    "1": ("1", "", "fraction", "ratio", "{ratio}"),
    "°C": ("°c", "c", "degc", "cel", "deg c"),
    "/min": ("/min", "bpm", "1/min", "{beats}/min", "min-1", "br/min"),
    "mmol/L": ("mmol/l",),
    "g/dL": ("g/dl",),
    "10^9/L": ("10^9/l", "10*9/l", "x10^9/l", "g/l_plt", "10^3/ul", "k/ul", "10*3/ul"),
    "g/L": ("g/l",),
    "mg/dL": ("mg/dl",),
    "U/L": ("u/l", "iu/l"),
    "s": ("s", "sec", "seconds"),
    "IU/mL": ("iu/ml", "u/ml", "[iu]/ml"),
    "mg/L FEU": ("mg/l feu", "mg/l", "µg/ml feu", "ug/ml feu", "ug/ml"),
    "cmH2O": ("cmh2o", "cm h2o", "cm[h2o]", "mbar"),
    "mL": ("ml",),
    "µg/kg/min": ("µg/kg/min", "ug/kg/min", "mcg/kg/min"),
    "U/kg/min": ("u/kg/min",),
    "U/kg/h": ("u/kg/h", "u/kg/hr", "iu/kg/h"),
    "cm": ("cm",),
    "cm/s": ("cm/s",),
}

# Unit factors: the one table of the platform (the calculators' unit options use it too).
# Each constant says how many of the first unit make one of the second.
MMHG_PER_KPA = 7.50062
MMHG_PER_HPA = 0.750062
G_L_PER_G_DL = 10.0
HB_G_DL_PER_MMOL_L = 1.611  # haemoglobin (monomer)
MG_DL_PER_G_L = 100.0
MG_L_PER_MG_DL = 10.0
BILIRUBIN_UMOL_L_PER_MG_DL = 17.1
CREATININE_UMOL_L_PER_MG_DL = 88.4
LACTATE_MG_DL_PER_MMOL_L = 9.008
ML_PER_L = 1000.0
PERCENT_PER_FRACTION = 100.0
CM_PER_INCH = 2.54
CM_PER_M = 100.0
KG_PER_LB = 0.45359237
HOURS_PER_DAY = 24.0
NG_PER_UG = 1000.0
MU_PER_U = 1000.0

# IEEE 11073-10101 (RTMMS) units as devices send them in OBX-6: the reference id and the
# context-free term code (65536 × partition 4 + the code in the dimension partition), read
# as the unit spelling on the left. Units the vocabulary stores or converts from; a site adds
# others as unit aliases on the Integration page.
MDC_UNITS: dict[str, tuple[tuple[str, int], ...]] = {
    "1": (("MDC_DIM_DIMLESS", 512),),
    "%": (("MDC_DIM_PERCENT", 544),),
    "cm": (("MDC_DIM_CENTI_M", 1297),),
    "mL": (("MDC_DIM_MILLI_L", 1618),),
    "g/dL": (("MDC_DIM_X_G_PER_DL", 2112),),
    "mg/dL": (("MDC_DIM_MILLI_G_PER_DL", 2130),),
    "s": (("MDC_DIM_SEC", 2176),),
    "/min": (("MDC_DIM_BEAT_PER_MIN", 2720), ("MDC_DIM_RESP_PER_MIN", 2784)),
    "cm/s": (("MDC_DIM_CENTI_M_PER_SEC", 2833),),
    "L/min": (("MDC_DIM_X_L_PER_MIN", 3072), ("MDC_DIM_L_PER_MIN", 3072)),
    "mL/min": (("MDC_DIM_MILLI_L_PER_MIN", 3090),),
    "µg/kg/min": (("MDC_DIM_MICRO_G_PER_KG_PER_MIN", 3475),),
    "hPa": (("MDC_DIM_HECTO_PASCAL", 3842),),
    "kPa": (("MDC_DIM_KILO_PASCAL", 3843), ("MDC_DIM_KILO_PA", 3843)),
    "mmHg": (("MDC_DIM_MMHG", 3872),),
    "cmH2O": (("MDC_DIM_CM_H2O", 3904),),
    "°F": (("MDC_DIM_FAHR", 4416),),
    "mmol/L": (("MDC_DIM_MILLI_MOLE_PER_L", 4722),),
    "µmol/L": (("MDC_DIM_MICRO_MOLE_PER_L", 4723),),
    "°C": (("MDC_DIM_DEGC", 6048),),
    "rpm": (("MDC_DIM_RPM", 6816),),
}
MDC_DIM_PARTITION = 4


def mdc_unit_spellings() -> dict[str, str]:
    """Every MDC unit reference id and term code (lower-cased) → the unit it stands for."""
    out: dict[str, str] = {}
    for unit, terms in MDC_UNITS.items():
        for refid, code in terms:
            out[refid.lower()] = unit
            out[str(MDC_DIM_PARTITION * 65536 + code)] = unit
    return out


def known_unit(spelling: str) -> bool:
    """A unit the vocabulary stores or converts from (any code), as written by people."""
    g = spelling.strip().lower()
    if not g:
        return False
    if any(g == u.lower() or g in same for u, same in _SAME.items()):
        return True
    return any(given == g for _, given in _CONVERSIONS) or g in ("%", "percent", "°f", "f")


Converter = Callable[[float], float]


def _fahrenheit(v: float) -> float:
    return (v - 32.0) * 5.0 / 9.0


# Conversions into the stored unit: (code or "*", given unit lower-cased) -> function.
_CONVERSIONS: dict[tuple[str, str], Converter] = {
    ("*mmHg", "kpa"): lambda v: v * MMHG_PER_KPA,
    ("*mmHg", "hpa"): lambda v: v * MMHG_PER_HPA,
    ("fibrinogen", "mg/dl"): lambda v: v / MG_DL_PER_G_L,
    ("hb", "g/l"): lambda v: v / G_L_PER_G_DL,
    ("hb", "mmol/l"): lambda v: v * HB_G_DL_PER_MMOL_L,
    ("pfhb", "mg/l"): lambda v: v / MG_L_PER_MG_DL,
    ("pfhb", "g/l"): lambda v: v * MG_DL_PER_G_L,
    ("bilirubin", "µmol/l"): lambda v: v / BILIRUBIN_UMOL_L_PER_MG_DL,
    ("bilirubin", "umol/l"): lambda v: v / BILIRUBIN_UMOL_L_PER_MG_DL,
    ("creatinine", "µmol/l"): lambda v: v / CREATININE_UMOL_L_PER_MG_DL,
    ("creatinine", "umol/l"): lambda v: v / CREATININE_UMOL_L_PER_MG_DL,
    ("lactate", "mg/dl"): lambda v: v / LACTATE_MG_DL_PER_MMOL_L,
    ("blood_temp", "°f"): _fahrenheit,
    ("blood_temp", "f"): _fahrenheit,
    ("sweep_flow", "ml/min"): lambda v: v / ML_PER_L,
    ("blood_flow", "ml/min"): lambda v: v / ML_PER_L,
    ("hct", "1"): lambda v: v * PERCENT_PER_FRACTION,
    ("hct", "fraction"): lambda v: v * PERCENT_PER_FRACTION,
    ("*%", "1"): lambda v: v * PERCENT_PER_FRACTION,
}
_FRACTION_CODES = frozenset({"sweep_fio2", "vent_fio2"})
FRACTION_CODES = _FRACTION_CODES  # codes stored as a fraction, accepted as % too


class UnitNotConvertible(ValidationFailed):
    """The value's unit cannot be converted to the code's stored unit."""


def get(code: str) -> Code:
    try:
        return CODES[code]
    except KeyError:
        raise ValidationFailed(
            [FieldProblem("code", f"unknown observation code '{code}'", code)]
        ) from None


def is_code(code: str) -> bool:
    return code in CODES


def _same_unit(stored: str, given: str) -> bool:
    g = given.strip().lower()
    return g == stored.lower() or g in _SAME.get(stored, ())


def convert(code: str, value: float, unit: str | None) -> float:
    """Convert ``value`` given in ``unit`` into the stored unit of ``code``.

    ``None`` or an empty unit means "already in the stored unit", except that an
    FiO2 given as 21–100 is read as percent (docs/contracts.md §1).
    """
    spec = get(code)
    given = (unit or "").strip()
    if code in _FRACTION_CODES:
        if given in ("%", "percent") or (given in ("", "1") and 1.0 < value <= 100.0):
            return value / PERCENT_PER_FRACTION
        if _same_unit(spec.unit, given):
            return value
    elif not given or _same_unit(spec.unit, given):
        return value
    low = given.lower()
    fn = _CONVERSIONS.get((code, low)) or _CONVERSIONS.get(("*" + spec.unit, low))
    if fn is None:
        raise UnitNotConvertible(
            [
                FieldProblem(
                    code,
                    f"unit '{given}' cannot be converted to {spec.unit} for {label(code)}",
                    given,
                )
            ]
        )
    return fn(value)


def label(code: str) -> str:
    """The clinical name of a code for a person's message ('blood_flow' → 'Blood flow');
    the code itself stays the ``field`` of an error for API clients."""
    spec = CODES.get(code)
    if spec is None:
        return code
    text = spec.meaning
    if len(text) > 1 and text[0].islower() and text[1].isupper():  # aPTT, pH, pO2
        return text
    return text[:1].upper() + text[1:]


def check_range(code: str, value: float) -> None:
    spec = get(code)
    if not math.isfinite(value):
        raise ValidationFailed(
            [FieldProblem(code, f"{label(code)} value is not a finite number", value)]
        )
    if not spec.low <= value <= spec.high:
        raise ValidationFailed(
            [
                FieldProblem(
                    code, f"{label(code)} {value:g} {spec.unit} is outside {spec.range_text}", value
                )
            ]
        )


def normalise(code: str, value: float | str, unit: str | None = None) -> float:
    """Parse, convert and range-check one value; returns it in the stored unit."""
    converted = convert(code, _parsed(code, value), unit)
    check_range(code, converted)
    return converted


# How a unit people write in lower case is printed back (the entered unit of a value).
_UNIT_SPELLINGS: dict[str, str] = {
    "kpa": "kPa", "hpa": "hPa", "mg/dl": "mg/dL", "g/l": "g/L", "mmol/l": "mmol/L",
    "mg/l": "mg/L", "µmol/l": "µmol/L", "umol/l": "µmol/L", "°f": "°F", "f": "°F",
    "ml/min": "mL/min", "percent": "%", "fraction": "1",
}  # fmt: skip
ENTERED_UNIT_LENGTH = 16  # observation.entered_unit


def as_entered(code: str, value: float | str, unit: str | None) -> tuple[float, str] | None:
    """The value and unit as entered when that unit is not the stored unit of ``code`` (the
    value is then converted on the way in): ``("p_access", 62, "kPa")`` → ``(62.0, "kPa")``;
    None when it was entered in the stored unit. An FiO2 of 21–100 without a unit was
    entered in percent. Call after ``normalise`` accepted the value."""
    number = _parsed(code, value)
    given = (unit or "").strip()
    spec = get(code)
    if code in _FRACTION_CODES:
        if given.lower() in ("%", "percent") or (given in ("", "1") and 1.0 < number <= 100.0):
            return number, "%"
        return None
    if not given or _same_unit(spec.unit, given):
        return None
    shown = _UNIT_SPELLINGS.get(given.lower(), given)
    return number, shown[:ENTERED_UNIT_LENGTH]


def _parsed(code: str, value: float | str) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ".")) if value.strip() else float("nan")
        except ValueError:
            raise ValidationFailed(
                [FieldProblem(code, f"{label(code)} value '{value}' is not a number", value)]
            ) from None
    return float(value)


def parse_header(header: str) -> tuple[str, str | None]:
    """Split a console CSV header like ``p_access [kPa]`` into (code, unit)."""
    h = header.strip()
    if h.endswith("]") and "[" in h:
        name, _, rest = h.partition("[")
        return name.strip(), rest[:-1].strip()
    return h, None

"""Registry of clinical calculators (docs/contracts.md §5): specs, validation, dispatch.

``CALCULATORS`` maps a stable name to a :class:`CalculatorSpec` whose fields carry enough
(type, unit, alternative units, range, choices, help) for a web page to render a form.
:func:`run_calculator` validates inputs field by field and returns a
:class:`~continuum.physiology.result.CalculatorResult`. Pure: no database or web imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from continuum import support_configuration
from continuum import vocabulary as V
from continuum.errors import NotFound, ValidationFailed
from continuum.physiology import (
    blood_volume,
    body_size,
    cannula_catalogue,
    cannulae,
    flow_target,
    mixing,
    oxygen,
    priming,
    transport_supplies,
)
from continuum.physiology.form_fields import (
    BOOLEAN,
    CHOICE,
    ENTRIES,
    INTEGER,
    MULTI_CHOICE,
    SAMPLES,
    TEXT,
    InputField,
    UnitOption,
    parse_inputs,
    unknown_keys,
)
from continuum.physiology.result import CalculatorResult, NonFiniteResult
from continuum.scores import murray, preserve, resp, save, ttr, vis

__all__ = [
    "CALCULATORS",
    "CalculatorResult",
    "CalculatorSpec",
    "InputField",
    "UnitOption",
    "list_calculators",
    "run_calculator",
]

# Unit options: factors from the one table in continuum.vocabulary.
KPA = UnitOption("kPa", V.MMHG_PER_KPA)
INCH = UnitOption("in", V.CM_PER_INCH)
METRE = UnitOption("m", V.CM_PER_M)
POUND = UnitOption("lb", V.KG_PER_LB)
ML_PER_MIN = UnitOption("mL/min", 1 / V.ML_PER_L)
LITRE = UnitOption("L", V.ML_PER_L)
AS_FRACTION = UnitOption("fraction", V.PERCENT_PER_FRACTION)
HB_UNITS = (
    UnitOption("g/L", 1 / V.G_L_PER_G_DL),
    UnitOption("mmol/L", V.HB_G_DL_PER_MMOL_L),
)
DAYS_AS_HOURS = UnitOption("days", V.HOURS_PER_DAY)
HOURS_AS_DAYS = UnitOption("h", 1 / V.HOURS_PER_DAY)
# Every vocabulary mode, plus the short "ECCO2R" the score calculators have accepted.
SCORE_MODES = (*support_configuration.MODES, "ECCO2R")
SUPPORTS = ("pulmonary", "cardiac", "ecpr")


def num(
    name: str,
    unit: str,
    low: float | None,
    high: float | None,
    help: str = "",
    *units: UnitOption,
    required: bool = True,
    default: float | None = None,
    kind: str = "number",
) -> InputField:
    return InputField(
        name, kind, unit, required and default is None, low, high, (), default, help, units
    )


def flag(name: str, help: str) -> InputField:
    return InputField(name, BOOLEAN, required=False, default=False, help=help)


def pick(
    name: str,
    choices: tuple[str, ...],
    help: str = "",
    required: bool = True,
    default: str | None = None,
) -> InputField:
    return InputField(
        name,
        CHOICE,
        required=required and default is None,
        choices=choices,
        default=default,
        help=help,
    )


def height(required: bool = True) -> InputField:
    return num("height_cm", "cm", 30, 250, "Height", INCH, METRE, required=required)


def weight(required: bool = True) -> InputField:
    return num("weight_kg", "kg", 0.5, 350, "Actual body weight", POUND, required=required)


def age(required: bool = True) -> InputField:
    return num(
        "age_years", "years", 0, 120, "Age (completed years for score bands)", required=required
    )


SEX = pick("sex", ("male", "female"), "Sex (for sex-specific formulas)", required=False)


def sat(name: str, help: str, required: bool = True) -> InputField:
    return num(name, "%", 0, 100, help, AS_FRACTION, required=required)


def po2(name: str, help: str, required: bool = True, default: float | None = None) -> InputField:
    return num(name, "mmHg", 0, 800, help, KPA, required=required, default=default)


HB = num("hb_g_dl", "g/dL", 0, 25, "Haemoglobin", *HB_UNITS)
HUEFNER = num(
    "huefner", "mL O2/g Hb", 1.30, 1.40, "Hüfner constant (setting; 1.34 in vivo)", default=1.34
)
SOLUBILITY = num(
    "solubility",
    "mL O2/dL/mmHg",
    0.0025,
    0.0035,
    "O2 solubility in plasma (setting)",
    UnitOption("mL O2/dL/kPa", 1 / V.MMHG_PER_KPA),
    default=0.003,
)


@dataclass(frozen=True)
class CalculatorSpec:
    name: str
    title: str
    description: str
    fields: tuple[InputField, ...]
    function: Callable[..., CalculatorResult]
    category: str = "physiology"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            "inputs": [f.as_dict() for f in self.fields],
        }


def _spec(
    name: str,
    title: str,
    description: str,
    function: Callable[..., CalculatorResult],
    *fields: InputField,
    category: str = "physiology",
) -> CalculatorSpec:
    return CalculatorSpec(name, title, description, fields, function, category)


PHYSIOLOGY = (
    _spec(
        "bsa",
        "Body-surface area",
        "BSA by Mosteller (default), DuBois, Haycock or Gehan–George.",
        body_size.bsa,
        height(),
        weight(),
        pick("method", tuple(body_size.BSA_FORMULAS), "Formula", default="mosteller"),
    ),
    _spec(
        "blood_volume",
        "Estimated blood volume",
        "Nadler (adults, >35 kg), mL/kg, paediatric age bands or Linderkamp.",
        blood_volume.blood_volume,
        weight(),
        height(False),
        SEX,
        age(False),
        pick(
            "method",
            blood_volume.METHODS,
            "Default: nadler if >35 kg, else paediatric_bands",
            required=False,
        ),
        num("ml_per_kg", "mL/kg", 40, 120, "For method per_kg (default 70)", required=False),
    ),
    _spec(
        "prime_hemodilution",
        "Priming haemodilution",
        "Haematocrit after a clear or blood prime; red cells needed for a target haematocrit.",
        priming.prime_hemodilution,
        num("hct_pct", "%", 5, 75, "Patient haematocrit before ECMO", AS_FRACTION),
        num(
            "prime_volume_ml", "mL", 0, 5000, "Whole circuit prime (including any red cells)", LITRE
        ),
        num(
            "blood_volume_ml",
            "mL",
            50,
            15000,
            "Patient blood volume (or give weight)",
            LITRE,
            required=False,
        ),
        weight(False),
        SEX,
        age(False),
        height(False),
        num("rbc_volume_ml", "mL", 0, 5000, "Packed red cells in the prime", LITRE, required=False),
        num(
            "rbc_hct_pct",
            "%",
            30,
            90,
            "Haematocrit of the red-cell unit (default 60)",
            AS_FRACTION,
            required=False,
        ),
        num(
            "target_hct_pct",
            "%",
            5,
            75,
            "Target haematocrit after priming",
            AS_FRACTION,
            required=False,
        ),
    ),
    _spec(
        "oxygen_content",
        "Oxygen content",
        "CxO2 from Hb, saturation and PO2.",
        oxygen.oxygen_content,
        HB,
        sat("so2_pct", "Saturation"),
        po2("po2_mmhg", "PO2"),
        HUEFNER,
        SOLUBILITY,
    ),
    _spec(
        "oxygenator_o2_transfer",
        "Membrane-lung O2 transfer",
        "O2 transferred by the oxygenator from pre/post blood gases.",
        oxygen.oxygenator_o2_transfer,
        num("blood_flow_l_min", "L/min", 0, 10, "ECMO blood flow", ML_PER_MIN),
        HB,
        sat("pre_so2_pct", "Pre-oxygenator saturation"),
        po2("pre_po2_mmhg", "Pre-oxygenator PO2"),
        sat("post_so2_pct", "Post-oxygenator saturation"),
        po2("post_po2_mmhg", "Post-oxygenator PO2"),
        HUEFNER,
        SOLUBILITY,
    ),
    _spec(
        "oxygenator_co2_removal",
        "Membrane-lung CO2 removal",
        "CO2 removed from sweep flow and exhaust PCO2.",
        oxygen.oxygenator_co2_removal,
        num("sweep_flow_l_min", "L/min", 0, 20, "Sweep gas flow", ML_PER_MIN),
        num("exhaust_pco2_mmhg", "mmHg", 0, 100, "Exhaust-port PCO2 (capnography)", KPA),
        num(
            "barometric_mmhg",
            "mmHg",
            400,
            800,
            "Barometric pressure",
            KPA,
            UnitOption("hPa", V.MMHG_PER_HPA),
            default=760.0,
        ),
        num(
            "water_vapour_mmhg",
            "mmHg",
            0,
            60,
            "Water vapour pressure (47 at 37 °C)",
            KPA,
            default=47.0,
        ),
    ),
    _spec(
        "recirculation",
        "VV recirculation fraction",
        "R = (SpreO2 − SvO2)/(SpostO2 − SvO2).",
        mixing.recirculation,
        sat("pre_oxy_so2_pct", "Drainage-limb (pre-oxygenator) saturation"),
        sat("post_oxy_so2_pct", "Return-limb (post-oxygenator) saturation"),
        sat("svo2_pct", "True venous saturation (not the drainage limb)"),
    ),
    _spec(
        "vv_mixing",
        "VV mixing (Messai)",
        "Predicted arterial saturation from pump flow, cardiac output and recirculation.",
        mixing.vv_mixing,
        num("pump_flow_l_min", "L/min", 0, 10, "ECMO pump flow", ML_PER_MIN),
        num("cardiac_output_l_min", "L/min", 0.1, 25, "Cardiac output"),
        sat("post_oxy_so2_pct", "Post-membrane saturation"),
        po2("post_oxy_po2_mmhg", "Post-membrane PO2"),
        sat("svo2_pct", "Venous saturation"),
        num(
            "recirculation_pct",
            "%",
            0,
            100,
            "Recirculation (or give pre_oxy_so2_pct)",
            AS_FRACTION,
            required=False,
        ),
        sat("pre_oxy_so2_pct", "Drainage saturation, to calculate recirculation", False),
    ),
    _spec(
        "native_cardiac_output",
        "Cardiac output by O2 mixing",
        "Total and native cardiac output from O2 contents (VV, no native lung uptake).",
        mixing.native_cardiac_output,
        num("ecmo_flow_l_min", "L/min", 0.1, 10, "ECMO blood flow", ML_PER_MIN),
        HB,
        sat("post_oxy_so2_pct", "Post-oxygenator saturation"),
        po2("post_oxy_po2_mmhg", "Post-oxygenator PO2"),
        sat("sao2_pct", "Arterial saturation"),
        po2("pao2_mmhg", "Arterial PO2"),
        sat("svo2_pct", "Venous saturation"),
        po2("pvo2_mmhg", "Venous PO2", default=40.0),
    ),
    _spec(
        "flow_target",
        "Target blood flow",
        "VV by weight (60–80 mL/kg/min); VA by cardiac index 2.2–2.5 × BSA. Value = lower end.",
        flow_target.flow_target,
        pick("mode", ("VV", "VA"), "ECMO mode"),
        weight(),
        height(False),
        age(False),
    ),
    _spec(
        "cannula_check",
        "Cannula pressure drop",
        "Pressure drop at target flow and maximum flow from manufacturer ΔP–Q fits.",
        cannulae.cannula_check,
        InputField(
            "cannula",
            TEXT,
            choices=tuple(cannula_catalogue.CANNULAE),
            help="Catalogue id (a programme may add entries via extra_cannulae)",
        ),
        pick("role", cannulae.ROLES, "Lumen / role"),
        num("target_flow_l_min", "L/min", 0.1, 10, "Target flow", ML_PER_MIN),
        num(
            "max_pressure_drop_mmhg",
            "mmHg",
            10,
            500,
            "Allowed pressure drop (default 150 return, 100 drainage)",
            KPA,
            required=False,
        ),
        InputField(
            "extra_cannulae",
            ENTRIES,
            required=False,
            help="[{id, label, french, return: {a, b}, drainage: {a, b}}]",
        ),
    ),
    _spec(
        "transport_oxygen",
        "Oxygen for a transport",
        "Minutes of cylinder oxygen at the sweep (and transport-ventilator) flow, against the "
        "expected duration × a safety factor.",
        transport_supplies.oxygen_duration,
        num("cylinder_volume_l", "L", 0.5, 50, "Cylinder water volume (on the cylinder)"),
        num("cylinder_pressure_bar", "bar", 0, 300, "Cylinder pressure (gauge)"),
        num("sweep_l_min", "L/min", 0, 15, "Sweep gas flow"),
        num("ventilator_l_min", "L/min", 0, 40, "Transport ventilator O2 use", default=0),
        num("cylinders", "", 1, 10, "Number of full cylinders alike", default=1, kind=INTEGER),
        num("reserve_bar", "bar", 0, 100, "Reserve pressure (change the cylinder)", default=0),
        num("expected_min", "min", 0, 1440, "Expected duration of the trip", required=False),
        num("safety_factor", "", 1, 5, "Safety factor (programme setting)", default=2),
    ),
)

DRUG_HELP = "µg/kg/min"
SCORES = (
    _spec(
        "vis",
        "Vasoactive–inotropic score",
        "Gaies 2010 VIS from infusion rates.",
        vis.vis,
        *(
            num(
                d,
                "µg/kg/min",
                0,
                100,
                DRUG_HELP,
                UnitOption("ng/kg/min", 1 / V.NG_PER_UG),
                default=0.0,
            )
            for d in ("dopamine", "dobutamine", "epinephrine", "norepinephrine", "milrinone")
        ),
        num(
            "vasopressin",
            "U/kg/min",
            0,
            0.01,
            "Vasopressin",
            UnitOption("mU/kg/min", 1 / V.MU_PER_U),
            default=0.0,
        ),
        num(
            "vasopressin_u_min",
            "U/min",
            0,
            0.5,
            "Vasopressin per minute (needs weight)",
            required=False,
        ),
        weight(False),
        category="score",
    ),
    _spec(
        "murray",
        "Murray lung injury score",
        "Mean of CXR, P/F, PEEP and compliance points.",
        murray.murray,
        num("cxr_quadrants", "quadrants", 0, 4, "Quadrants with consolidation", kind=INTEGER),
        po2("pao2_mmhg", "Arterial PO2"),
        InputField(
            "fio2",
            "number",
            "fraction",
            True,
            0.21,
            1.0,
            help="FiO2 (21–100 is read as percent)",
            units=(UnitOption("%", 1 / V.PERCENT_PER_FRACTION),),
            percent_above_one=True,
        ),
        num("peep_cmh2o", "cmH2O", 0, 40, "PEEP (if ventilated)", required=False),
        num(
            "compliance_ml_cmh2o",
            "mL/cmH2O",
            0,
            300,
            "Static compliance (if available)",
            required=False,
        ),
        category="score",
    ),
    _spec(
        "resp",
        "RESP score",
        "Respiratory ECMO Survival Prediction (VV, adults).",
        resp.resp,
        age(),
        num(
            "mechanical_ventilation_hours",
            "h",
            0,
            24 * 365,
            "Ventilation before ECMO",
            DAYS_AS_HOURS,
        ),
        pick("diagnosis", tuple(resp.DIAGNOSIS_POINTS), "Acute respiratory diagnosis group"),
        num("paco2_mmhg", "mmHg", 0, 200, "PaCO2 before ECMO", KPA),
        num("peak_inspiratory_pressure_cmh2o", "cmH2O", 0, 100, "Peak inspiratory pressure"),
        *(flag(key, label) for key, label, _ in resp.FLAGS),
        pick("mode", SCORE_MODES, "ECMO mode (checks the derivation population)", False),
        pick("support", SUPPORTS, "Support type (checks the derivation population)", False),
        category="score",
    ),
    _spec(
        "preserve",
        "PRESERVE score",
        "PRESERVE 6-month survival classes (VV for ARDS).",
        preserve.preserve,
        age(),
        num("bmi", "kg/m²", 10, 100, "Body-mass index"),
        num(
            "mechanical_ventilation_days", "days", 0, 365, "Ventilation before ECMO", HOURS_AS_DAYS
        ),
        num("sofa", "points", 0, 24, "SOFA score", kind=INTEGER),
        num("peep_cmh2o", "cmH2O", 0, 40, "PEEP"),
        num("peak_inspiratory_pressure_cmh2o", "cmH2O", 0, 100, "Peak inspiratory pressure"),
        num("plateau_pressure_cmh2o", "cmH2O", 0, 80, "Plateau pressure", required=False),
        flag("immunocompromised", "Immunocompromised"),
        flag("prone_positioning", "Prone positioning before ECMO"),
        pick("mode", SCORE_MODES, "ECMO mode (checks the derivation population)", False),
        category="score",
    ),
    _spec(
        "save",
        "SAVE score",
        "Survival after VA-ECMO for refractory cardiogenic shock.",
        save.save,
        age(),
        weight(),
        InputField(
            "diagnoses",
            MULTI_CHOICE,
            required=False,
            default=(),
            choices=tuple(save.DIAGNOSIS_POINTS),
            help="One or more (additive)",
        ),
        num("intubation_hours", "h", 0, 24 * 365, "Intubation before ECMO", DAYS_AS_HOURS),
        num("peak_inspiratory_pressure_cmh2o", "cmH2O", 0, 100, "Peak inspiratory pressure"),
        num("diastolic_bp_mmhg", "mmHg", 0, 250, "Worst diastolic BP in 6 h before ECMO", KPA),
        num("pulse_pressure_mmhg", "mmHg", 0, 250, "Worst pulse pressure in 6 h before ECMO", KPA),
        num("bicarbonate_mmol_l", "mmol/L", 0, 60, "HCO3 before ECMO", UnitOption("mEq/L", 1.0)),
        *(flag(key, label) for key, label, _ in save.ORGAN_FAILURES),
        pick("mode", SCORE_MODES, "ECMO mode (checks the derivation population)", False),
        pick("support", SUPPORTS, "Support type (checks the derivation population)", False),
        category="score",
    ),
    _spec(
        "ttr",
        "Time in therapeutic range",
        "Rosendaal linear interpolation (continuous/hourly).",
        ttr.ttr,
        InputField("samples", SAMPLES, help="[[ISO time or hours, value], …]"),
        num("low", "", None, None, "Lower limit of range (inclusive)"),
        num("high", "", None, None, "Upper limit of range (inclusive)"),
        num(
            "max_gap_hours",
            "h",
            0.01,
            24 * 365,
            "Longest interval to interpolate (INR: 56 d)",
            DAYS_AS_HOURS,
            default=24.0,
        ),
        pick("method", ttr.METHODS, "continuous (default) or hourly", default="continuous"),
        category="score",
    ),
)

CALCULATORS: dict[str, CalculatorSpec] = {spec.name: spec for spec in PHYSIOLOGY + SCORES}


def get_spec(name: str) -> CalculatorSpec:
    try:
        return CALCULATORS[name]
    except KeyError:
        known = ", ".join(CALCULATORS)
        raise NotFound(f"unknown calculator '{name}'; known: {known}") from None


def run_calculator(name: str, inputs: Mapping[str, Any]) -> CalculatorResult:
    """Validate ``inputs`` against the named calculator's fields and run it.

    Unknown name → NotFound. Missing or refused fields → ValidationFailed naming each.
    Inputs outside a score's derivation population come back as warnings on the result.
    """
    spec = get_spec(name)
    if not isinstance(inputs, Mapping):
        raise ValidationFailed("inputs must be a JSON object", "inputs")
    values, defaulted = parse_inputs(spec.fields, inputs)
    try:
        result = spec.function(**values)
    except NonFiniteResult:  # e.g. a divisor of almost zero that no single range catches
        given = ", ".join(f"{k}={v}" for k, v in values.items() if v is not None)
        raise ValidationFailed(
            f"these inputs give no finite result ({given}): check for a value that is "
            "almost zero or two values that are almost equal",
            "inputs",
        ) from None
    notes: list[str] = []
    if defaulted:
        notes.append("Not given, taken as false: " + ", ".join(defaulted) + ".")
    ignored = unknown_keys(spec.fields, inputs)
    if ignored:
        notes.append("Ignored unknown input(s): " + ", ".join(ignored) + ".")
    return result.with_warnings(*notes) if notes else result


def list_calculators() -> list[dict[str, Any]]:
    """Name, title, description and input fields of every calculator (for forms and --list)."""
    return [spec.as_dict() for spec in CALCULATORS.values()]

"""Weaning criteria judged against thresholds: met / not met / unknown, each with its source.

Pure: no database, no web. Thresholds are published defaults (docs/clinical/reference.md §6) that a
programme may override (settings key ``weaning.<name>``). Tags: [P] primary source,
[S] secondary source, [U] unverified wording — a programme-changeable default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from continuum import support_configuration

Op = Literal["<", "<=", ">", ">=", "between"]
Status = Literal["met", "not_met", "unknown"]

SLA_VV = "savinglivesacademy VV weaning lesson, citing ELSO [S]"
NURSEKEY = "nursekey 'Weaning of VV ECMO' after Combes/Schmidt [S]"
REVIEW = "weaning predictors review [S]"
AISSAOUI = "Aissaoui N et al. Intensive Care Med 2011;37:1738-45 [P]"
SLA_VA = "savinglivesacademy VA weaning lecture [S]"
PROGRAMME = "programme default, wording unverified [U]"
VIS_SOURCE = "VIS (Gaies 2010); numeric weaning cut-off unverified [U]"


@dataclass(frozen=True)
class Criterion:
    """One threshold on one measure, e.g. ventilator FiO2 ≤ 0.6."""

    name: str
    label: str
    measure: str
    unit: str
    op: Op
    default: float
    source: str
    default_high: float | None = None  # upper bound when op == "between"
    note: str = ""

    @property
    def setting_key(self) -> str:
        return f"weaning.{self.name}"


@dataclass(frozen=True)
class Judgement:
    name: str
    label: str
    value: float | None
    unit: str
    status: Status
    threshold: str
    source: str
    note: str = ""


def c(
    name: str,
    label: str,
    measure: str,
    unit: str,
    op: Op,
    default: float,
    source: str,
    high: float | None = None,
    note: str = "",
) -> Criterion:
    return Criterion(name, label, measure, unit, op, default, source, high, note)


VV_READINESS = (
    c("vv_vent_fio2_max", "Ventilator FiO2", "vent_fio2", "", "<=", 0.6, SLA_VV),
    c("vv_peep_max", "PEEP", "peep", "cmH2O", "<=", 10, SLA_VV),
    c(
        "vv_vt_per_kg",
        "Tidal volume per kg PBW",
        "vt_per_kg_pbw",
        "mL/kg",
        "between",
        4,
        SLA_VV,
        high=6,
    ),
    c("vv_plateau_max", "Plateau pressure", "plateau_pressure", "cmH2O", "<", 28, SLA_VV),
    c("vv_driving_pressure_max", "Driving pressure", "driving_pressure", "cmH2O", "<", 15, SLA_VV),
    c("vv_compliance_min", "Static compliance", "compliance", "mL/cmH2O", ">", 30, REVIEW),
    c("vv_pao2_min", "PaO2", "pao2", "mmHg", ">", 70, SLA_VV),
    c("vv_ph_min", "Arterial pH", "ph", "", ">", 7.30, SLA_VV),
    c("vv_pf_min", "PaO2/FiO2", "pf_ratio", "mmHg", ">", 150, REVIEW),
    c("vv_map_min", "Mean arterial pressure", "map", "mmHg", ">=", 65, PROGRAMME),
    c(
        "vv_vis_max",
        "Vasoactive–inotropic score",
        "vis",
        "points",
        "<=",
        10,
        VIS_SOURCE,
        note="'minimal or no vasopressors'",
    ),
)

VA_READINESS = (
    c("va_pulsatility_hours_min", "Pulsatility for", "pulsatile_hours", "h", ">=", 24, PROGRAMME),
    c("va_pulse_pressure_min", "Pulse pressure", "pulse_pressure", "mmHg", ">=", 30, SLA_VA),
    c("va_map_min", "MAP on low vasoactive support", "map", "mmHg", ">", 60, AISSAOUI),
    c("va_vis_max", "Vasoactive–inotropic score", "vis", "points", "<=", 10, VIS_SOURCE),
    c(
        "va_lactate_max",
        "Lactate",
        "lactate",
        "mmol/L",
        "<",
        2.0,
        PROGRAMME,
        note="'improving lactate' in the source; the number is a programme default",
    ),
    c("va_lvef_min", "LVEF", "lvef", "%", ">", 25, AISSAOUI, note="Aissaoui: >20–25 %"),
    c("va_lvot_vti_min", "LVOT VTI", "lvot_vti", "cm", ">=", 10, AISSAOUI),
    c(
        "va_mitral_s_min",
        "Lateral mitral S'",
        "mitral_s_prime",
        "cm/s",
        ">=",
        6,
        AISSAOUI,
        note="Charbonneau 2022 quotes >10 cm/s; Aissaoui's ≥6 is used",
    ),
)

VV_MIN_FLOW = c(
    "vv_min_flow",
    "ECMO blood flow kept above",
    "blood_flow",
    "L/min",
    ">",
    2.0,
    NURSEKEY,
    note="circuit safety during sweep-off",
)
VA_MIN_FLOW = c(
    "va_min_circuit_flow",
    "Circuit flow not below",
    "blood_flow",
    "L/min",
    ">=",
    1.0,
    PROGRAMME,
    note="circuit safety at minimal flow: thrombosis risk",
)

SWEEP_OFF = (
    VV_MIN_FLOW,
    c("so_sao2_min", "SaO2", "sao2", "%", ">", 90, NURSEKEY),
    c("so_pao2_min", "PaO2", "pao2", "mmHg", ">", 60, NURSEKEY),
    c("so_fio2_max", "Ventilator FiO2", "vent_fio2", "", "<", 0.6, NURSEKEY),
    c("so_plateau_max", "Plateau pressure", "plateau_pressure", "cmH2O", "<", 30, NURSEKEY),
    c("so_paco2_max", "PaCO2", "paco2", "mmHg", "<=", 50, PROGRAMME),
    c("so_ph_min", "Arterial pH", "ph", "", ">", 7.30, SLA_VV),
)
GAS_REDUCTION = (
    VV_MIN_FLOW,
    c("fd_spo2_min", "SpO2", "spo2", "%", ">", 92, SLA_VV),
    c("fd_pao2_min", "PaO2", "pao2", "mmHg", ">", 70, SLA_VV),
    c("so_ph_min", "Arterial pH", "ph", "", ">", 7.30, SLA_VV),
)
VA_FLOW_STEP = (
    VA_MIN_FLOW,
    c("va_step_map_min", "MAP", "map", "mmHg", ">=", 60, SLA_VA),
    c("va_pulse_pressure_min", "Pulse pressure", "pulse_pressure", "mmHg", ">=", 30, SLA_VA),
    c("va_lvef_min", "LVEF", "lvef", "%", ">", 25, AISSAOUI),
    c("va_lvot_vti_min", "LVOT VTI", "lvot_vti", "cm", ">=", 10, AISSAOUI),
    c("va_mitral_s_min", "Lateral mitral S'", "mitral_s_prime", "cm/s", ">=", 6, AISSAOUI),
)

ALL_CRITERIA: dict[str, Criterion] = {
    x.name: x
    for x in (
        *VV_READINESS,
        *VA_READINESS,
        *SWEEP_OFF,
        *GAS_REDUCTION,
        *VA_FLOW_STEP,
        VA_MIN_FLOW,
    )
}


def family(mode: str | None, support_type: str) -> Literal["VV", "VA"]:
    """The weaning protocol family of the run's support configuration: VA (flow reduction)
    when the ECMO pump carries the circulation (arterial or pulmonary-artery return), VV
    (gas reduction, sweep off) otherwise; see ``continuum.support_configuration``."""
    return support_configuration.of_run(mode, support_type).weaning


def readiness_criteria(fam: str) -> tuple[Criterion, ...]:
    return VV_READINESS if fam == "VV" else VA_READINESS


def threshold_of(crit: Criterion, overrides: Mapping[str, object]) -> tuple[float, float | None]:
    """(threshold, upper bound) after the programme's override, if any."""
    value = overrides.get(crit.setting_key)
    if isinstance(value, list | tuple) and len(value) == 2:
        return float(value[0]), float(value[1])
    if isinstance(value, int | float):
        return float(value), crit.default_high
    return crit.default, crit.default_high


def threshold_text(crit: Criterion, low: float, high: float | None) -> str:
    unit = f" {crit.unit}" if crit.unit else ""
    if crit.op == "between":
        return f"{low:g}–{high:g}{unit}"
    return f"{crit.op.replace('<=', '≤').replace('>=', '≥')} {low:g}{unit}"


def is_met(op: Op, value: float, low: float, high: float | None) -> bool:
    if op == "between":
        return low <= value <= (high if high is not None else value)
    return {
        "<": value < low,
        "<=": value <= low,
        ">": value > low,
        ">=": value >= low,
    }[op]


def judge(crit: Criterion, value: float | None, overrides: Mapping[str, object]) -> Judgement:
    low, high = threshold_of(crit, overrides)
    if value is None:
        status: Status = "unknown"
    else:
        status = "met" if is_met(crit.op, value, low, high) else "not_met"
    text = threshold_text(crit, low, high)
    return Judgement(crit.name, crit.label, value, crit.unit, status, text, crit.source, crit.note)


def judge_all(
    criteria: tuple[Criterion, ...],
    values: Mapping[str, float | None],
    overrides: Mapping[str, object] | None = None,
) -> list[Judgement]:
    return [judge(x, values.get(x.measure), overrides or {}) for x in criteria]


def predicted_body_weight(height_cm: float | None, sex: str | None) -> float | None:
    """ARDSNet (Devine) predicted body weight in kg; None without height or with unknown sex."""
    if height_cm is None or sex not in ("male", "female"):
        return None
    base = 50.0 if sex == "male" else 45.5
    return base + 0.91 * (height_cm - 152.4)


def derived(
    values: Mapping[str, float | None], height_cm: float | None = None, sex: str | None = None
) -> dict[str, float | None]:
    """Driving pressure, static compliance, Vt per kg PBW and P/F from the raw values."""
    vt, plat, peep = values.get("tidal_volume"), values.get("plateau_pressure"), values.get("peep")
    dp = plat - peep if plat is not None and peep is not None else None
    pbw = predicted_body_weight(height_cm, sex)
    pao2, fio2 = values.get("pao2"), values.get("vent_fio2")
    return {
        "driving_pressure": dp,
        "compliance": vt / dp if vt is not None and dp else None,
        "vt_per_kg_pbw": vt / pbw if vt is not None and pbw else None,
        "pf_ratio": pao2 / fio2 if pao2 is not None and fio2 else None,
    }


def summary(judgements: list[Judgement]) -> dict[str, int]:
    out = {"met": 0, "not_met": 0, "unknown": 0}
    for j in judgements:
        out[j.status] += 1
    return out

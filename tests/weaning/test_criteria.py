"""Weaning criteria, judged as a clinician reads them: value, threshold, verdict, source.

Each row: criterion, measured value, expected verdict. Published defaults
(docs/clinical/reference.md §6)."""

from __future__ import annotations

import pytest

from continuum.weaning import criteria as cr

VV = {x.name: x for x in cr.VV_READINESS}
VA = {x.name: x for x in cr.VA_READINESS}

VV_TABLE = [
    # criterion                   value   verdict      why
    ("vv_vent_fio2_max",          0.5,    "met"),      # FiO2 ≤ 0.6
    ("vv_vent_fio2_max",          0.6,    "met"),      # the limit itself is allowed
    ("vv_vent_fio2_max",          0.7,    "not_met"),
    ("vv_peep_max",               10,     "met"),      # PEEP ≤ 10 cmH2O
    ("vv_peep_max",               14,     "not_met"),
    ("vv_vt_per_kg",              6.0,    "met"),      # Vt 4–6 mL/kg PBW
    ("vv_vt_per_kg",              8.0,    "not_met"),
    ("vv_vt_per_kg",              3.5,    "not_met"),
    ("vv_plateau_max",            27,     "met"),      # Pplat < 28 cmH2O
    ("vv_plateau_max",            28,     "not_met"),  # strict: 28 is not below 28
    ("vv_driving_pressure_max",   14,     "met"),      # ΔP < 15 cmH2O
    ("vv_driving_pressure_max",   15,     "not_met"),
    ("vv_compliance_min",         35,     "met"),      # Crs > 30 mL/cmH2O
    ("vv_compliance_min",         25,     "not_met"),
    ("vv_pao2_min",               75,     "met"),      # PaO2 > 70 mmHg
    ("vv_pao2_min",               70,     "not_met"),
    ("vv_ph_min",                 7.35,   "met"),      # pH > 7.30
    ("vv_ph_min",                 7.25,   "not_met"),
    ("vv_pf_min",                 200,    "met"),      # P/F > 150
    ("vv_vis_max",                5,      "met"),      # VIS ≤ 10 (programme default [U])
    ("vv_vis_max",                25,     "not_met"),
    ("vv_peep_max",               None,   "unknown"),  # nothing recorded → unknown, not "met"
]  # fmt: skip

VA_TABLE = [
    ("va_map_min",                65,     "met"),      # MAP > 60 on low support
    ("va_map_min",                55,     "not_met"),
    ("va_lvef_min",               30,     "met"),      # LVEF > 25 % (Aissaoui 20–25)
    ("va_lvef_min",               20,     "not_met"),
    ("va_lvot_vti_min",           10,     "met"),      # aortic VTI ≥ 10 cm
    ("va_lvot_vti_min",           8,      "not_met"),
    ("va_mitral_s_min",           6,      "met"),      # lateral mitral S' ≥ 6 cm/s
    ("va_mitral_s_min",           5,      "not_met"),
    ("va_lactate_max",            1.4,    "met"),      # lactate < 2 mmol/L (programme default)
    ("va_lactate_max",            4.0,    "not_met"),
    ("va_pulse_pressure_min",     30,     "met"),      # pulse pressure ≥ 30 mmHg
    ("va_pulsatility_hours_min",  12,     "not_met"),  # pulsatile ≥ 24 h
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "verdict"), VV_TABLE)
def test_vv_readiness(name: str, value: float | None, verdict: str) -> None:
    j = cr.judge(VV[name], value, {})
    assert j.status == verdict
    assert j.source, "every criterion names its source"


@pytest.mark.parametrize(("name", "value", "verdict"), VA_TABLE)
def test_va_readiness(name: str, value: float, verdict: str) -> None:
    assert cr.judge(VA[name], value, {}).status == verdict


def test_sources_are_tagged_primary_secondary_or_unverified() -> None:
    for crit in cr.ALL_CRITERIA.values():
        assert crit.source.endswith(("[P]", "[S]", "[U]")), crit.name


def test_a_programme_override_changes_the_threshold_and_its_text() -> None:
    crit = VV["vv_peep_max"]
    assert cr.judge(crit, 12, {}).status == "not_met"
    j = cr.judge(crit, 12, {"weaning.vv_peep_max": 12})
    assert j.status == "met"
    assert j.threshold == "≤ 12 cmH2O"


def test_derived_values_from_the_ventilator() -> None:
    # 170 cm man: PBW 66.0 kg; Vt 400 mL → 6.06 mL/kg; ΔP 25 − 10 = 15; Crs 400/15 = 26.7
    d = cr.derived(
        {"tidal_volume": 400, "plateau_pressure": 25, "peep": 10, "pao2": 90, "vent_fio2": 0.45},
        170,
        "male",
    )
    assert d["driving_pressure"] == 15
    assert d["compliance"] == pytest.approx(26.67, abs=0.01)
    assert d["vt_per_kg_pbw"] == pytest.approx(6.06, abs=0.01)
    assert d["pf_ratio"] == pytest.approx(200)


def test_no_height_no_tidal_volume_per_kg() -> None:
    assert cr.derived({"tidal_volume": 400}, None, "male")["vt_per_kg_pbw"] is None


@pytest.mark.parametrize(
    ("mode", "support", "family"),
    [("VV", "pulmonary", "VV"), ("VA", "cardiac", "VA"), ("VVA", "pulmonary", "VA"),
     ("VA+Impella", "cardiac", "VA"), ("VV-ECCO2R", "pulmonary", "VV"), (None, "ecpr", "VA")],
)  # fmt: skip
def test_support_family(mode: str | None, support: str, family: str) -> None:
    assert cr.family(mode, support) == family

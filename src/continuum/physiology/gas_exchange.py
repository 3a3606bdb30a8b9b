"""Oxygen content, membrane-lung transfer and recirculation (docs/clinical/reference.md §3.1,
§3.3, §3.6).

Plain-float functions; no I/O.  Hüfner constant and O2 solubility are settings with
defaults 1.34 mL O2/g Hb and 0.003 mL O2/dL/mmHg (Bartlett 2016; anaesthesiauk).
"""

from __future__ import annotations

HUEFNER_DEFAULT = 1.34
SOLUBILITY_DEFAULT = 0.003


def oxygen_content(
    hb_g_dl: float,
    so2_pct: float,
    po2_mmhg: float,
    huefner: float = HUEFNER_DEFAULT,
    solubility: float = SOLUBILITY_DEFAULT,
) -> float:
    """CxO2 (mL O2/dL) = k × Hb × SO2 (fraction) + d × PO2."""
    return huefner * hb_g_dl * (so2_pct / 100.0) + solubility * po2_mmhg


def oxygenator_o2_transfer(
    blood_flow_l_min: float,
    hb_g_dl: float,
    pre_so2_pct: float,
    pre_po2_mmhg: float,
    post_so2_pct: float,
    post_po2_mmhg: float,
    huefner: float = HUEFNER_DEFAULT,
    solubility: float = SOLUBILITY_DEFAULT,
) -> float:
    """VO2 across the membrane lung (mL O2/min) = Qb × (Cpost − Cpre) × 10."""
    c_pre = oxygen_content(hb_g_dl, pre_so2_pct, pre_po2_mmhg, huefner, solubility)
    c_post = oxygen_content(hb_g_dl, post_so2_pct, post_po2_mmhg, huefner, solubility)
    return blood_flow_l_min * (c_post - c_pre) * 10.0


def recirculation_fraction(
    pre_oxy_so2_pct: float, post_oxy_so2_pct: float, svo2_pct: float
) -> float:
    """R = (SpreO2 − SvO2) / (SpostO2 − SvO2), as a fraction (0–1 when inputs are sane).

    Raises ValueError when SpostO2 equals SvO2 (division by zero).
    """
    denominator = post_oxy_so2_pct - svo2_pct
    if denominator == 0:
        raise ValueError("post-oxygenator saturation equals venous saturation; R is undefined")
    return (pre_oxy_so2_pct - svo2_pct) / denominator


WATER_VAPOUR_MMHG_37C = 47.0


def oxygenator_co2_removal(
    sweep_flow_l_min: float,
    exhaust_pco2_mmhg: float,
    barometric_mmhg: float = 760.0,
    water_vapour_mmhg: float = WATER_VAPOUR_MMHG_37C,
) -> float:
    """VCO2 across the membrane lung (mL/min) = sweep (mL/min) × PeCO2 / (Pb − PH2O)."""
    return sweep_flow_l_min * 1000.0 * exhaust_pco2_mmhg / (barometric_mmhg - water_vapour_mmhg)


def messai_effective_flow(pump_flow_l_min: float, recirculation: float) -> float:
    """Effective (non-recirculated) ECMO flow, EF = (1 − R)·PF; R as a fraction."""
    return (1.0 - recirculation) * pump_flow_l_min


def messai_arterial_saturation(
    pump_flow_l_min: float,
    cardiac_output_l_min: float,
    recirculation: float,
    post_oxy_so2_pct: float,
    svo2_pct: float,
    post_oxy_po2_mmhg: float,
) -> float:
    """Messai: SaO2 (%) = (EF/CO)·SmO2 + (1 − EF/CO)·SvO2 + 0.01·PmO2."""
    share = messai_effective_flow(pump_flow_l_min, recirculation) / cardiac_output_l_min
    return share * post_oxy_so2_pct + (1.0 - share) * svo2_pct + 0.01 * post_oxy_po2_mmhg


def total_cardiac_output_by_mixing(
    ecmo_flow_l_min: float, ecmo_content: float, arterial_content: float, venous_content: float
) -> float:
    """CO = Qecmo × (Cecmo − CvO2) / (CaO2 − CvO2) (no native lung uptake, no recirculation)."""
    spread = arterial_content - venous_content
    if spread <= 0:
        raise ValueError("arterial O2 content must exceed venous O2 content")
    return ecmo_flow_l_min * (ecmo_content - venous_content) / spread


def oxygen_delivery(content_ml_dl: float, flow_l_min: float) -> float:
    """DO2 (mL O2/min) = content (mL/dL) × flow (L/min) × 10 (docs/clinical/reference.md §3.2)."""
    return content_ml_dl * flow_l_min * 10.0

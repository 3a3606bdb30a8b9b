"""Calculator results for O2 content and membrane-lung gas transfer (docs/clinical/reference.md
§3.1, §3.3)."""

from __future__ import annotations

from continuum.physiology import gas_exchange as gx
from continuum.physiology.result import CalculatorResult, WarningList, rounded

CONTENT_SOURCE = (
    "CxO2 = k·Hb·SO2 + d·PO2; k 1.34 mL/g (in vivo) and d 0.003 mL/dL/mmHg "
    "(anaesthesiauk; Bartlett R, J Intensive Care Med 2016) — docs/clinical/reference.md §3.1"
)
TRANSFER_SOURCE = (
    "VO2,ML = Qb × (Cpost − Cpre) × 10 (ELSO, via nickmmark README) — "
    "docs/clinical/reference.md §3.3"
)
CO2_SOURCE = (
    "VCO2,ML = sweep flow × FeCO2, FeCO2 ≈ PeCO2/(Pb − PH2O) [U formula]; exhaust capnography "
    "(Castagna/Zanella, ICMx 2015) — docs/clinical/reference.md §3.3"
)
CONSTANTS_NOTE = "k and d are settings; cross-checks with other tools must use the same constants."


def oxygen_content(
    hb_g_dl: float,
    so2_pct: float,
    po2_mmhg: float,
    huefner: float = gx.HUEFNER_DEFAULT,
    solubility: float = gx.SOLUBILITY_DEFAULT,
) -> CalculatorResult:
    bound = huefner * hb_g_dl * so2_pct / 100.0
    dissolved = solubility * po2_mmhg
    total = bound + dissolved
    return CalculatorResult(
        name="oxygen_content",
        value=rounded(total, 2),
        unit="mL O2/dL",
        interpretation={
            "bound_ml_dl": rounded(bound, 2),
            "dissolved_ml_dl": rounded(dissolved, 2),
            "text": "Normal arterial 18–21 mL/dL; mixed venous 14.5–15.5 mL/dL",
        },
        inputs={
            "hb_g_dl": hb_g_dl,
            "so2_pct": so2_pct,
            "po2_mmhg": po2_mmhg,
            "huefner": huefner,
            "solubility": solubility,
        },
        formula=f"CxO2 = {huefner:g} × Hb × SO2/100 + {solubility:g} × PO2",
        source=CONTENT_SOURCE,
        warnings=(CONSTANTS_NOTE,),
    )


def oxygenator_o2_transfer(
    blood_flow_l_min: float,
    hb_g_dl: float,
    pre_so2_pct: float,
    pre_po2_mmhg: float,
    post_so2_pct: float,
    post_po2_mmhg: float,
    huefner: float = gx.HUEFNER_DEFAULT,
    solubility: float = gx.SOLUBILITY_DEFAULT,
) -> CalculatorResult:
    c_pre = gx.oxygen_content(hb_g_dl, pre_so2_pct, pre_po2_mmhg, huefner, solubility)
    c_post = gx.oxygen_content(hb_g_dl, post_so2_pct, post_po2_mmhg, huefner, solubility)
    transfer = blood_flow_l_min * (c_post - c_pre) * 10.0
    warnings = WarningList([CONSTANTS_NOTE])
    warnings.when(c_post <= c_pre, "Post-oxygenator O2 content is not above pre-oxygenator.")
    warnings.when(
        post_po2_mmhg < 200,
        "Post-oxygenator PO2 <200 mmHg: at sweep FiO2 1.0 this suggests membrane-lung "
        "failure (Lubnow 2014).",
    )
    return CalculatorResult(
        name="oxygenator_o2_transfer",
        value=rounded(transfer, 1),
        unit="mL O2/min",
        interpretation={
            "pre_content_ml_dl": rounded(c_pre, 2),
            "post_content_ml_dl": rounded(c_post, 2),
            "text": "Contemporary lungs transfer ≈100–200 mL O2/min/m² at rated flow.",
        },
        inputs={
            "blood_flow_l_min": blood_flow_l_min,
            "hb_g_dl": hb_g_dl,
            "pre_so2_pct": pre_so2_pct,
            "pre_po2_mmhg": pre_po2_mmhg,
            "post_so2_pct": post_so2_pct,
            "post_po2_mmhg": post_po2_mmhg,
            "huefner": huefner,
            "solubility": solubility,
        },
        formula="VO2,ML = Qb × (Cpost,O2 − Cpre,O2) × 10; C = k·Hb·SO2 + d·PO2",
        source=TRANSFER_SOURCE,
        warnings=warnings.as_tuple(),
    )


def oxygenator_co2_removal(
    sweep_flow_l_min: float,
    exhaust_pco2_mmhg: float,
    barometric_mmhg: float = 760.0,
    water_vapour_mmhg: float = gx.WATER_VAPOUR_MMHG_37C,
) -> CalculatorResult:
    vco2 = gx.oxygenator_co2_removal(
        sweep_flow_l_min, exhaust_pco2_mmhg, barometric_mmhg, water_vapour_mmhg
    )
    fraction = exhaust_pco2_mmhg / (barometric_mmhg - water_vapour_mmhg)
    return CalculatorResult(
        name="oxygenator_co2_removal",
        value=rounded(vco2, 1),
        unit="mL CO2/min",
        interpretation={
            "exhaust_co2_fraction": rounded(fraction, 4),
            "text": "CO2 removal is governed mainly by sweep gas flow.",
        },
        inputs={
            "sweep_flow_l_min": sweep_flow_l_min,
            "exhaust_pco2_mmhg": exhaust_pco2_mmhg,
            "barometric_mmhg": barometric_mmhg,
            "water_vapour_mmhg": water_vapour_mmhg,
        },
        formula="VCO2 = sweep (mL/min) × PeCO2 / (Pb − PH2O)",
        source=CO2_SOURCE,
        warnings=(
            "Formula is unconfirmed [U]; exhaust PCO2 must be measured at the exhaust port "
            "(side-stream capnography) without room-air entrainment.",
        ),
    )

"""VV recirculation, Messai mixing and cardiac output by O2 mixing (docs/clinical/reference.md
§3.5, §3.6)."""

from __future__ import annotations

import math

from continuum.errors import ValidationFailed
from continuum.physiology import gas_exchange as gx
from continuum.physiology.result import CalculatorResult, WarningList, rounded

RECIRCULATION_SOURCE = (
    "Abrams & Brodie, ELSO guideline 2015; Xie A et al., J Crit Care 2016; interpretive rules "
    "from nickmmark/ecmo-calculations — docs/clinical/reference.md §3.6"
)
MESSAI_SOURCE = "Messai equation (medicalalgorithms) — docs/clinical/reference.md §3.5 [S]"
MIXING_CO_SOURCE = "O2 mixing balance (R Shiny V-V ECMO Tool) — docs/clinical/reference.md §3.5 [S]"
SIGNIFICANT_RECIRCULATION = 0.20


def recirculation_warnings(pre: float, post: float, svo2: float) -> tuple[str, ...]:
    warnings = WarningList()
    warnings.when(
        not post > pre > svo2,
        "Expected post-oxygenator > pre-oxygenator > venous saturation; check the samples "
        "(SvO2 must be true venous blood, not the drainage limb).",
    )
    warnings.when(pre < 75, "Pre-oxygenator saturation <75%: significant recirculation unlikely.")
    return warnings.as_tuple()


def recirculation(
    pre_oxy_so2_pct: float, post_oxy_so2_pct: float, svo2_pct: float
) -> CalculatorResult:
    if post_oxy_so2_pct == svo2_pct:
        raise ValidationFailed(
            "post-oxygenator saturation equals venous saturation; recirculation is undefined",
            "svo2_pct",
        )
    fraction = gx.recirculation_fraction(pre_oxy_so2_pct, post_oxy_so2_pct, svo2_pct)
    significant = fraction > SIGNIFICANT_RECIRCULATION
    return CalculatorResult(
        name="recirculation",
        value=rounded(fraction),
        unit="fraction",
        interpretation={
            "percent": rounded(fraction * 100, 1),
            "likely_significant": significant,
            "text": (
                "Recirculation >20%: likely clinically significant"
                if significant
                else "Recirculation ≤20%"
            ),
        },
        inputs={
            "pre_oxy_so2_pct": pre_oxy_so2_pct,
            "post_oxy_so2_pct": post_oxy_so2_pct,
            "svo2_pct": svo2_pct,
        },
        formula="R = (SpreO2 − SvO2) / (SpostO2 − SvO2)",
        source=RECIRCULATION_SOURCE,
        warnings=recirculation_warnings(pre_oxy_so2_pct, post_oxy_so2_pct, svo2_pct),
    )


def _recirculation_for_messai(
    recirculation_pct: float | None,
    pre_oxy_so2_pct: float | None,
    post_oxy_so2_pct: float,
    svo2_pct: float,
) -> float:
    if recirculation_pct is not None:
        return recirculation_pct / 100.0
    if pre_oxy_so2_pct is None:
        raise ValidationFailed(
            "give recirculation_pct, or pre_oxy_so2_pct to calculate it", "recirculation_pct"
        )
    if post_oxy_so2_pct == svo2_pct:
        raise ValidationFailed("post-oxygenator saturation equals venous saturation", "svo2_pct")
    return gx.recirculation_fraction(pre_oxy_so2_pct, post_oxy_so2_pct, svo2_pct)


def vv_mixing(
    pump_flow_l_min: float,
    cardiac_output_l_min: float,
    post_oxy_so2_pct: float,
    post_oxy_po2_mmhg: float,
    svo2_pct: float,
    recirculation_pct: float | None = None,
    pre_oxy_so2_pct: float | None = None,
) -> CalculatorResult:
    r = _recirculation_for_messai(recirculation_pct, pre_oxy_so2_pct, post_oxy_so2_pct, svo2_pct)
    effective = gx.messai_effective_flow(pump_flow_l_min, r)
    sao2 = gx.messai_arterial_saturation(
        pump_flow_l_min, cardiac_output_l_min, r, post_oxy_so2_pct, svo2_pct, post_oxy_po2_mmhg
    )
    warnings = WarningList()
    warnings.when(
        effective > cardiac_output_l_min,
        "Effective ECMO flow exceeds cardiac output; the mixing model does not apply.",
    )
    warnings.when(sao2 > 100, "Predicted SaO2 above 100%: inputs are inconsistent.")
    return CalculatorResult(
        name="vv_mixing",
        value=rounded(sao2, 2),
        unit="%",
        interpretation={
            "recirculation_fraction": rounded(r),
            "effective_flow_l_min": rounded(effective, 2),
            "flow_to_output_ratio": rounded(pump_flow_l_min / cardiac_output_l_min, 2),
            "text": "Predicted arterial saturation from VV mixing (native lung contribution "
            "ignored). ECMO flow/CO >0.6 usually gives SaO2 >90%.",
        },
        inputs={
            "pump_flow_l_min": pump_flow_l_min,
            "cardiac_output_l_min": cardiac_output_l_min,
            "post_oxy_so2_pct": post_oxy_so2_pct,
            "post_oxy_po2_mmhg": post_oxy_po2_mmhg,
            "svo2_pct": svo2_pct,
            "recirculation_pct": rounded(r * 100, 2),
            "pre_oxy_so2_pct": pre_oxy_so2_pct,
        },
        formula="EF = (1 − R)·PF; SaO2 = (EF/CO)·SmO2 + (1 − EF/CO)·SvO2 + 0.01·PmO2",
        source=MESSAI_SOURCE,
        warnings=warnings.as_tuple(),
    )


def native_cardiac_output(
    ecmo_flow_l_min: float,
    hb_g_dl: float,
    post_oxy_so2_pct: float,
    post_oxy_po2_mmhg: float,
    sao2_pct: float,
    pao2_mmhg: float,
    svo2_pct: float,
    pvo2_mmhg: float = 40.0,
) -> CalculatorResult:
    c_ecmo = gx.oxygen_content(hb_g_dl, post_oxy_so2_pct, post_oxy_po2_mmhg)
    c_art = gx.oxygen_content(hb_g_dl, sao2_pct, pao2_mmhg)
    c_ven = gx.oxygen_content(hb_g_dl, svo2_pct, pvo2_mmhg)
    if c_art <= c_ven:
        raise ValidationFailed("arterial O2 content must exceed venous O2 content", "sao2_pct")
    total = gx.total_cardiac_output_by_mixing(ecmo_flow_l_min, c_ecmo, c_art, c_ven)
    if not math.isfinite(total):
        raise ValidationFailed(
            f"arterial ({c_art:.3g} mL/dL) and venous ({c_ven:.3g} mL/dL) O2 contents are too "
            "close to give a cardiac output: check SaO2, SvO2 and Hb",
            "sao2_pct",
        )
    native = total - ecmo_flow_l_min
    warnings = WarningList(
        ["Assumes no native-lung O2 uptake and no recirculation; treat as an estimate."]
    )
    warnings.when(native < 0, "Native flow came out negative: inputs are inconsistent.")
    return CalculatorResult(
        name="native_cardiac_output",
        value=rounded(total, 2),
        unit="L/min",
        interpretation={
            "native_flow_l_min": rounded(native, 2),
            "ecmo_content_ml_dl": rounded(c_ecmo, 2),
            "arterial_content_ml_dl": rounded(c_art, 2),
            "venous_content_ml_dl": rounded(c_ven, 2),
            "text": "Total cardiac output by O2 mixing; native = total − ECMO flow",
        },
        inputs={
            "ecmo_flow_l_min": ecmo_flow_l_min,
            "hb_g_dl": hb_g_dl,
            "post_oxy_so2_pct": post_oxy_so2_pct,
            "post_oxy_po2_mmhg": post_oxy_po2_mmhg,
            "sao2_pct": sao2_pct,
            "pao2_mmhg": pao2_mmhg,
            "svo2_pct": svo2_pct,
            "pvo2_mmhg": pvo2_mmhg,
        },
        formula="CO = Qecmo × (Cecmo − CvO2) / (CaO2 − CvO2); native = CO − Qecmo",
        source=MIXING_CO_SOURCE,
        warnings=warnings.as_tuple(),
    )

"""Haemodilution by the circuit prime (docs/clinical/reference.md §2.6).

Clear prime:  Hct_post = Hct_pre·BV / (BV + V_prime)              [S] Terumo formula
Blood prime:  Hct_post = (Hct_pre·BV + Hct_RBC·V_RBC) / (BV + V_prime)  [U] mass balance
RBC for target: V_RBC = [Hct_target·(BV + V_prime) − Hct_pre·BV] / Hct_RBC  [S]/[U]
``prime_volume_ml`` is the whole circuit prime, including any RBC it contains.
"""

from __future__ import annotations

from continuum.errors import ValidationFailed
from continuum.physiology.blood_volume import estimate_blood_volume_ml
from continuum.physiology.result import CalculatorResult, WarningList, rounded

DEFAULT_RBC_HCT_PCT = 60.0
SOURCE = (
    "Terumo haematocrit calculator formula (terumocv.com); mass balance for blood prime; "
    "medicalalgorithms 'cardiopulmonary bypass' for blood needed (docs/clinical/reference.md §2.6)"
)


def hct_after_prime(
    hct_pct: float,
    blood_volume_ml: float,
    prime_volume_ml: float,
    rbc_volume_ml: float = 0.0,
    rbc_hct_pct: float = DEFAULT_RBC_HCT_PCT,
) -> float:
    """Predicted haematocrit (%) once the prime has mixed with the patient's blood."""
    red_cells = hct_pct * blood_volume_ml + rbc_hct_pct * rbc_volume_ml
    return red_cells / (blood_volume_ml + prime_volume_ml)


def rbc_volume_for_target(
    target_hct_pct: float,
    hct_pct: float,
    blood_volume_ml: float,
    prime_volume_ml: float,
    rbc_hct_pct: float = DEFAULT_RBC_HCT_PCT,
) -> float:
    """Packed-cell volume (mL) to put in the prime to reach the target; 0 if none needed."""
    needed = target_hct_pct * (blood_volume_ml + prime_volume_ml) - hct_pct * blood_volume_ml
    return max(0.0, needed / rbc_hct_pct)


def _resolve_blood_volume(
    blood_volume_ml: float | None,
    weight_kg: float | None,
    height_cm: float | None,
    sex: str | None,
    age_years: float | None,
) -> tuple[float, str]:
    if blood_volume_ml is not None:
        return blood_volume_ml, "given"
    if weight_kg is None:
        raise ValidationFailed(
            "give blood_volume_ml, or weight_kg (with sex and age_years or height_cm)",
            "blood_volume_ml",
        )
    method = _estimation_method(weight_kg, height_cm, sex, age_years)
    volume, used, _, _ = estimate_blood_volume_ml(weight_kg, height_cm, sex, age_years, method)
    return volume, f"estimated ({used})"


def _estimation_method(
    weight_kg: float, height_cm: float | None, sex: str | None, age_years: float | None
) -> str:
    """Nadler when height and sex are known (>35 kg); paediatric bands for ≤35 kg with age
    and sex; otherwise 70 mL/kg."""
    if weight_kg > 35 and height_cm is not None and sex is not None:
        return "nadler"
    if weight_kg <= 35 and age_years is not None and sex is not None:
        return "paediatric_bands"
    return "per_kg"


def prime_hemodilution(
    hct_pct: float,
    prime_volume_ml: float,
    blood_volume_ml: float | None = None,
    weight_kg: float | None = None,
    sex: str | None = None,
    age_years: float | None = None,
    height_cm: float | None = None,
    rbc_volume_ml: float | None = None,
    rbc_hct_pct: float | None = None,
    target_hct_pct: float | None = None,
) -> CalculatorResult:
    bv, bv_origin = _resolve_blood_volume(blood_volume_ml, weight_kg, height_cm, sex, age_years)
    rbc_volume = rbc_volume_ml or 0.0
    if rbc_volume > prime_volume_ml:
        raise ValidationFailed(
            f"rbc_volume_ml {rbc_volume:g} mL is more than the whole prime "
            f"({prime_volume_ml:g} mL); prime_volume_ml includes any red cells",
            "rbc_volume_ml",
        )
    warnings = WarningList()
    rbc_hct = rbc_hct_pct if rbc_hct_pct is not None else DEFAULT_RBC_HCT_PCT
    warnings.when(
        rbc_hct_pct is None and (rbc_volume > 0 or target_hct_pct is not None),
        f"Red-cell unit haematocrit not given; {DEFAULT_RBC_HCT_PCT:g}% assumed.",
    )
    post = hct_after_prime(hct_pct, bv, prime_volume_ml, rbc_volume, rbc_hct)
    interpretation: dict[str, object] = {
        "blood_volume_ml": rounded(bv, 0),
        "blood_volume_source": bv_origin,
        "prime": "blood" if rbc_volume > 0 else "clear",
        "text": f"Predicted haematocrit after priming {post:.1f}%",
    }
    if target_hct_pct is not None:
        needed = rbc_volume_for_target(target_hct_pct, hct_pct, bv, prime_volume_ml, rbc_hct)
        interpretation["target_hct_pct"] = target_hct_pct
        interpretation["rbc_volume_for_target_ml"] = rounded(needed, 0)
        warnings.when(
            needed > prime_volume_ml,
            "Red cells needed for the target exceed the prime volume; the target cannot be "
            "reached by the prime alone.",
        )
    return CalculatorResult(
        name="prime_hemodilution",
        value=rounded(post, 2),
        unit="%",
        interpretation=interpretation,
        inputs={
            "hct_pct": hct_pct,
            "blood_volume_ml": rounded(bv, 0),
            "prime_volume_ml": prime_volume_ml,
            "rbc_volume_ml": rbc_volume,
            "rbc_hct_pct": rbc_hct,
            "target_hct_pct": target_hct_pct,
        },
        formula=(
            "Hct_post = (Hct_pre·BV + Hct_RBC·V_RBC) / (BV + V_prime); "
            "V_RBC for target = (Hct_target·(BV + V_prime) − Hct_pre·BV) / Hct_RBC"
        ),
        source=SOURCE,
        warnings=warnings.as_tuple(),
    )

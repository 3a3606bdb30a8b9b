"""Murray Lung Injury Score (docs/clinical/reference.md §1.1; Murray JF et al., Am Rev Respir Dis
1988) [P].

Band reading for non-integer values (the printed table uses whole numbers):
P/F ≥300 → 0, ≥225 → 1, ≥175 → 2, ≥100 → 3, else 4;
PEEP ≤5 → 0, ≤8 → 1, ≤11 → 2, ≤14 → 3, else 4 (so 5.5 cmH2O scores 1);
compliance ≥80 → 0, ≥60 → 1, ≥40 → 2, ≥20 → 3, else 4 (so 19.5 mL/cmH2O scores 4).
"""

from __future__ import annotations

from continuum.physiology.result import CalculatorResult, WarningList, rounded
from continuum.scores.common import Tally

SOURCE = (
    "Murray JF et al. Am Rev Respir Dis 1988;138:720-3 (table via Bentham Open TOATJ-14-52); "
    "interpretation bands [S]; CESAR entry LIS >3.0"
)


def pf_points(pf_ratio: float) -> int:
    for threshold, points in ((300, 0), (225, 1), (175, 2), (100, 3)):
        if pf_ratio >= threshold:
            return points
    return 4


def peep_points(peep_cmh2o: float) -> int:
    for ceiling, points in ((5, 0), (8, 1), (11, 2), (14, 3)):
        if peep_cmh2o <= ceiling:
            return points
    return 4


def compliance_points(compliance: float) -> int:
    for threshold, points in ((80, 0), (60, 1), (40, 2), (20, 3)):
        if compliance >= threshold:
            return points
    return 4


def severity(score: float) -> str:
    if score == 0:
        return "no lung injury"
    if score <= 2.5:
        return "mild to moderate lung injury"
    return "severe lung injury (ARDS)"


def murray(
    cxr_quadrants: int,
    pao2_mmhg: float,
    fio2: float,
    peep_cmh2o: float | None = None,
    compliance_ml_cmh2o: float | None = None,
) -> CalculatorResult:
    pf_ratio = pao2_mmhg / fio2
    tally = Tally()
    tally.add("chest X-ray quadrants", cxr_quadrants, cxr_quadrants)
    tally.add("PaO2/FiO2 (mmHg)", rounded(pf_ratio, 1), pf_points(pf_ratio))
    if peep_cmh2o is not None:
        tally.add("PEEP (cmH2O)", peep_cmh2o, peep_points(peep_cmh2o))
    if compliance_ml_cmh2o is not None:
        points = compliance_points(compliance_ml_cmh2o)
        tally.add("compliance (mL/cmH2O)", compliance_ml_cmh2o, points)
    used = len(tally.items)
    score = tally.total / used
    warnings = WarningList()
    warnings.when(
        peep_cmh2o is None,
        "PEEP not given: score averaged over fewer components than the original (3 or 4).",
    )
    return CalculatorResult(
        name="murray",
        value=rounded(score, 2),
        unit="points",
        interpretation={
            "band": severity(score),
            "components_used": used,
            "cesar_threshold_met": score > 3.0,
            "text": f"LIS {score:.2f}: {severity(score)}",
        },
        inputs={
            "cxr_quadrants": cxr_quadrants,
            "pao2_mmhg": pao2_mmhg,
            "fio2": fio2,
            "peep_cmh2o": peep_cmh2o,
            "compliance_ml_cmh2o": compliance_ml_cmh2o,
        },
        formula="LIS = sum of component points / number of components used",
        source=SOURCE,
        warnings=warnings.as_tuple(),
        points=tally.as_tuple(),
    )

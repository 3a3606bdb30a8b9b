"""Indications and contraindications per support type, as a checklist (docs/clinical/reference.md
§1.10).

Pure data: each item says whether it is an indication, an absolute or a relative
contraindication, and where it comes from. A programme reads it; nothing here decides.
"""

from __future__ import annotations

from dataclasses import dataclass

INDICATION = "indication"
ABSOLUTE = "absolute"
RELATIVE = "relative"
KIND_LABELS = {
    INDICATION: "Indication",
    ABSOLUTE: "Absolute contraindication",
    RELATIVE: "Relative contraindication",
}

ELSO_VV = "ELSO 2021 adult VV guideline, Tonna JE et al. ASAIO J 2021;67:601-10, Table 1 [P]"
JIC_2023 = "J Intensive Care 2023;11:5 (PMC9907879) [P]"
CHUNG_VA = "Chung M et al. Sci World J 2014, VA-ECMO review Tables 1-2 [S]"
VA_SECONDARY = "VA indications from secondary text (StatPearls) [S]; ELSO VA 2021 not retrieved"
ELSO_ECPR = "ELSO ECPR interim guideline, Richardson ASC et al. ASAIO J 2021;67:221-8 [P]"
ECPR_TYPICAL = "Typical ECPR selection (StatPearls-derived) [S], thresholds partly [U]"


@dataclass(frozen=True)
class Criterion:
    id: str
    support: str  # pulmonary | cardiac | ecpr
    kind: str  # indication | absolute | relative
    text: str
    source: str


def _items(support: str, kind: str, source: str, *rows: tuple[str, str]) -> list[Criterion]:
    return [Criterion(f"{support}.{key}", support, kind, text, source) for key, text in rows]


PULMONARY = [
    *_items(
        "pulmonary",
        INDICATION,
        ELSO_VV,
        ("hypoxaemia", "Hypoxaemic failure: PaO2/FiO2 <80 mmHg after optimal care incl. prone"),
        ("hypercapnia", "Hypercapnic failure: pH <7.25 despite RR 35/min and Pplat ≤30 cmH2O"),
        ("transplant", "Bridge to lung transplant, or primary graft dysfunction after it"),
    ),
    *_items(
        "pulmonary",
        INDICATION,
        JIC_2023,
        ("air_leak", "Severe air-leak syndrome"),
    ),
    *_items(
        "pulmonary",
        ABSOLUTE,
        JIC_2023,
        ("irreversible_lung", "Irreversible lung disease without a transplant option"),
    ),
    *_items(
        "pulmonary",
        RELATIVE,
        ELSO_VV,
        ("cns_haemorrhage", "CNS haemorrhage"),
        ("cns_injury", "Significant CNS injury"),
        ("cns_irreversible", "Irreversible and incapacitating CNS pathology"),
        ("bleeding", "Systemic bleeding"),
        ("anticoagulation", "Contraindication to anticoagulation"),
        ("immunosuppression", "Immunosuppression"),
        ("age", "Older age (risk rises with age; no threshold is established)"),
        ("injurious_ventilation", "Ventilated >7 days with Pplat >30 cmH2O AND FiO2 >0.9"),
    ),
]

CARDIAC = [
    *_items(
        "cardiac",
        INDICATION,
        VA_SECONDARY,
        ("shock", "Cardiogenic shock: CI <2 L/min/m² and SBP <90 mmHg despite inotropes/IABP"),
        ("cpb_wean", "Failure to wean from cardiopulmonary bypass"),
        ("graft_failure", "Primary graft failure after heart transplant"),
        ("bridge", "Bridge to VAD or transplant"),
    ),
    *_items(
        "cardiac",
        INDICATION,
        CHUNG_VA,
        ("pe", "Massive pulmonary embolism"),
        ("arrhythmia", "Recurrent VT/VF"),
    ),
    *_items(
        "cardiac",
        ABSOLUTE,
        CHUNG_VA,
        ("bleeding", "Uncontrolled active bleeding or other contraindication to anticoagulation"),
        (
            "end_stage",
            "End-stage irreversible cardiac/respiratory/neurological disease, no transplant",
        ),
        ("function", "Poor pre-existing functional status or multisystem organ failure"),
        ("arrest", "Unwitnessed cardiac arrest or prolonged CPR (>60 min)"),
        ("dissection", "Aortic dissection"),
        ("aortic_regurgitation", "Severe aortic regurgitation"),
    ),
    *_items(
        "cardiac",
        RELATIVE,
        CHUNG_VA,
        ("age", "Advanced age"),
        ("organ_failure", "Renal or liver failure"),
        ("malignancy", "Active malignancy"),
        ("obesity", "Morbid obesity"),
        ("pvd", "Significant peripheral vascular disease"),
        ("hit", "Heparin-induced thrombocytopenia"),
    ),
]

ECPR = [
    *_items(
        "ecpr",
        INDICATION,
        ELSO_ECPR,
        ("refractory", "No sustained ROSC after 10–15 min of conventional CPR"),
    ),
    *_items(
        "ecpr",
        INDICATION,
        ECPR_TYPICAL,
        ("witnessed", "Witnessed arrest"),
        ("no_flow", "No-flow (arrest to first CPR) <5 min"),
        ("rhythm", "Initial rhythm VF/pVT/PEA, or recurrent VF / intermittent ROSC"),
        ("age", "Age <70 years"),
    ),
    *_items(
        "ecpr",
        ABSOLUTE,
        ECPR_TYPICAL,
        ("end_stage", "End-stage heart failure, COPD, ESRD, liver failure or terminal illness"),
        ("aortic_regurgitation", "Known aortic valve incompetence"),
    ),
    *_items(
        "ecpr",
        RELATIVE,
        ECPR_TYPICAL,
        ("low_flow", "Arrest to ECMO flow expected >60 min [U]"),
        ("etco2", "EtCO2 ≤10 mmHg during CPR [U]"),
    ),
]

CRITERIA: dict[str, Criterion] = {c.id: c for c in (*PULMONARY, *CARDIAC, *ECPR)}


def for_support(support: str) -> list[Criterion]:
    return [c for c in CRITERIA.values() if c.support == support]

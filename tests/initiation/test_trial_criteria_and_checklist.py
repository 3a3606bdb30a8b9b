"""EOLIA and ECPR criteria (docs/clinical/reference.md §1.9/§1.10): met, not met, or incomplete
when an input
is missing — never counted as zero. And the checklist: every item has a kind and a source."""

from __future__ import annotations

import pytest

from continuum.initiation import criteria, trial_criteria

OPTIMISED = {"ventilation_days": 2, "fio2": 1.0, "peep_cmh2o": 14}
EOLIA = [
    ("P/F 45 for 4 h → met", {**OPTIMISED, "pf_ratio_mmhg": 45, "pf_hours": 4}, True),
    ("P/F 70 for 7 h → met", {**OPTIMISED, "pf_ratio_mmhg": 70, "pf_hours": 7}, True),
    (
        "pH 7.20, PaCO2 65 for 7 h → met",
        {
            **OPTIMISED,
            "pf_ratio_mmhg": 120,
            "pf_hours": 8,
            "ph": 7.2,
            "paco2_mmhg": 65,
            "hypercapnia_hours": 7,
        },
        True,
    ),
    (
        "P/F 70 for only 5 h, no gas → incomplete",
        {**OPTIMISED, "pf_ratio_mmhg": 70, "pf_hours": 5},
        None,
    ),
    (
        "ventilated 9 days → not met",
        {**OPTIMISED, "ventilation_days": 9, "pf_ratio_mmhg": 45, "pf_hours": 4},
        False,
    ),
    ("nothing entered → incomplete", {}, None),
]


@pytest.mark.parametrize(("case", "values", "met"), EOLIA, ids=[c[0] for c in EOLIA])
def test_eolia(case: str, values: dict[str, float], met: bool | None) -> None:
    assert trial_criteria.eolia(values).met is met, case


def test_ecpr_all_met_and_one_missing() -> None:
    full = {
        "age_years": 52,
        "witnessed": True,
        "no_flow_min": 2,
        "initial_rhythm": "vf_pvt",
        "cpr_min": 15,
        "expected_flow_min": 45,
        "etco2_mmhg": 18,
    }
    assert trial_criteria.ecpr(full).met is True
    assert trial_criteria.ecpr({**full, "initial_rhythm": "asystole"}).met is False
    partial = {k: v for k, v in full.items() if k != "etco2_mmhg"}
    assert trial_criteria.ecpr(partial).met is None
    assert trial_criteria.ecpr(partial).items[-1].met is None


@pytest.mark.parametrize("support", ["pulmonary", "cardiac", "ecpr"])
def test_checklist_has_indications_and_sourced_contraindications(support: str) -> None:
    items = criteria.for_support(support)
    kinds = {c.kind for c in items}
    assert {criteria.INDICATION, criteria.RELATIVE} <= kinds
    assert all(c.source and c.text for c in items)

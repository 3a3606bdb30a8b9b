"""The modality rules, one clinical situation per row: what the team found → the mode the
rules recommend, and which rule says so (sources are carried on each rule)."""

from __future__ import annotations

import pytest

from continuum.initiation.modality_rules import Physiology, base_of, recommend

# (situation, physiology, recommended mode, rules that fire in order)
SITUATIONS = [
    (
        "isolated respiratory failure with adequate cardiac function → VV",
        Physiology(respiratory_failure=True, adequate_cardiac_function=True),
        "VV",
        ["isolated_respiratory"],
    ),
    (
        "respiratory failure, heart not yet assessed → VV, assess the heart first",
        Physiology(respiratory_failure=True),
        "VV",
        ["respiratory_heart_unknown"],
    ),
    (
        "cardiogenic shock → VA",
        Physiology(cardiogenic_shock=True),
        "VA",
        ["cardiogenic_shock"],
    ),
    (
        "cardiogenic shock with poor lungs → VA (VA carries both)",
        Physiology(cardiogenic_shock=True, respiratory_failure=True),
        "VA",
        ["cardiogenic_shock"],
    ),
    (
        "refractory cardiac arrest → VA (ECPR)",
        Physiology(cardiac_arrest=True),
        "VA",
        ["ecpr"],
    ),
    (
        "cardiogenic shock with LV distension → VA + Impella",
        Physiology(cardiogenic_shock=True, lv_distension=True),
        "VA+Impella",
        ["cardiogenic_shock", "lv_distension"],
    ),
    (
        "cardiogenic shock with LV distension, team prefers IABP → VA + IABP",
        Physiology(cardiogenic_shock=True, lv_distension=True, prefer_iabp=True),
        "VA+IABP",
        ["cardiogenic_shock", "lv_distension"],
    ),
    (
        "already on VA, LV distends → add unloading",
        Physiology(current_mode="VA", lv_distension=True),
        "VA+Impella",
        ["lv_distension"],
    ),
    (
        "femoral VA, heart recovering, lungs poor → VAV",
        Physiology(
            current_mode="VA",
            femoral_return=True,
            native_cardiac_recovery=True,
            respiratory_failure=True,
        ),
        "VAV",
        ["differential_hypoxaemia"],
    ),
    (
        "femoral VA with differential hypoxaemia and recovery → VAV",
        Physiology(
            current_mode="VA",
            femoral_return=True,
            native_cardiac_recovery=True,
            differential_hypoxaemia=True,
        ),
        "VAV",
        ["differential_hypoxaemia"],
    ),
    (
        "on VV and the heart now fails → VVA",
        Physiology(current_mode="VV", cardiogenic_shock=True, respiratory_failure=True),
        "VVA",
        ["cardiogenic_shock", "vv_cardiac_failure"],
    ),
    (
        "right-ventricular failure with working left heart → V-PA",
        Physiology(rv_failure=True, respiratory_failure=True),
        "V-PA",
        ["rv_failure"],
    ),
    (
        "RV failure and cardiogenic shock → VA (biventricular)",
        Physiology(rv_failure=True, cardiogenic_shock=True),
        "VA",
        ["cardiogenic_shock"],
    ),
    (
        "nothing entered → no recommendation",
        Physiology(),
        None,
        [],
    ),
]


@pytest.mark.parametrize(
    ("situation", "physiology", "mode", "rules"), SITUATIONS, ids=[s[0] for s in SITUATIONS]
)
def test_recommended_mode(
    situation: str, physiology: Physiology, mode: str | None, rules: list[str]
) -> None:
    advice = recommend(physiology)
    assert advice.mode == mode, situation
    fired = [r.rule for r in advice.fired]
    assert fired == rules
    for rule in advice.fired:
        assert rule.reasoning and rule.source, "every rule shows its reasoning and source"
        assert "§" in rule.source or "ELSO" in rule.source


def test_the_vav_case_fires_differential_hypoxaemia_with_its_physiology() -> None:
    advice = recommend(
        Physiology(
            current_mode="VA",
            femoral_return=True,
            native_cardiac_recovery=True,
            respiratory_failure=True,
        )
    )
    assert advice.mode == "VAV"
    assert "right atrium" in advice.fired[-1].reasoning


@pytest.mark.parametrize(
    ("mode", "family"),
    [
        ("VV", "VV"),
        ("VA", "VA"),
        ("VA+Impella", "VA"),
        ("VAV", "VA"),
        ("V-PA", "VA"),
        ("VV-ECCO2R", "VV"),
    ],
)
def test_flow_target_family(mode: str, family: str) -> None:
    assert base_of(mode) == family

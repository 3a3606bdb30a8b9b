"""The adverse-event taxonomy: every code in a known category, ELSO codes in the hundreds
block of their category, ECLS-CDM concepts only for circuit/access events, nothing guessed."""

from __future__ import annotations

from continuum.quality import taxonomy as t

ELSO_HUNDREDS = {
    "mechanical": 1,
    "haemorrhagic": 2,
    "neurological": 3,
    "renal": 4,
    "cardiovascular": 5,
    "pulmonary": 6,
    "infectious": 7,
    "metabolic": 8,
    "limb": 9,
}


def test_every_code_is_unique_and_in_a_category() -> None:
    assert len(t.CODE_NAMES) == len(set(t.CODE_NAMES))
    for c in t.CODES:
        assert c.category in t.CATEGORIES, c
        assert c.part is None or c.part in t.PART_LABELS, c


def test_elso_codes_sit_in_their_categorys_hundreds_block() -> None:
    for c in t.CODES:
        if c.elso is not None:
            assert c.elso // 100 == ELSO_HUNDREDS[c.category], c


def test_unmapped_codes_are_reported_not_guessed() -> None:
    unmapped = {c.code for c in t.unmapped_elso()}
    assert "mech_console_failure" in unmapped  # no ELSO code in the published list
    assert "other" in unmapped
    assert t.code("mech_ml_failure").elso == 101
    assert t.code("mech_pump_clot").ecls_cdm == 36717833  # blood clot in blood pump
    assert t.codes_in("limb") and all(c.category == "limb" for c in t.codes_in("limb"))

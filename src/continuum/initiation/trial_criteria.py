"""EOLIA and ECPR entry criteria: each item met, not met, or missing (docs/clinical/reference.md
§1.9, §1.10).

Pure. A missing input leaves its item unknown (None) — never counted as met or as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EOLIA_SOURCE = "EOLIA (Combes A et al., NEJM 2018), via J Intensive Care 2023 Table 1 [P]; §1.9"
ECPR_SOURCE = (
    "ELSO ECPR 2021 [P] and typical selection criteria [S]/[U]; docs/clinical/reference.md §1.10"
)


@dataclass(frozen=True)
class Threshold:
    """A cut-off with its published default; a programme may set its own (ProgrammeSetting)."""

    default: float
    low: float
    high: float
    unit: str
    label: str
    source: str


ECPR_TYPICAL = "typical ECPR selection criteria (StatPearls-derived) [S]"
ECPR_THRESHOLDS: dict[str, Threshold] = {
    "ecpr_max_age_years": Threshold(70, 18, 100, "years", "age below", ECPR_TYPICAL),
    "ecpr_max_no_flow_min": Threshold(5, 0, 30, "min", "no-flow below", ECPR_TYPICAL),
    "ecpr_min_cpr_min": Threshold(
        10, 0, 60, "min", "CPR at least", "ELSO ECPR 2021 [P]: after 10–15 min of CPR"
    ),
    "ecpr_max_expected_flow_min": Threshold(
        60, 15, 180, "min", "arrest-to-flow below", "[U] centre-configurable default"
    ),
    "ecpr_min_etco2_mmhg": Threshold(
        10, 0, 40, "mmHg", "EtCO2 above", "[U] centre-configurable default"
    ),
}


def ecpr_limits(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The published defaults with the programme's overrides applied."""
    return {k: float((overrides or {}).get(k, t.default)) for k, t in ECPR_THRESHOLDS.items()}


@dataclass(frozen=True)
class Item:
    text: str
    met: bool | None  # None: input missing


@dataclass(frozen=True)
class CriteriaResult:
    name: str
    items: tuple[Item, ...]
    met: bool | None
    source: str
    note: str = ""

    @property
    def status(self) -> str:
        return {True: "met", False: "not met", None: "incomplete"}[self.met]


def _cmp(values: Mapping[str, Any], key: str, test: Any) -> bool | None:
    value = values.get(key)
    return None if value is None else bool(test(float(value)))


def _all(flags: list[bool | None]) -> bool | None:
    if any(f is False for f in flags):
        return False
    return None if any(f is None for f in flags) else True


def _any(flags: list[bool | None]) -> bool | None:
    if any(f is True for f in flags):
        return True
    return None if any(f is None for f in flags) else False


def eolia(v: Mapping[str, Any]) -> CriteriaResult:
    pf, pf_h = v.get("pf_ratio_mmhg"), v.get("pf_hours")
    severe = [
        _all([_cmp(v, "pf_ratio_mmhg", lambda x: x < 50), _cmp(v, "pf_hours", lambda x: x > 3)]),
        _all([_cmp(v, "pf_ratio_mmhg", lambda x: x < 80), _cmp(v, "pf_hours", lambda x: x > 6)]),
        _all(
            [
                _cmp(v, "ph", lambda x: x < 7.25),
                _cmp(v, "paco2_mmhg", lambda x: x >= 60),
                _cmp(v, "hypercapnia_hours", lambda x: x > 6),
            ]
        ),
    ]
    items = (
        Item("Ventilated <7 days", _cmp(v, "ventilation_days", lambda x: x < 7)),
        Item("FiO2 ≥0.80 (optimised)", _cmp(v, "fio2", lambda x: x >= 0.8)),
        Item("PEEP ≥10 cmH2O", _cmp(v, "peep_cmh2o", lambda x: x >= 10)),
        Item(f"PaO2/FiO2 <50 mmHg for >3 h (given {pf}, {pf_h} h)", severe[0]),
        Item("PaO2/FiO2 <80 mmHg for >6 h", severe[1]),
        Item("pH <7.25 with PaCO2 ≥60 mmHg for >6 h", severe[2]),
    )
    met = _all([items[0].met, items[1].met, items[2].met, _any(severe)])
    note = "One of the three severity items is enough; '<' as in the NEJM original ([U])."
    return CriteriaResult("EOLIA entry criteria", items, met, EOLIA_SOURCE, note)


def ecpr(v: Mapping[str, Any], overrides: Mapping[str, float] | None = None) -> CriteriaResult:
    lim = ecpr_limits(overrides)
    rhythm = v.get("initial_rhythm")
    witnessed = v.get("witnessed")
    age, no_flow = lim["ecpr_max_age_years"], lim["ecpr_max_no_flow_min"]
    cpr, flow = lim["ecpr_min_cpr_min"], lim["ecpr_max_expected_flow_min"]
    etco2 = lim["ecpr_min_etco2_mmhg"]
    items = (
        Item(f"Age <{age:g} years", _cmp(v, "age_years", lambda x: x < age)),
        Item("Witnessed arrest", None if witnessed is None else bool(witnessed)),
        Item(f"No-flow <{no_flow:g} min", _cmp(v, "no_flow_min", lambda x: x < no_flow)),
        Item("Initial rhythm VF/pVT/PEA", None if rhythm is None else rhythm in ("vf_pvt", "pea")),
        Item(f"CPR ≥{cpr:g} min without sustained ROSC", _cmp(v, "cpr_min", lambda x: x >= cpr)),
        Item(
            f"Expected arrest-to-flow <{flow:g} min",
            _cmp(v, "expected_flow_min", lambda x: x < flow),
        ),
        Item(f"EtCO2 >{etco2:g} mmHg during CPR", _cmp(v, "etco2_mmhg", lambda x: x > etco2)),
    )
    note = "ECPR is considered after 10–15 min of unsuccessful conventional CPR (ELSO 2021)."
    return CriteriaResult(
        "ECPR selection criteria", items, _all([i.met for i in items]), ECPR_SOURCE, note
    )

"""The support-configuration spec table (docs/clinical/support-configurations.md) against the
one module that every other module asks, and the callers against the module."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from continuum import support_configuration as sc
from continuum.core import schemas, vocab
from continuum.errors import ValidationFailed
from continuum.initiation import contradictions
from continuum.initiation.modality_rules import Physiology, base_of, recommend
from continuum.scores import preserve, resp, save
from continuum.surveillance import DETECTOR_CODES, RunSeries, run_all_detectors
from continuum.surveillance.static import run_static_detectors
from continuum.weaning import criteria

SPEC = Path(__file__).parents[1] / "docs" / "clinical" / "support-configurations.md"
YES_NO = {"yes": True, "no": False}
FAMILY_WORDS = {
    "respiratory": "respiratory",
    "circulatory": "circulatory",
    "hybrid": "hybrid",
    "right-ventricular": "right_ventricular",
    "CO2 removal": "co2_removal",
}
SITE_WORDS = {"vein": "vein", "artery": "artery", "pulmonary artery": "pulmonary_artery"}
FLOW_WORDS = {"by weight": "VV", "by cardiac index": "VA"}


def spec_rows() -> list[dict[str, str]]:
    lines = [ln.strip() for ln in SPEC.read_text(encoding="utf-8").splitlines()]
    table = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| ---")]
    header = [c.strip() for c in table[0].strip("|").split("|")]
    return [
        dict(zip(header, [c.strip() for c in r.strip("|").split("|")], strict=True))
        for r in table[1:]
    ]


ROWS = spec_rows()


def test_the_spec_table_lists_every_mode_of_the_vocabulary_once() -> None:
    assert [r["Mode"] for r in ROWS] == list(sc.MODES)
    assert vocab.MODES == sc.MODES
    assert typing.get_args(schemas.Mode) == sc.MODES


@pytest.mark.parametrize("row", ROWS, ids=[r["Mode"] for r in ROWS])
def test_configuration_matches_the_spec_row(row: dict[str, str]) -> None:
    c = sc.of(row["Mode"])
    assert c.family == FAMILY_WORDS[row["Family"]]
    assert c.drainage == tuple(SITE_WORDS[s.strip()] for s in row["Drainage"].split("+"))
    assert c.returns == tuple(SITE_WORDS[s.strip()] for s in row["Return"].split("+"))
    assert c.arterial_return is YES_NO[row["Arterial return"]]
    assert c.recirculation_applies is YES_NO[row["Recirculation"]]
    assert c.differential_hypoxia_applies is YES_NO[row["Differential hypoxia"]]
    assert c.weaning == row["Weaning"]
    assert c.flow_target == FLOW_WORDS[row["Flow target"]]
    scores = () if row["Scores"] == "—" else tuple(s.strip() for s in row["Scores"].split(","))
    assert c.scores == scores
    detectors = set(sc.CIRCUIT_DETECTORS)
    if YES_NO[row["Recirculation"]]:
        detectors.add("recirculation")
    if YES_NO[row["Differential hypoxia"]]:
        detectors.add("differential_hypoxia")
    detectors |= set(sc.DEVICE_DETECTORS)  # a device's own readings, wherever they arrive
    assert c.lv_unloading_applies is YES_NO[row["LV unloading context"]]
    if YES_NO[row["LV unloading context"]]:
        detectors.add("lv_unloading_context")
    assert set(c.detectors) == detectors


def test_the_detector_lists_are_the_engines() -> None:
    assert set(sc.ALL_DETECTORS) == set(DETECTOR_CODES)


def test_lookup_ignores_case_and_knows_aliases_and_refuses_the_unknown() -> None:
    assert sc.of("va+impella").mode == "VA+Impella"
    assert sc.of("ECCO2R").mode == "VV-ECCO2R"
    assert sc.find("VX") is None
    with pytest.raises(ValidationFailed) as exc:
        sc.of("VX")
    assert exc.value.problems[0].field == "mode"
    assert "VV+IABP" in exc.value.message


def test_a_run_without_a_mode_takes_its_support_types_usual_mode() -> None:
    assert sc.of_run(None, "pulmonary").mode == "VV"
    assert sc.of_run(None, "ecpr").mode == "VA"
    assert sc.of_run("VV+IABP", "cardiac").mode == "VV+IABP"  # the recorded mode wins


# -- callers ---------------------------------------------------------------------------------


def _recirculating_run(mode: str) -> RunSeries:
    """Drainage saturation climbing towards the return limb while the patient desaturates."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(minutes=m) for m in range(12 * 60)]
    n = len(times)
    ramp = np.clip((np.arange(n) - 8 * 60) / 60.0, 0.0, 1.0)
    signals = {
        "pre_oxy_so2": (times, 70.0 + 20.0 * ramp),
        "post_oxy_so2": (times, np.full(n, 100.0)),
        "spo2": (times, 94.0 - 8.0 * ramp),
        "blood_flow": (times, np.full(n, 4.5)),
    }
    return RunSeries(mode, signals)


@pytest.mark.parametrize(
    ("mode", "raised"),
    [("VV", True), ("VV+IABP", True), ("VV+RVAD", True), ("VA", False), ("V-PA", False)],
)
def test_surveillance_runs_recirculation_where_the_return_is_venous(
    mode: str, raised: bool
) -> None:
    alerts = run_all_detectors(_recirculating_run(mode), only=["recirculation"])
    assert bool(alerts) is raised


def test_static_baseline_follows_the_configuration_too() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(minutes=m) for m in range(60)]
    low = {"spo2_right": (times, np.full(60, 80.0))}
    assert run_static_detectors(RunSeries("VA+IABP", low))
    assert not run_static_detectors(RunSeries("VV+IABP", low))


@pytest.mark.parametrize("row", ROWS, ids=[r["Mode"] for r in ROWS])
def test_weaning_and_flow_target_families_come_from_the_table(row: dict[str, str]) -> None:
    assert criteria.family(row["Mode"], "pulmonary") == row["Weaning"]
    assert base_of(row["Mode"]) == FLOW_WORDS[row["Flow target"]]


@pytest.mark.parametrize("row", ROWS, ids=[r["Mode"] for r in ROWS])
def test_a_choice_without_arterial_return_in_shock_needs_a_reason(row: dict[str, str]) -> None:
    shock = Physiology(cardiogenic_shock=True)
    found = contradictions.in_modality(shock, "VA", row["Mode"])
    flagged = any(c.code == "venous_return_in_shock" for c in found)
    assert flagged is (row["Arterial return"] == "no")


def test_on_vv_with_an_iabp_a_failing_heart_gets_an_arterial_return_added() -> None:
    advice = recommend(Physiology(current_mode="VV+IABP", cardiogenic_shock=True))
    assert advice.mode == "VVA"  # the balloon is not an arterial return: add one
    assert [r.rule for r in advice.fired] == ["cardiogenic_shock", "vv_cardiac_failure"]


@pytest.mark.parametrize("row", ROWS, ids=[r["Mode"] for r in ROWS])
def test_score_population_warnings_follow_the_table(row: dict[str, str]) -> None:
    mode, listed = row["Mode"], row["Scores"]
    outside = {
        "RESP": any("RESP was derived" in w for w in resp.population_warnings(40, mode, None)),
        "SAVE": any("SAVE was derived" in w for w in save.population_warnings(40, mode, None)),
    }
    for score, warned in outside.items():
        assert warned is (score not in listed), score
    kept = preserve.preserve(
        age_years=40,
        bmi=25,
        immunocompromised=False,
        mechanical_ventilation_days=1,
        sofa=5,
        prone_positioning=True,
        peep_cmh2o=12,
        peak_inspiratory_pressure_cmh2o=30,
        mode=mode,
    )
    assert any("PRESERVE was derived for VV" in w for w in kept.warnings) is (
        "PRESERVE" not in listed
    )


@pytest.mark.parametrize(
    ("mode", "group", "combined"),
    [
        ("VA", "impella_lvad", "VA+Impella"),
        ("VA", "iabp", "VA+IABP"),
        ("VV", "iabp", "VV+IABP"),
        ("VV", "temporary_rvad", "VV+RVAD"),
        ("VA+Impella", "impella_lvad", "VA+Impella"),
        ("VV", "impella_lvad", None),
        ("V-PA", "temporary_rvad", None),
        ("VA", "durable_lvad", None),
    ],
)
def test_a_device_beside_the_circuit_makes_the_combined_mode(
    mode: str, group: str, combined: str | None
) -> None:
    found = sc.with_device(mode, group)
    assert (found.mode if found else None) == combined

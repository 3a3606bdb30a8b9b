"""Scoring alerts against known faults (for the scenario-library evaluation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from surveillance_shapes import at, brief, labs, run, step

from continuum.surveillance.engine import run_all_detectors
from continuum.surveillance.evaluation import compare, score


@dataclass
class Fault:
    kind: str
    onset: object
    obvious_at: object = None


def test_found_missed_secondary_and_false() -> None:
    series = run(
        console={"p_access": step(-40, -120, 30)},
        sparse={"pfhb": labs({1: 5, 20: 70}), "anti_xa": labs({1: 0.4, 10: 0.1})},
    )
    faults = [Fault("access_insufficiency", at(29), at(30)), Fault("pump_thrombosis", at(40))]
    s = score(run_all_detectors(series), faults)
    assert [k for k, _ in s.found] == ["access_insufficiency"] and 0 <= s.found[0][1] < 1
    assert s.missed == ["pump_thrombosis"]
    assert [a.detector for a in s.secondary] == ["hemolysis"]
    assert [a.detector for a in s.false] == ["anticoagulation_out_of_range"]


def test_compare_scores_trend_and_static_sets_on_the_same_run() -> None:
    series = run(console={"p_access": brief(-40, -200)})
    result = compare(series, [Fault("access_insufficiency", datetime(2026, 3, 2, 12))])
    assert result["trend"].false == [] and result["trend"].missed == ["access_insufficiency"]
    assert [a.detector for a in result["static"].false] == ["access_insufficiency"]

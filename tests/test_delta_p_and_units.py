"""ΔP has one derivation and unit factors one table (continuum.vocabulary): every path that
derives ΔP or converts a unit gives the vocabulary's answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from continuum import calculators, vocabulary
from continuum.core.observation_service import CleanValue, derived_delta_p
from continuum.ingest.console_csv import read_console_text
from continuum.ingest.device_service import _derived
from continuum.surveillance import RunSeries
from continuum.surveillance.grid import Grid
from continuum.surveillance.settings import DEFAULT_SETTINGS
from continuum.surveillance.transmembrane_gradient_rise import delta_p as surveillance_dp

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# (pre, post, measured ΔP or None): plain, a measured ΔP that wins, an implausible difference
CASES = [(310.0, 262.0, None), (300.0, 250.0, 41.0), (890.0, 10.0, None), (280.0, 236.5, None)]


def expected() -> list[float | None]:
    out: list[float | None] = []
    for pre, post, measured in CASES:
        given = {"p_preoxy": pre, "p_postoxy": post}
        if measured is not None:
            given["oxy_delta_p"] = measured
        out.append(vocabulary.delta_p_of(given))
    return out


def test_the_vocabulary_rule() -> None:
    assert expected() == [48.0, None, None, 43.5]  # measured: nothing derived; 880: implausible
    assert vocabulary.delta_p(200.0, 240.0) == -40.0  # negative but plausible (−50 to 500)
    assert vocabulary.delta_p(100.0, 200.0) is None  # −100 mmHg: below the plausible −50


def test_manual_and_api_entry_derive_the_same() -> None:
    values = []
    for i, (pre, post, measured) in enumerate(CASES):
        t = T0 + timedelta(minutes=i)
        values += [CleanValue("p_preoxy", t, pre, "mmHg", "manual")]
        values += [CleanValue("p_postoxy", t, post, "mmHg", "manual")]
        if measured is not None:
            values += [CleanValue("oxy_delta_p", t, measured, "mmHg", "manual")]
    got = {v.time: v.value for v in derived_delta_p(values)}
    want = expected()
    assert [got.get(T0 + timedelta(minutes=i)) for i in range(len(CASES))] == want


def test_console_csv_derives_the_same() -> None:
    lines = ["time,p_preoxy,p_postoxy,oxy_delta_p"]
    for i, (pre, post, measured) in enumerate(CASES):
        t = (T0 + timedelta(minutes=i)).isoformat()
        lines.append(f"{t},{pre},{post},{'' if measured is None else measured}")
    console = read_console_text("\n".join(lines) + "\n")
    times, values = console.derived.get("oxy_delta_p", (np.array([]), np.array([])))
    derived = dict(
        zip(times.astype("datetime64[m]").astype(int).tolist(), values.tolist(), strict=True)
    )
    start = int(np.datetime64(T0.replace(tzinfo=None), "m").astype(int))
    assert [derived.get(start + i) for i in range(len(CASES))] == expected()


def test_device_messages_derive_the_same() -> None:
    rows = []
    for i, (pre, post, measured) in enumerate(CASES):
        t = T0 + timedelta(minutes=i)
        base = {"run_id": 1, "time": t, "unit": "mmHg", "source": "hl7"}
        rows += [{**base, "code": "p_preoxy", "value": pre}]
        rows += [{**base, "code": "p_postoxy", "value": post}]
        if measured is not None:
            rows += [{**base, "code": "oxy_delta_p", "value": measured}]
    got = {r["time"]: r["value"] for r in _derived(rows)}
    assert [got.get(T0 + timedelta(minutes=i)) for i in range(len(CASES))] == expected()
    assert all(r["code"] == "oxy_delta_p" and r["unit"] == "mmHg" for r in _derived(rows))


def test_surveillance_reads_measured_else_the_same_derivation() -> None:
    cases = [CASES[0], CASES[2], CASES[3], CASES[1]]  # a measured ΔP carries forward: last
    times = [T0 + timedelta(minutes=i) for i in range(len(cases))]
    signals = {
        "p_preoxy": (times, [c[0] for c in cases]),
        "p_postoxy": (times, [c[1] for c in cases]),
        "oxy_delta_p": (times, [np.nan if c[2] is None else c[2] for c in cases]),
    }
    grid = Grid.over(RunSeries("VV", signals), 60)
    dp = surveillance_dp(grid, DEFAULT_SETTINGS)
    want = [48.0, np.nan, 43.5, 41.0]  # the measured ΔP where sent, else the derivation
    np.testing.assert_allclose(dp[: len(cases)], want)


def test_calculators_use_the_vocabularys_unit_factors() -> None:
    assert calculators.KPA.factor == vocabulary.MMHG_PER_KPA
    assert vocabulary.convert("pao2", 10.0, "kPa") == pytest.approx(10.0 * calculators.KPA.factor)
    g_l, mmol = calculators.HB_UNITS
    assert vocabulary.convert("hb", 95.0, "g/L") == pytest.approx(95.0 * g_l.factor)
    assert vocabulary.convert("hb", 6.2, "mmol/L") == pytest.approx(6.2 * mmol.factor)
    assert vocabulary.convert("blood_flow", 4200.0, "mL/min") == pytest.approx(
        4200.0 * calculators.ML_PER_MIN.factor
    )


FACTOR_LITERALS = re.compile(r"(?<![\d.])(7\.50062|0\.750062|1\.611|17\.1|88\.4|9\.008)(?!\d)")


def test_no_unit_factor_literal_outside_the_vocabulary() -> None:
    src = Path(vocabulary.__file__).parent
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if p.name != "vocabulary.py"
        and "migrations" not in p.parts
        and FACTOR_LITERALS.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []

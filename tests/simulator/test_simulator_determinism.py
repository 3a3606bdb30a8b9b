"""Same seed, same bytes; different seed, different data; the CSV obeys docs/contracts.md §2."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from continuum.simulator import simulate
from continuum.vocabulary import CODES


def test_same_seed_gives_byte_identical_csv_and_truth(tmp_path: Path) -> None:
    a = simulate("oxygenator_failure", "VV", 30, 5)
    b = simulate("oxygenator_failure", "VV", 30, 5)
    a.to_csv(tmp_path / "a.csv")
    b.to_csv(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    a.write_truth(tmp_path / "a.json")
    b.write_truth(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    a = simulate("control_vv", "VV", 12, 1)
    b = simulate("control_vv", "VV", 12, 2)
    a.to_csv(tmp_path / "a.csv")
    b.to_csv(tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()
    assert not np.array_equal(a.signals["p_access"], b.signals["p_access"], equal_nan=True)


def test_csv_format(tmp_path: Path) -> None:
    run = simulate("control_va", "VA", 8, 3, start=datetime(2026, 3, 1, 6, 30, tzinfo=UTC))
    path = run.to_csv(tmp_path / "run.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[0] == "time"
    assert all(code in CODES for code in header[1:])
    assert len(set(header)) == len(header)
    assert body[0][0] == "2026-03-01T06:30:00Z"
    for row in body:
        assert row[0].endswith("Z") and len(row) == len(header)
        assert any(cell != "" for cell in row[1:])
        for cell in row[1:]:
            if cell:
                float(cell)
    # Sparse codes are mostly blank.
    col = header.index("post_oxy_po2")
    filled = sum(1 for row in body if row[col])
    assert 0 < filled < len(body) / 100


def test_times_are_minutes_from_start() -> None:
    run = simulate("control_vv", "VV", 2, 1)
    assert run.times.size == 120
    assert np.all(np.diff(run.times) == np.timedelta64(1, "m"))
    for values in run.signals.values():
        assert values.shape == (120,)


def test_truth_json_shape(tmp_path: Path) -> None:
    run = simulate("low_heparin_pump_clot", "VV", 48, 2)
    data = json.loads(run.write_truth(tmp_path / "t.json").read_text())
    assert data["scenario"] == "low_heparin_pump_clot" and data["mode"] == "VV"
    kinds = {f["kind"] for f in data["faults"]}
    assert kinds == {"anticoagulation_out_of_range", "pump_thrombosis"}
    for fault in data["faults"]:
        assert fault["onset"].endswith("Z")
        assert set(fault) >= {"kind", "onset", "obvious_at", "ended_at", "criterion"}
    assert data["artefacts"], "controls and faults carry artefacts"
    assert data == run.truth_json()

"""`continuum evaluate` scores every detector on unseen simulator seeds, beside the static
console-alarm set; JSON for machines, a table for people."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from continuum.commands.evaluate import parse_seeds
from continuum.surveillance import DETECTOR_CODES

CONTINUUM = str(Path(sys.executable).parent / "continuum")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONTINUUM, *args], capture_output=True, text=True, timeout=300)


def test_json_scores_every_detector_and_catches_every_fault() -> None:
    out = run("evaluate", "--seeds", "1001", "--hours", "72", "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["seeds"] == [1001] and set(result["detectors"]) == set(DETECTOR_CODES)
    for code, m in result["detectors"].items():
        assert set(m) == {"trend", "static", "paired"}
        both = sum(m["paired"].values())
        assert both <= min(m["trend"]["caught"], m["static"]["caught"]), code
        if m["trend"]["faults"]:
            assert m["trend"]["sensitivity"] == 1.0, code
        assert m["trend"]["false_alerts_per_run_day"] == 0, code


def test_text_table_and_bad_seeds() -> None:
    out = run("evaluate", "--seeds", "1001", "--hours", "24")
    assert out.returncode == 0, out.stderr
    assert "oxygenator_dysfunction" in out.stdout and "trend | static" in out.stdout
    bad = run("evaluate", "--seeds", "x-y")
    assert bad.returncode == 2 and "--seeds 'x-y'" in bad.stderr
    assert parse_seeds("1001-1003,1007") == [1001, 1002, 1003, 1007]

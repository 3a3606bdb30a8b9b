"""`continuum quality arl` / `quality limit`: the in-control ARL for a file of risks, the h
for a wanted false-alarm rate, and bad files refused with line and value (exit 2, no
traceback). docs/clinical/reference.md §7.6."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from continuum.cli import main
from continuum.control_charts import run_length

CONTINUUM = str(Path(sys.executable).parent / "continuum")


@pytest.fixture
def risk_file(tmp_path: Path) -> Path:
    scores = np.random.default_rng(5).integers(0, 72, 200)
    risks = 1 / (1 + np.exp(-(-3.68 + 0.077 * scores)))
    path = tmp_path / "risks.txt"
    path.write_text("# predicted risks\n" + "\n".join(f"{r:.5f}" for r in risks) + "\n\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_arl_as_json_matches_the_package(
    risk_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "quality", "arl", "--risks", str(risk_file), "--h", "4.5", "--ra", "2",
        "--states", "400", "--format", "json", "--runs-per-year", "40",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    lines = risk_file.read_text().splitlines()
    risks = [float(x) for x in lines if x and not x.startswith("#")]
    expected = run_length.arl_markov(risks, 2, 4.5, states=400).arl
    assert data["arl"] == pytest.approx(expected, abs=0.01)
    assert data["risks"] == 200 and data["states"] == 400 and data["odds_ratio"] == 2
    assert data["false_alarms_per_year"] == pytest.approx(40 / expected, abs=1e-4)
    assert "§7.6" in data["source"] and data["units"].startswith("patients")


def test_arl_as_text_names_the_figures(risk_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "quality", "arl", "--risks", str(risk_file), "--h", "2", "--ra", "0.5",
        "--runs-per-year", "40",
    )  # fmt: skip
    assert code == 0
    assert "In-control ARL:" in out and "odds ratio 0.5, h 2" in out
    assert "200 risks" in out and "false alarms a year" in out


def test_limit_finds_h_for_the_wanted_false_alarms(
    risk_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "quality", "limit", "--risks", str(risk_file), "--ra", "2",
        "--runs-per-year", "40", "--false-alarms-per-year", "0.2", "--format", "json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["target_arl"] == 200
    assert data["arl"] == pytest.approx(200, rel=0.01)
    assert data["false_alarms_per_year"] == pytest.approx(0.2, rel=0.01)


@pytest.mark.parametrize(
    "content, names",
    [
        ("0.2\n0.3\nabc\n", ["line 3", "'abc'", "not a number", "0 < risk < 1"]),
        ("0.2\n1.5\n", ["line 2", "1.5", "outside the allowed range 0 < risk < 1"]),
        ("0.2\n\n# note\n0\n", ["line 4", "0", "0 < risk < 1"]),
        ("# nothing\n\n", ["holds no risks"]),
    ],
)
def test_a_bad_risk_file_exits_2_naming_line_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, names: list[str]
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    code, out, err = run(capsys, "quality", "arl", "--risks", str(path), "--h", "4", "--ra", "2")
    assert code == 2 and out == ""
    for name in names:
        assert name in " ".join(err.split()), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "options, names",
    [
        (["--h", "0", "--ra", "2"], ["h = 0", "h > 0"]),
        (["--h", "4", "--ra", "-1"], ["odds_ratio = -1", "> 0"]),
        (["--h", "4", "--ra", "1"], ["odds_ratio = 1", "≠ 1"]),
        (["--h", "4", "--ra", "2", "--states", "3"], ["states = 3", "10–2000"]),
        (["--h", "4", "--ra", "2", "--format", "xml"], ["--format 'xml'", "text or json"]),
        (["--h", "4", "--ra", "2", "--runs-per-year", "0"], ["runs_per_year = 0", "> 0"]),
    ],
)
def test_bad_options_exit_2_naming_value_and_range(
    risk_file: Path, capsys: pytest.CaptureFixture[str], options: list[str], names: list[str]
) -> None:
    code, _, err = run(capsys, "quality", "arl", "--risks", str(risk_file), *options)
    assert code == 2
    for name in names:
        assert name in " ".join(err.split()), err


def test_missing_file_through_the_installed_command(tmp_path: Path) -> None:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": "sqlite:///does-not-matter.db"}
    result = subprocess.run(
        [CONTINUUM, "quality", "arl", "--risks", "nope.txt", "--h", "4", "--ra", "2"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "nope.txt does not exist" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr + result.stdout
    assert not list(tmp_path.iterdir())

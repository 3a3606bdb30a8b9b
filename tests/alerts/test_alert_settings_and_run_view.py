"""The programme's thresholds change what is detected; bad values are refused whole; a
run's open alerts reach `run show` (API and command line) in the docs/contracts.md §3 shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import run_view, settings_service
from continuum.core.record import AuditEntry, ProgrammeSetting
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from tests.alerts.conftest import PHYSICIAN, T0, alerts, count, store

QA = Actor(staff_id=5, name="Test qa_lead", role="qa_lead")
CONTRACT_KEYS = {"detector", "severity", "raised_at", "cleared_at", "summary", "evidence"}


def test_a_programme_threshold_changes_detection(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=45)  # below the published 50 mg/dL
    with unit_of_work(sessions) as db:
        assert [a.severity for a in alerts(db, run_id) if a.detector == "hemolysis"] == []
        settings_service.save(db, QA, "surveillance", {"pfhb_warning": "40"}, "QA committee")
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + timedelta(hours=1), pfhb=45)
    with unit_of_work(sessions) as db:
        [alert] = [a for a in alerts(db, run_id) if a.detector == "hemolysis"]
        assert alert.severity == "warning"
        assert alert.evidence["threshold"]["value"] == 40.0
        described = {t.key: t for t in settings_service.describe(db, QA, "surveillance")}
        assert described["pfhb_warning"].value == 40.0
        assert described["pfhb_warning"].overridden
        assert described["pfhb_warning"].default == 50


def test_a_bad_threshold_is_refused_and_nothing_is_written(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        before = count(db, ProgrammeSetting), count(db, AuditEntry)
        with pytest.raises(ValidationFailed) as exc:
            settings_service.save(
                db, QA, "surveillance", {"pfhb_warning": "45", "pfhb_critical": "2000"}
            )
        [problem] = exc.value.problems
        assert problem.field == "pfhb_critical"
        assert problem.message == (
            "plasma free Hb critical (pfhb_critical): 2000 mg/dL is outside the allowed "
            "0–1000 mg/dL"
        )
        assert (count(db, ProgrammeSetting), count(db, AuditEntry)) == before
        with pytest.raises(Forbidden):
            settings_service.save(db, PHYSICIAN, "surveillance", {"pfhb_warning": "45"})


def test_open_alerts_reach_the_run_summary(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        summary = run_view.summary(db, PHYSICIAN, db.get_one(Run, 1))
    detectors = {a["detector"] for a in summary["open_alerts"]}
    assert detectors == {"hemolysis", "anticoagulation_out_of_range"}  # seeded labs
    for alert in summary["open_alerts"]:
        assert set(alert) >= CONTRACT_KEYS
        assert alert["raised_at"].endswith("Z")


def test_run_show_on_the_command_line_lists_open_alerts(sqlite_url: str) -> None:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": sqlite_url}
    cli = str(Path(sys.executable).parent / "continuum")
    out = subprocess.run(
        [cli, "run", "show", "1", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)["open_alerts"]
    assert {a["detector"] for a in shown} == {"hemolysis", "anticoagulation_out_of_range"}
    engine = make_engine(sqlite_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        assert len(alerts(db, 1)) == 2
    engine.dispose()

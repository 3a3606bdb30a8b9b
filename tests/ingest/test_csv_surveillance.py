"""A console file is stored in one transaction and its run marked due for surveillance;
the detectors run right after — in the CLI before it returns, in the web app on its
evaluator thread — and nothing is evaluated for a file that did not commit."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests import conftest
from tests.alerts.conftest import new_run
from tests.conftest import Web
from tests.seed import RUN_START
from typer.testing import CliRunner

from continuum.alerts.due import evaluate_due
from continuum.alerts.models import CircuitAlert, SurveillanceDue
from continuum.app import create_app
from continuum.cli import app as cli
from continuum.core.roles import CLI_ACTOR
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.ingest.csv_service import import_csv


def suction_file(start: datetime, minutes: int = 60) -> str:
    """Flow steady, drainage pressure at −130 mmHg (past the −100 critical line) throughout."""
    lines = ["time,blood_flow,pump_speed,p_access"]
    for m in range(minutes):
        t = (start + timedelta(minutes=m)).isoformat().replace("+00:00", "Z")
        lines.append(f"{t},4.5,3600,-130")
    return "\n".join(lines) + "\n"


def alert_codes(db: Session, run_id: int) -> set[str]:
    stmt = select(CircuitAlert.detector).where(CircuitAlert.run_id == run_id)
    return set(db.scalars(stmt))


def due(db: Session, run_id: int) -> int:
    stmt = select(func.count()).where(SurveillanceDue.run_id == run_id)
    return int(db.scalar(stmt) or 0)


def test_an_imported_file_is_evaluated_after_its_commit(sessions) -> None:  # type: ignore[no-untyped-def]
    run_id = new_run(sessions)
    text = suction_file(RUN_START + timedelta(hours=1))
    with unit_of_work(sessions) as db:
        import_csv(db, CLI_ACTOR, run_id, io.StringIO(text), "suction.csv")
    with unit_of_work(sessions) as db:
        assert alert_codes(db, run_id) == set() and due(db, run_id) == 1
    assert evaluate_due(sessions) == 1
    with unit_of_work(sessions) as db:
        assert "access_insufficiency" in alert_codes(db, run_id)
        assert due(db, run_id) == 0


def test_a_file_that_did_not_commit_leaves_nothing_due(sessions) -> None:  # type: ignore[no-untyped-def]
    run_id = new_run(sessions)
    text = suction_file(RUN_START + timedelta(hours=1))
    try:
        with unit_of_work(sessions) as db:
            import_csv(db, CLI_ACTOR, run_id, io.StringIO(text), "suction.csv")
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with unit_of_work(sessions) as db:
        assert due(db, run_id) == 0
    assert evaluate_due(sessions) == 0


def test_the_cli_import_returns_with_the_alerts_evaluated(
    sqlite_url: str, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(make_engine(sqlite_url))
    run_id = new_run(sessions)
    path = tmp_path / "suction.csv"
    path.write_text(suction_file(RUN_START + timedelta(hours=1)))
    monkeypatch.setenv("CONTINUUM_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(cli, ["ingest", "csv", str(path), "--run", str(run_id)])
    assert result.exit_code == 0, result.output
    with unit_of_work(sessions) as db:
        assert "access_insufficiency" in alert_codes(db, run_id) and due(db, run_id) == 0


def test_the_web_app_evaluates_an_upload_on_its_own(sqlite_url: str) -> None:
    from fastapi.testclient import TestClient

    sessions = make_sessionmaker(make_engine(sqlite_url))
    run_id = new_run(sessions)
    settings = conftest.test_settings(sqlite_url).model_copy(update={"evaluator_interval_s": 0.2})
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        web = Web(client, sqlite_url)
        web.login("perfusionist")
        page = f"/runs/{run_id}/ingest"
        r = client.post(
            page,
            data={"csv_text": suction_file(RUN_START + timedelta(hours=1)),
                  "csrf_token": web.csrf(page)},
        )  # fmt: skip
        assert r.status_code == 200, r.text[:500]
        deadline = time.monotonic() + 10
        found: set[str] = set()
        while time.monotonic() < deadline and "access_insufficiency" not in found:
            time.sleep(0.1)
            with unit_of_work(sessions) as db:
                found = alert_codes(db, run_id)
        assert "access_insufficiency" in found, "the app's evaluator did not evaluate the run"
        assert app.state.evaluator.evaluated >= 1
    assert app.state.evaluator is not None and app.state.evaluator._thread is None  # stopped
    app.state.engine.dispose()

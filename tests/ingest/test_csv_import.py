"""Console CSV files into a run: CLI and service, atomic, reported (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.ingest.helpers import count, log_rows, values
from tests.seed import RUN_START
from typer.testing import CliRunner

from continuum.cli import app
from continuum.core.record import AuditEntry
from continuum.core.roles import CLI_ACTOR, Actor
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.ingest.csv_service import import_csv

T0 = RUN_START + timedelta(hours=1)


def console_text(rows: int = 5, bad: bool = True) -> str:
    lines = ["time,blood_flow,p_access [kPa],p_preoxy,p_postoxy,bogus"]
    for i in range(rows):
        t = (T0 + timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
        flow = "abc" if bad and i == 1 else ("55" if bad and i == 2 else f"4.{i}")
        lines.append(f"{t},{flow},-8.0,250,{200 + i},1")
    return "\n".join(lines) + "\n"


def test_good_cells_are_stored_with_derived_delta_p_and_an_audit_row(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        result = import_csv(db, CLI_ACTOR, 1, io.StringIO(console_text()), "c.csv")
    report = result.console.report
    assert (report.rows_read, report.refused_count, report.unknown_columns) == (5, 2, ["bogus"])
    assert [c.row for c in report.refused] == [3, 4]
    assert result.stored == 3 + 5 + 5 + 5 and result.derived == 5
    got = values(sessions, 1)
    assert got["oxy_delta_p"] == [50.0, 49.0, 48.0, 47.0, 46.0]
    assert round(got["p_access"][0], 2) == -60.0  # kPa converted
    assert count(sessions, log_rows(sessions)[-1].accepted_key or "?") == 23
    with sessions() as db:
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "ingest_csv")).all()
    assert len(audit) == 1 and audit[0].detail["refused"] == 2
    assert log_rows(sessions)[-1].channel == "csv"


def test_a_file_dated_before_the_run_is_refused_whole(sessions) -> None:  # type: ignore[no-untyped-def]
    early = console_text(bad=False).replace(T0.strftime("%Y-%m-%d"), "2001-01-01", 1)
    with (
        pytest.raises(ValidationFailed, match="before the run started"),
        unit_of_work(sessions) as db,
    ):
        import_csv(db, CLI_ACTOR, 1, io.StringIO(early), "early.csv")
    assert count(sessions, "csv:%") == 0


def test_unreadable_files_and_wrong_roles_change_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="first column"), unit_of_work(sessions) as db:
        import_csv(db, CLI_ACTOR, 1, io.StringIO("flow,time\n1,2\n"), "x.csv")
    nurse = Actor(staff_id=None, name="n", role="nurse")
    with pytest.raises(Forbidden), unit_of_work(sessions) as db:
        import_csv(db, nurse, 1, io.StringIO(console_text()), "n.csv")
    assert count(sessions, "csv:%") == 0


def test_cli_prints_the_report(db_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONTINUUM_DATABASE_URL", db_url)
    from continuum.config import get_settings

    get_settings.cache_clear()
    path = tmp_path / "console.csv"
    path.write_text(console_text())
    result = CliRunner().invoke(app, ["ingest", "csv", str(path), "--run", "1"])
    assert result.exit_code == 0, result.output
    assert "5 rows, 23 observations stored (5 derived ΔP), 2 cells refused" in result.output
    assert "blood_flow 'abc'" in result.output and "unknown column 'bogus'" in result.output
    again = CliRunner().invoke(app, ["ingest", "csv", str(path), "--run", "1", "--format", "json"])
    assert json.loads(again.output[again.output.index("{") :])["stored"] == 18
    get_settings.cache_clear()

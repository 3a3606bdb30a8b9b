"""The ingest message log is pruned to the programme's retention: old rows go, observations
stay, the count is audited; the retention is a programme setting (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from tests.conftest import Web
from tests.ingest.helpers import count, log_rows
from tests.seed import SECRET_MRNS

from continuum.core.record import AuditEntry, ProgrammeSetting
from continuum.core.roles import CLI_ACTOR, SYSTEM, Actor
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.ingest import integration_service as integration
from continuum.ingest.device_service import store_messages
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.mllp_client import oru
from continuum.ingest.models import IngestMessage

ADMIN = Actor(staff_id=None, name="admin", role="admin")
NURSE = Actor(staff_id=None, name="nurse", role="nurse")
CONTINUUM = str(Path(sys.executable).parent / "continuum")


def fill(sessions, ages_days: list[float]) -> None:  # type: ignore[no-untyped-def]
    """One accepted ORU^R01 (2 observations) per age, its log row received that long ago."""
    now = datetime.now(UTC).replace(microsecond=0)
    at = now - timedelta(hours=1)
    msgs = [
        read_oru_fast(oru(f"R{i}", SECRET_MRNS[0], at, [("blood_flow", 4.1, ""), ("hr", 88, "")]))
        for i in range(len(ages_days))
    ]
    with unit_of_work(sessions) as db:
        outcomes = store_messages(db, CLI_ACTOR, msgs)
        assert [o.ack for o in outcomes] == ["AA"] * len(msgs)
        for i, age in enumerate(ages_days):
            db.execute(
                update(IngestMessage)
                .where(IngestMessage.message_id == f"R{i}")
                .values(received_at=now - timedelta(days=age))
            )


def test_prune_deletes_old_log_rows_keeps_observations_and_audits(sessions) -> None:  # type: ignore[no-untyped-def]
    fill(sessions, [200, 120, 91, 89, 10, 0])
    stored = count(sessions, "hl7:R%")
    assert stored == 12
    with unit_of_work(sessions) as db:
        assert integration.message_log_size(db, ADMIN) == 6
        would = integration.prune_message_log(db, ADMIN, timedelta(days=90), dry_run=True)
        assert would == 3
        assert integration.message_log_size(db, ADMIN) == 6  # a dry run deletes nothing
        assert integration.prune_message_log(db, ADMIN, timedelta(days=90)) == 3
    assert sorted(r.message_id for r in log_rows(sessions)) == ["R3", "R4", "R5"]
    assert count(sessions, "hl7:R%") == stored  # observations are never deleted
    with sessions() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "prune").order_by(AuditEntry.id)
        ).one()
    assert entry.entity == "ingest_message"
    assert entry.detail and entry.detail["deleted"] == 3
    assert entry.detail["older_than_days"] == 90


def test_a_resent_control_id_is_a_duplicate_only_while_its_log_row_is_kept(sessions) -> None:  # type: ignore[no-untyped-def]
    """Documented limit: after pruning, a resend of a pruned control id is stored again."""
    fill(sessions, [100])
    with unit_of_work(sessions) as db:
        integration.prune_message_log(db, ADMIN, timedelta(days=90))
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    resend = read_oru_fast(oru("R0", SECRET_MRNS[0], at, [("blood_flow", 4.1, "")]))
    with unit_of_work(sessions) as db:
        (outcome,) = store_messages(db, CLI_ACTOR, [resend])
    assert (outcome.ack, outcome.duplicate) == ("AA", False)


def test_prune_needs_manage_integration_and_a_sane_age(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        with pytest.raises(Forbidden):
            integration.prune_message_log(db, NURSE, timedelta(days=90))
        with pytest.raises(Forbidden):
            integration.prune_message_log(db, CLI_ACTOR, timedelta(days=90))
        with pytest.raises(ValidationFailed) as err:
            integration.prune_message_log(db, ADMIN, timedelta(hours=2))
    assert err.value.problems[0].field == "older_than"


def test_retention_is_a_programme_setting_with_a_default(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        first = integration.log_retention(db)
        assert (first.days, first.overridden, first.default) == (90, False, 90)
        assert "[U]" in first.source
        assert integration.save_log_retention(db, ADMIN, 30, "disk space").days == 30
    with unit_of_work(sessions) as db:
        assert db.get(ProgrammeSetting, integration.RETENTION_KEY).value == 30  # type: ignore[union-attr]
        with pytest.raises(ValidationFailed) as err:
            integration.save_log_retention(db, ADMIN, 0)
        assert err.value.problems[0].field == "days"
        with pytest.raises(Forbidden):
            integration.save_log_retention(db, NURSE, 10)
    with unit_of_work(sessions) as db:
        back = integration.save_log_retention(db, ADMIN, None)
        assert (back.days, back.overridden) == (90, False)
        assert db.get(ProgrammeSetting, integration.RETENTION_KEY) is None
        n = db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity_id == integration.RETENTION_KEY)
        )
        assert n == 2


def test_cli_prune_uses_the_retention_and_dry_run_counts(db_url: str, sessions) -> None:  # type: ignore[no-untyped-def]
    fill(sessions, [40, 20, 1])
    with unit_of_work(sessions) as db:
        integration.save_log_retention(db, SYSTEM, 30)
    env = {**os.environ, "CONTINUUM_DATABASE_URL": db_url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CONTINUUM, "ingest", "prune", *args], env=env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip

    dry = cli("--older-than-days", "10", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 2 " in dry.stdout
    assert len(log_rows(sessions)) == 3
    done = cli()  # the programme's 30 days
    assert done.returncode == 0, done.stderr
    assert "deleted 1 " in done.stdout and "30 days" in done.stdout
    assert sorted(r.message_id for r in log_rows(sessions)) == ["R1", "R2"]
    assert count(sessions, "hl7:R%") == 6


def test_integration_page_says_how_long_the_log_is_kept(web: Web) -> None:
    web.login("admin")
    page = web.client.get("/integration").text
    assert "kept for <b>90 days</b> (default)" in page
    assert "holds <b>0</b> rows" in page
    assert 'href="/settings/integration"' in page
    url = "/settings/integration"
    r = web.post_form(url, {"t_message_log_days": "45", "note": ""}, url)
    assert r.status_code == 303
    assert "kept for <b>45 days</b>" in web.client.get("/integration").text
    bad = web.post_form(url, {"t_message_log_days": "many"}, url)
    assert bad.status_code == 422
    assert "&#39;many&#39; is not a whole number; allowed 1–3650 days" in bad.text

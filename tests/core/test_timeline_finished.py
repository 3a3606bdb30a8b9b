"""The clinical timeline finished: the old run-level timeline table is gone (its rows carried
over by migration 0018 before it is dropped), the deprecated /timeline endpoint answers from
the clinical events with its old keys, and the remaining clinical changes write their events
in the same unit of work: referral status changes, a decision's reassessment, a follow-up
done after decannulation, and a transfusion entered on its own (validated, audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from continuum.core.record import AuditEntry
from continuum.core.run_record import Run
from continuum.db import make_engine, unit_of_work, utcnow
from continuum.errors import ValidationFailed
from continuum.initiation import decision
from continuum.initiation.models import Referral
from continuum.initiation.schemas import DecisionIn
from continuum.initiation.schemas import SignIn as DecisionSign
from continuum.migrate import upgrade
from continuum.rounds import transfusion
from continuum.rounds.transfusion import TransfusionIn
from continuum.weaning import decannulation
from continuum.weaning.models import FollowUp
from continuum.weaning.schemas import DecannulationIn, FollowUpDone
from continuum.web.pages import parse_form
from tests.conftest import Web
from tests.core.test_clinical_timeline import (
    CHECKLIST,
    NURSE,
    PERFUSIONIST,
    PHYSICIAN,
    latest,
    step,
)


def test_referral_status_changes_and_a_reassessment_are_events(sessions) -> None:  # type: ignore[no-untyped-def]
    step(
        sessions,
        ("decision.recorded", "referral.status_changed"),
        lambda db: decision.record_decision(
            db,
            PHYSICIAN,
            db.get(Referral, 1),
            DecisionIn(outcome="defer", reasons="lactate still rising; review in 6 h"),
        ),
    )
    for who in (PHYSICIAN, PERFUSIONIST):
        with unit_of_work(sessions) as db:
            decision.sign(db, who, db.get(Referral, 1), DecisionSign())
    fresh = step(
        sessions,
        ("decision.reassessed", "referral.status_changed"),
        lambda db: decision.reassess(
            db, PHYSICIAN, db.get(Referral, 1), "lactate now falling, family consent"
        ),
    )
    with sessions() as db:
        moved = latest(db, "referral.status_changed")
        assert moved.summary == (
            "Referral deferred → under assessment: lactate now falling, family consent"
        )
        assert moved.details == {"from": "deferred", "to": "under_assessment"}
        assert (moved.patient_id, moved.staff_id, moved.record_type) == (2, 2, "referral")
        again = latest(db, "decision.reassessed")
        assert (again.record_type, again.record_id) == ("initiation_decision", fresh.id)
        assert (
            "decision record 2 opened" in again.summary and "lactate now falling" in again.summary
        )
        assert again.clinical_time == moved.clinical_time


def test_a_follow_up_done_after_decannulation_is_an_event(sessions) -> None:  # type: ignore[no-untyped-def]
    at = utcnow() - timedelta(hours=3)
    with unit_of_work(sessions) as db:
        data = DecannulationIn(
            **CHECKLIST, decannulated_at=at, no_trial_reason="family chose palliation after MDT"
        )
        row = decannulation.create(db, PHYSICIAN, db.get(Run, 1), data)
        item_id = db.scalars(select(FollowUp.id).where(FollowUp.decannulation_id == row.id)).first()
    assert item_id is not None
    done = at + timedelta(hours=1)
    step(
        sessions,
        ("follow_up.completed",),
        lambda db: decannulation.complete_follow_up(
            db, PERFUSIONIST, item_id, FollowUpDone(result="no DVT on Doppler", at=done)
        ),
    )
    with sessions() as db:
        event = latest(db, "follow_up.completed")
        item = db.get_one(FollowUp, item_id)
        assert event.summary == f"Follow-up done: {item.item} — no DVT on Doppler"
        assert (event.run_id, event.clinical_time, event.discipline) == (1, done, "perfusion")
        assert (event.record_type, event.record_id) == ("weaning_follow_up", item_id)


def test_a_transfusion_entered_on_its_own_is_audited_and_on_the_timeline(sessions) -> None:  # type: ignore[no-untyped-def]
    given = utcnow() - timedelta(minutes=40)
    data = TransfusionIn(
        product="red_cells", units=1, volume_ml=280, given_at=given, reason="Hb 68 g/L, oozing"
    )
    row = step(
        sessions,
        ("transfusion.recorded",),
        lambda db: transfusion.record_transfusion(db, NURSE, db.get(Run, 1), data),
    )
    with sessions() as db:
        event = latest(db, "transfusion.recorded")
        assert event.summary == "Transfused 1 unit / 280 mL red cells: Hb 68 g/L, oozing"
        assert (event.record_type, event.record_id, event.clinical_time) == (
            "transfusion",
            row.id,
            given,
        )
        audit = db.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "transfusion", AuditEntry.entity_id == str(row.id)
            )
        ).one()
        assert audit.detail == {"product": "red_cells", "units": 1, "volume_ml": 280}
        assert [t.id for t in transfusion.for_run(db, 1)] == [row.id]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"product": "whole_blood", "units": "1", "reason": "bleeding"}, "product"),
        ({"product": "platelets", "reason": "count 30"}, "units"),
        ({"product": "plasma", "units": "12", "reason": "INR 2.4"}, "units"),
        ({"product": "plasma", "volume_ml": "-5", "reason": "INR 2.4"}, "volume_ml"),
        ({"product": "plasma", "units": "1", "reason": ""}, "reason"),
    ],
)
def test_bad_transfusion_input_names_the_field(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_form(TransfusionIn, values)
    text = str(exc.value.as_dict())
    assert field in text or "units, the volume" in text


def test_a_transfusion_outside_the_run_is_refused_and_nothing_is_written(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        before = run.started_at - timedelta(hours=1)
        data = TransfusionIn(product="platelets", units=1, given_at=before, reason="count 20")
        with pytest.raises(ValidationFailed) as exc:
            transfusion.record_transfusion(db, NURSE, run, data)
        assert exc.value.as_dict()["fields"][0]["field"] == "given_at"
        db.rollback()
    with sessions() as db:
        assert transfusion.for_run(db, 1) == []


def test_the_deprecated_timeline_endpoint_answers_from_the_clinical_events(web: Web) -> None:
    web.login("nurse")
    old = web.client.get("/api/v1/runs/1/timeline")
    assert old.status_code == 200, old.text
    rows = old.json()
    assert rows and all(set(r) == {"kind", "at", "summary", "record"} for r in rows)
    new = web.client.get("/api/v1/runs/1/events").json()["events"]
    assert [r["kind"] for r in rows] == [e["kind"] for e in reversed(new)]  # newest first
    assert "run.started" in {r["kind"] for r in rows}
    spec = web.client.get("/api/openapi.json").json()
    assert spec["paths"]["/api/v1/runs/{run_id}/timeline"]["get"]["deprecated"] is True


def test_the_transfusion_page_records_one_and_refuses_bad_input(web: Web) -> None:
    web.login("nurse")
    bad = web.post_form(
        "/runs/1/transfusions",
        {"product": "platelets", "units": "40", "reason": "count 20"},
        page="/runs/1/transfusions",
    )
    assert bad.status_code == 422 and "units" in bad.text and 'value="40"' in bad.text
    ok = web.post_form(
        "/runs/1/transfusions",
        {"product": "platelets", "units": "1", "reason": "count 20 before line insertion"},
        page="/runs/1/transfusions",
    )
    assert ok.status_code in (200, 303), ok.text
    page = web.client.get("/runs/1/transfusions").text
    assert "count 20 before line insertion" in page and "Platelets" in page
    timeline = web.client.get("/runs/1/timeline", params={"kind": "transfusion"}).text
    assert "Transfused 1 unit platelets: count 20 before line insertion" in timeline


def test_migration_0018_carries_old_timeline_rows_over_before_dropping_the_table(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    """At 0017: one old row already on the clinical timeline (not copied again), one only
    in the old table (copied, its kind mapped, author kept); then the table is gone."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0017")
    engine = make_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO staff (id, username, name, role, discipline, active, created_at, "
                "session_epoch, must_change_password) VALUES "
                "(1, 'p', 'Dr P', 'physician', 'intensive_care', 1, :t, 0, 0)"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text("INSERT INTO patient (id, sex, created_at) VALUES (1, 'female', :t)"),
            {"t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO run (id, patient_id, support_type, status, started_at, created_at) "
                "VALUES (1, 1, 'pulmonary', 'active', :t, :t)"
            ),
            {"t": now - timedelta(days=1)},
        )
        for i, (kind, rec, summary) in enumerate(
            [
                ("run_start", ("run", 1), "VV ECMO started"),
                ("mode_change", ("mode_segment", 7), "Mode VV → VA: shock"),
            ],
            start=1,
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO timeline_event (id, patient_id, run_id, kind, occurred_at, "
                    "summary, record_type, record_id, recorded_by, recorded_at) VALUES "
                    "(:i, 1, 1, :k, :t, :s, :rt, :ri, 1, :t)"
                ),
                {
                    "i": i,
                    "k": kind,
                    "t": now - timedelta(hours=i),
                    "s": summary,
                    "rt": rec[0],
                    "ri": rec[1],
                },
            )
        conn.execute(
            sa.text(
                "INSERT INTO clinical_event (patient_id, run_id, kind, clinical_time, "
                "recorded_at, record_type, record_id, summary) VALUES "
                "(1, 1, 'run.started', :t, :t, 'run', 1, 'VV ECMO started')"
            ),
            {"t": now - timedelta(hours=1)},
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("timeline_event")
        rows = conn.execute(
            sa.text("SELECT kind, record_type, record_id, by_name, summary FROM clinical_event")
        ).all()
    engine.dispose()
    assert sorted(rows) == [
        ("mode.changed", "mode_segment", 7, "Dr P", "Mode VV → VA: shock"),
        ("run.started", "run", 1, None, "VV ECMO started"),
    ]

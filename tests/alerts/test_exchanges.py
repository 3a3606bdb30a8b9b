"""Planned exchanges: plan → done creates and links the component change and resolves the
alert it came from; refusals name the field and change nothing; the record is append-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import exchanges
from continuum.alerts.exchange_record import CHECK_ITEMS, ExchangePlan, planned_replaced_ids
from continuum.alerts.models import CircuitAlert
from continuum.core import run_service
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.run_record import Component, Run
from continuum.core.schemas import ComponentCreate
from continuum.db import unit_of_work, utcnow
from continuum.errors import Conflict, ValidationFailed
from tests.alerts.conftest import PHYSICIAN, T0

PERFUSIONIST = type(PHYSICIAN)(staff_id=1, name="Test perfusionist", role="perfusionist")


def _setup(sessions: sessionmaker[Session], run_id: int) -> tuple[int, int, int]:
    """A membrane lung and a pump on the run, and an open ΔP alert."""
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, run_id)
        ml = run_service.add_component(
            db, PHYSICIAN, run, ComponentCreate(kind="membrane_lung", started_at=T0)
        )
        pump = run_service.add_component(
            db, PHYSICIAN, run, ComponentCreate(kind="pump", started_at=T0)
        )
        alert = CircuitAlert(
            run_id=run_id, detector="transmembrane_gradient_rise", severity="warning",
            peak_severity="warning", status="open", raised_at=T0 + timedelta(hours=1),
            summary="ΔP rising", evidence={},
        )  # fmt: skip
        db.add(alert)
        db.flush()
        return ml.id, pump.id, alert.id


def _plan(db: Session, run_id: int, alert_id: int | None = None) -> ExchangePlan:
    values = {"target": "membrane_lung", "planned_at": utcnow() + timedelta(hours=3)}
    if alert_id:
        values["alert_id"] = str(alert_id)
    return exchanges.plan(db, PERFUSIONIST, run_id, values)


def test_plan_then_done_replaces_the_part_and_resolves_the_alert(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    ml, _, alert_id = _setup(sessions, run_id)
    with unit_of_work(sessions) as db:
        plan_id = _plan(db, run_id, alert_id).number
    with unit_of_work(sessions) as db:
        exchanges.update(db, PERFUSIONIST, plan_id, {}, set(CHECK_ITEMS[:4]))
    with unit_of_work(sessions) as db:
        done = exchanges.mark_done(
            db, PERFUSIONIST, plan_id,
            {"clamp_s": "75", "replaces_id": str(ml), "stop_reason": "thrombus"},
            set(CHECK_ITEMS[4:]),
        )  # fmt: skip
        new_id = done.component_id
    with unit_of_work(sessions) as db:
        stmt = select(ExchangePlan).where(ExchangePlan.run_id == run_id)
        rows = list(db.scalars(stmt.order_by(ExchangePlan.id)))
        assert [r.status for r in rows] == ["planned", "planned", "done"]  # one row per change
        assert {r.plan_id for r in rows} == {plan_id}
        new = db.get_one(Component, new_id)
        assert new.replaces_id == ml and new.kind == "membrane_lung"
        assert db.get_one(Component, ml).stop_reason == "thrombus"
        assert rows[-1].clamp_s == 75 and rows[-1].replaced_id == ml
        assert set(rows[-1].checklist) == set(CHECK_ITEMS)
        alert = db.get_one(CircuitAlert, alert_id)
        assert alert.status == "resolved"
        assert f"planned exchange {plan_id} done" in (alert.resolve_note or "")
        assert planned_replaced_ids(db, [run_id]) == {ml}
        kinds = set(db.scalars(select(ClinicalEvent.kind).where(ClinicalEvent.run_id == run_id)))
        assert {"exchange.planned", "exchange.done", "component.replaced"} <= kinds


def test_refusals_name_the_field_and_change_nothing(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    ml, pump, _ = _setup(sessions, run_id)
    with unit_of_work(sessions) as db:
        with pytest.raises(ValidationFailed) as exc:
            exchanges.plan(
                db, PERFUSIONIST, run_id,
                {"target": "membrane_lung", "planned_at": utcnow() - timedelta(hours=2)},
            )  # fmt: skip
        assert exc.value.problems[0].field == "planned_at"
        assert "more than 1 h in the past" in exc.value.problems[0].message
        with pytest.raises(ValidationFailed) as exc:
            exchanges.plan(db, PERFUSIONIST, run_id, {"target": "heater", "planned_at": utcnow()})
        assert exc.value.problems[0].field == "target"
    with unit_of_work(sessions) as db:
        plan_id = _plan(db, run_id).number
    with unit_of_work(sessions) as db:
        with pytest.raises(ValidationFailed) as exc:
            exchanges.mark_done(
                db, PERFUSIONIST, plan_id,
                {"clamp_s": "60", "replaces_id": str(ml), "stop_reason": "thrombus"},
                {"team_briefed"},
            )  # fmt: skip
        assert exc.value.problems[0].field == "checklist"
        assert "9 checklist item(s) not ticked" in exc.value.problems[0].message
        with pytest.raises(ValidationFailed) as exc:
            exchanges.mark_done(
                db, PERFUSIONIST, plan_id,
                {"clamp_s": "60", "replaces_id": str(pump), "stop_reason": "thrombus"},
                set(CHECK_ITEMS),
            )  # fmt: skip
        assert exc.value.problems[0].field == "replaces_id"
        assert "is a pump" in exc.value.problems[0].message
        with pytest.raises(ValidationFailed) as exc:
            exchanges.mark_done(
                db, PERFUSIONIST, plan_id,
                {"clamp_s": "9000", "replaces_id": str(ml), "stop_reason": "thrombus"},
                set(CHECK_ITEMS),
            )  # fmt: skip
        assert exc.value.problems[0].field == "clamp_s"
        db.rollback()
    with unit_of_work(sessions) as db:
        assert len(list(db.scalars(select(ExchangePlan).where(ExchangePlan.run_id == run_id)))) == 1
        assert db.get_one(Component, ml).stopped_at is None
        exchanges.cancel(db, PERFUSIONIST, plan_id, "patient to theatre")
    with unit_of_work(sessions) as db:
        with pytest.raises(Conflict):
            exchanges.cancel(db, PERFUSIONIST, plan_id, "again")
        assert exchanges.get_plan(db, PERFUSIONIST, plan_id).status == "cancelled"


def test_forecasts_on_the_circuit_check_and_the_round_agenda(web_any) -> None:  # type: ignore[no-untyped-def]
    from continuum.db import make_engine, make_sessionmaker
    from tests.alerts.conftest import new_run
    from tests.alerts.test_exchange_forecasts import store_failing_lung

    engine = make_engine(web_any.url)
    sessions = make_sessionmaker(engine)
    run_id = new_run(sessions)
    store_failing_lung(sessions, run_id, 42)
    engine.dispose()
    web_any.login("perfusionist")
    for url in (f"/runs/{run_id}/circuit-check", f"/runs/{run_id}/rounds"):
        page = web_any.client.get(url).text
        assert 'id="exchange-forecasts"' in page, url
        assert 'data-criterion="post_oxy_po2"' in page and "ML exchange criterion likely in" in page
        assert f"/runs/{run_id}/exchanges/new?criterion=post_oxy_po2" in page
    plan = web_any.client.get(
        f"/runs/{run_id}/exchanges/new?criterion=post_oxy_po2&component=oxygenator"
    )
    assert plan.status_code == 200 and 'value="membrane_lung" selected' in plan.text
    bad = web_any.post_form(
        f"/runs/{run_id}/exchanges", {"target": "membrane_lung", "planned_at": "2020-01-01T08:00"}
    )
    assert bad.status_code == 422 and "more than 1 h in the past" in bad.text

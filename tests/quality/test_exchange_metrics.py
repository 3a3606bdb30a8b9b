"""Planned vs urgent exchanges per 1,000 ECMO h: a component change made through a done
planned exchange is planned, any other change urgent (hand-worked cohort: 200 h, two
membrane-lung changes, one of them made through a plan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from continuum.alerts.exchange_record import ExchangePlan
from continuum.core.run_record import Component
from continuum.db import unit_of_work
from continuum.quality import metrics
from tests.quality import metrics_cohort as cohort

NOW = datetime(2025, 3, 1, tzinfo=UTC)
ALL = metrics.MetricsFilter(cohort.START, cohort.END)


def test_one_planned_and_one_urgent_exchange(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = cohort.build(db)
        changed = {
            c.run_id: c
            for c in db.scalars(select(Component).where(Component.stop_reason.is_not(None)))
            if c.stop_reason != "end_of_run"
        }
        c = changed[ids["C"]]
        for status in ("planned", "cancelled"):  # a cancelled plan counts nothing
            db.add(
                ExchangePlan(
                    run_id=ids["A"], target="membrane_lung", status=status, checklist={},
                    planned_at=c.stopped_at, equipment_ready=True, prime_ready=True,
                    replaced_id=changed[ids["A"]].id, reason="x",
                )
            )  # fmt: skip
        db.add(
            ExchangePlan(
                run_id=ids["C"], target="membrane_lung", status="done", checklist={},
                planned_at=c.stopped_at - timedelta(hours=2), equipment_ready=True,
                prime_ready=True, replaced_id=c.id, done_at=c.stopped_at, clamp_s=60,
            )
        )  # fmt: skip
    with sessions() as db:
        m = metrics.compute(db, cohort.staff(db)["qa_lead"], ALL, now=NOW)
    f = {x.key: x for x in m.figures}
    assert f["planned_exchanges"].value == pytest.approx(5.0)  # 1 over 200 h
    assert f["urgent_exchanges"].value == pytest.approx(5.0)
    assert f["planned_exchanges"].note == "1 over 200 h"
    planned = {r.run_id: v for r, v in metrics.drill_down(m, "planned_exchanges")}
    urgent = {r.run_id: v for r, v in metrics.drill_down(m, "urgent_exchanges")}
    assert set(planned) == {ids["C"]} and planned[ids["C"]] == "1 of 1 changes"
    assert set(urgent) == {ids["A"]}

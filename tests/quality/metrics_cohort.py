"""A small cohort worked by hand, shared by the metrics and audit tests (January 2025, far
from the seeded run, which started two days ago).

Run A  pulmonary VV adult, 100 h, weaned; ML changed at 40 h (oxygenator failure, urgent);
       anti-Xa 0.2 → 0.6 → 0.4 at 0, 4, 6 h (3 of 6 h in 0.3–0.5); 2 rounds (perfusion at
       the first only); 2 units + 1 unit at a circuit check; alerts acknowledged after 10 min
       and never; an air incident corrected to GI bleeding (haemorrhagic), a near miss;
       referral 300 min and decision 60 min before cannulation; decannulation complete.
Run B  cardiac VA adult, 50 h, died; limb ischaemia; 2 rounds with perfusion; referral
       120 min, decision 30 min before; perfusionist not at the decision.
Run C  pulmonary VV paediatric, 50 h, weaned; ML changed at 20 h (end of product life,
       planned); no rounds; decannulation without coagulation results or perfusion sign-off.

Totals: 200 ECMO h; 2 incidents (10 per 1,000 h); 2 ML changes (10 per 1,000 h); time in
range 50 % (run A); 3 units over 8.33 days; perfusion at 3 of 4 rounds, 1 of 2 decisions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import accounts
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.quality.demo_history import HistoryRun, insert_run

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 2, 1, tzinfo=UTC)


def staff(db: Session) -> dict[str, Actor]:
    out: dict[str, Actor] = {}
    for row in db.scalars(select(Staff).where(Staff.username.is_not(None))):
        out.setdefault(row.role, accounts.actor_for(row, "test"))
    return out


def build(db: Session) -> dict[str, int]:
    people = staff(db)
    a = HistoryRun(
        mrn="HXT-A", name="Run A", birth=date(1980, 5, 1), sex="male",
        support_type="pulmonary", mode="VV", started_at=datetime(2025, 1, 10, tzinfo=UTC),
        hours=100, outcome="weaned_recovered",
        ml_changes=[(40, "oxygenator_failure")],
        anti_xa=[(0, 0.2), (4, 0.6), (6, 0.4)],
        round_perfusion=[True, False],
        check_hours=[9], check_transfusions={0: {"red_cells": 1}},
        transfusions=[(10, "red_cells", 2)],
        alerts=[(5, 10.0), (20, None)],
        events=[(30, "mech_air", "incident", "mild"), (31, "haem_gi", "near_miss", "none")],
        amend_code={0: "haem_gi"},
        referral_min=300, decision_min=60,
        scores={"resp": {"age_years": 44}},
        decannulation_complete=True,
    )  # fmt: skip
    b = HistoryRun(
        mrn="HXT-B", name="Run B", birth=date(1970, 1, 1), sex="female",
        support_type="cardiac", mode="VA", started_at=datetime(2025, 1, 15, tzinfo=UTC),
        hours=50, outcome="died_on_ecmo", anti_xa_target=None,
        round_perfusion=[True, True],
        events=[(10, "limb_ischaemia", "incident", "moderate")],
        referral_min=120, decision_min=30, perfusion_at_decision=False,
    )  # fmt: skip
    c = HistoryRun(
        mrn="HXT-C", name="Run C", birth=date(2015, 3, 1), sex="female",
        support_type="pulmonary", mode="VV", started_at=datetime(2025, 1, 20, tzinfo=UTC),
        hours=50, outcome="weaned_recovered",
        ml_changes=[(20, "end_of_product_life")],
        decannulation_complete=False,
    )  # fmt: skip
    return {name: insert_run(db, spec, people) for name, spec in (("A", a), ("B", b), ("C", c))}

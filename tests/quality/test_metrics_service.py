"""The metrics service on SQLite and PostgreSQL against the hand-worked cohort
(tests/quality/metrics_cohort.py): every figure, the filters, the drill-down and bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.quality import metrics
from continuum.quality.audit_record import ClinicalAudit
from tests.quality import metrics_cohort as cohort

NOW = datetime(2025, 3, 1, tzinfo=UTC)
ALL = metrics.MetricsFilter(cohort.START, cohort.END)


@pytest.fixture
def built(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = cohort.build(db)
    return sessions, ids


def test_every_figure_of_the_hand_worked_cohort(built) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with sessions() as db:
        m = metrics.compute(db, cohort.staff(db)["qa_lead"], ALL, now=NOW)
    f = {x.key: x for x in m.figures}
    assert f["runs"].value == 3
    assert f["ecmo_hours"].value == pytest.approx(200)
    s = f["survival_decannulation"]
    assert (s.value, s.n) == (pytest.approx(200 / 3), 3)
    assert s.low == pytest.approx(100 * 0.2077, abs=0.05)  # Wilson 2/3
    # Only B's fate is known (died on ECMO); A and C have no hospital outcome yet.
    d = f["survival_discharge"]
    assert (d.value, d.n, d.recorded) == (0.0, 1, True)
    assert "2 ended runs without a hospital outcome yet" in d.note
    comp = f["complications"]
    assert comp.value == pytest.approx(10.0)
    assert comp.note == "2 over 200 h" and comp.q1 is None
    assert (comp.low, comp.high) == (
        pytest.approx(1.2110, abs=1e-3),
        pytest.approx(36.123, abs=1e-2),
    )
    cats = {b.key: b.events for b in m.complications}
    assert cats["haemorrhagic"] == 1  # the air incident amended to GI bleeding
    assert cats["mechanical"] == 0
    assert cats["limb"] == 1
    assert sum(cats.values()) == 2  # the near miss is not a complication
    assert f["ml_changes"].value == pytest.approx(10.0)
    reasons = {b.key: b.events for b in m.change_reasons}
    assert reasons == {
        "membrane_lung:oxygenator_failure": 1,
        "membrane_lung:end_of_product_life": 1,
    }
    # Lungs: 40 h changed, 60 h censored (A); 50 h censored (B); 20 h changed, 30 h censored (C).
    assert (m.ml_life.n, m.ml_life.events) == (5, 2)
    assert {p.t: round(p.survival, 4) for p in m.ml_life.points}[40] == pytest.approx(0.5333)
    assert m.ml_life.median is None
    assert f["ttr"].value == pytest.approx(50.0) and f["ttr"].n == 1
    assert f["transfusions"].value == pytest.approx(3 / (200 / 24))
    ack = f["alert_ack"]
    assert (ack.value, ack.n) == (pytest.approx(10.0), 1)
    assert "1 of 2" in ack.note
    assert f["referral_decision"].value == pytest.approx((240 + 90) / 2)
    assert f["decision_cannulation"].value == pytest.approx(45)
    assert f["referral_cannulation"].value == pytest.approx(210)
    assert f["ecpr_low_flow"].recorded is False  # no ECPR run in the cohort
    assert f["ecpr_low_flow"].n == 0
    rounds = f["perfusion_rounds"]
    assert (rounds.value, rounds.n) == (pytest.approx(75.0), 4)
    assert f["perfusion_decisions"].value == pytest.approx(50.0)


def test_filters_by_support_mode_and_age(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    with sessions() as db:
        qa = cohort.staff(db)["qa_lead"]

        def runs(**kw: str) -> list[int]:
            return [r.run_id for r in metrics.compute(db, qa, replace(ALL, **kw), now=NOW).runs]

        assert runs(support_type="cardiac") == [ids["B"]]
        assert runs(mode="VV") == [ids["A"], ids["C"]]
        assert runs(age_group="paediatric") == [ids["C"]]
        assert runs(age_group="neonatal") == []
        assert runs(start=datetime(2025, 1, 12, tzinfo=UTC)) == [ids["B"], ids["C"]]
        empty = metrics.compute(db, qa, replace(ALL, age_group="neonatal"), now=NOW)
        assert empty.figure("complications").value is None
        assert empty.figure("runs").value == 0


def test_drill_down_lists_the_runs_behind_a_figure(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    with sessions() as db:
        m = metrics.compute(db, cohort.staff(db)["qa_lead"], ALL, now=NOW)
    rows = {r.run_id: v for r, v in metrics.drill_down(m, "complications")}
    assert set(rows) == {ids["A"], ids["B"]}
    assert "Haemorrhagic 1" in rows[ids["A"]]
    ml = {r.run_id: v for r, v in metrics.drill_down(m, "ml_changes")}
    assert set(ml) == {ids["A"], ids["C"]}
    assert "oxygenator failure" in ml[ids["A"]]
    ttr = [r.run_id for r, _ in metrics.drill_down(m, "ttr")]
    assert ttr == [ids["A"]]
    for key in metrics.DRILL:
        metrics.drill_down(m, key)  # every figure drills down
    with pytest.raises(ValidationFailed) as err:
        metrics.drill_down(m, "nonsense")
    assert err.value.problems[0].field == "metric"


def test_bad_filters_are_refused_naming_field_value_and_range(built) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with sessions() as db:
        qa = cohort.staff(db)["qa_lead"]
        before = db.scalar(select(func.count()).select_from(ClinicalAudit))
        with pytest.raises(ValidationFailed) as err:
            metrics.compute(db, qa, metrics.MetricsFilter(cohort.END, cohort.START))
        problem = err.value.problems[0]
        assert problem.field == "end" and "before" in problem.message
        with pytest.raises(ValidationFailed) as err:
            metrics.compute(db, qa, replace(ALL, mode="XYZ", age_group="elderly"))
        fields = {p.field: p for p in err.value.problems}
        assert fields["mode"].value == "XYZ" and "VV" in fields["mode"].message
        assert fields["age_group"].value == "elderly" and "adult" in fields["age_group"].message
        assert db.scalar(select(func.count()).select_from(ClinicalAudit)) == before
        staff = cohort.staff(db)
        with pytest.raises(Forbidden):
            metrics.compute(db, staff["admin"], ALL)

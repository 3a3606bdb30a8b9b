"""Outcome analyses: Kaplan–Meier with a known median, the logistic table, the refusal of a
model on too few events, and the pages/API (saved with definition and software versions)."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.errors import ValidationFailed
from continuum.research import analysis
from continuum.research.analysis import AnalysisIn, RunFacts
from continuum.research.study_record import OutcomeAnalysis
from tests.conftest import Web


def test_kaplan_meier_known_median() -> None:
    # Five runs ended at 10, 20, 30, 40, 50 h: S drops by 1/5 at each; median = 30 h.
    km = analysis.kaplan_meier([10, 20, 30, 40, 50], [True] * 5)
    assert km["median_hours"] == 30
    assert (km["n"], km["events"], km["censored"]) == (5, 5, 0)
    assert [p["s"] for p in km["curve"]] == [1.0, 0.8, 0.6, 0.4, 0.2, 0.0]
    # A run censored at 25 h (still on ECMO) leaves S unchanged there and shrinks the risk
    # set: S(10) = 5/6, S(20) = 4/6, S(30) = 4/6 × 2/3 = 0.4444 → median 30 h.
    km = analysis.kaplan_meier([10, 20, 25, 30, 40, 50], [True, True, False, True, True, True])
    assert km["median_hours"] == 30 and km["censored"] == 1
    s = {p["t"]: p["s"] for p in km["curve"]}
    assert (s[20], s[25], s[30]) == (0.6667, 0.6667, 0.4444)


def _rows(died: int, survived: int) -> list[RunFacts]:
    rng = random.Random(7)
    out = []
    for i in range(died + survived):
        dead = i < died
        out.append(RunFacts(
            run_id=i, hours=100, ended=True, died=dead,
            age_years=round(rng.gauss(60 if dead else 45, 12), 1),
            support_type=rng.choice(["pulmonary", "cardiac"]), risk_score=None,
        ))  # fmt: skip
    return out


def test_logistic_table_and_refusal() -> None:
    out = analysis.logistic(_rows(30, 40), ["age_years", "support_type"])
    assert (out["n"], out["events"], out["survived"]) == (70, 30, 40)
    terms = {t["term"]: t for t in out["table"]}
    assert set(terms) >= {"const", "age_years"}
    age = terms["age_years"]
    assert age["coef"] < 0 and age["odds_ratio"] < 1  # older → less likely to survive
    assert age["ci_low"] < age["odds_ratio"] < age["ci_high"] and 0 <= age["p"] <= 1
    with pytest.raises(ValidationFailed, match=r"too few runs for a model.*9 died"):
        analysis.logistic(_rows(9, 40), ["age_years"])
    with pytest.raises(ValidationFailed, match="risk_score"):  # no score stored: none usable
        analysis.logistic(_rows(30, 40), ["risk_score"])


def test_saved_with_definition_and_versions(sessions) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    with sessions() as db:
        staff = db.scalars(select(Staff).where(Staff.role == "researcher")).one()
        me = Actor(staff.id, staff.name, "researcher", staff.discipline)
        row = analysis.run_analysis(
            db, me, AnalysisIn(cohort="Seed cohort (VV)", kind="km_time_on_ecmo"), ZoneInfo("UTC")
        )
        assert row.definition["modes"] == ["VV"] and row.result["runs"] == 1
        assert row.result["censored"] == 1 and row.result["median_hours"] is None  # still on
        assert row.versions["lifelines"] != "unknown" and "statsmodels" in row.versions
        with pytest.raises(ValidationFailed, match="too few runs"):
            analysis.run_analysis(db, me, AnalysisIn(
                cohort="Seed cohort (VV)", kind="logistic_survival", covariates=["age_years"]
            ), ZoneInfo("UTC"))  # fmt: skip
        assert analysis.plot_png(row).startswith(b"\x89PNG")


def test_pages_and_api(web: Web) -> None:
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/analyses")}
    r = web.client.post("/api/v1/research/analyses", headers=csrf,
                        json={"cohort": "Seed cohort (VV)", "kind": "cox"})  # fmt: skip
    assert r.status_code == 422 and "cox" in r.text
    r = web.client.post("/api/v1/research/analyses", headers=csrf,
                        json={"cohort": "nobody", "kind": "km_survival"})  # fmt: skip
    assert r.status_code == 422 and "no saved cohort" in r.text
    r = web.post_form("/research/analyses", {"cohort": "Seed cohort (VV)",
                      "kind": "logistic_survival", "covariates": "age_years"},
                      "/research/analyses")  # fmt: skip
    assert r.status_code == 422 and "too few runs for a model" in r.text
    saved = web.client.get("/api/v1/research/analyses").json()
    assert [a["id"] for a in saved] == [1]  # the seeded one: nothing stored by the refusals
    r = web.post_form("/research/analyses", {"cohort": "Seed cohort (VV)", "kind": "km_survival"},
                      "/research/analyses")  # fmt: skip
    assert r.status_code == 303
    page = web.client.get(r.headers["location"])
    assert page.status_code == 200 and "lifelines" in page.text and "not reached" in page.text
    png = web.client.get(r.headers["location"] + "/plot.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    web.login("coordinator")
    assert web.client.get("/research/analyses").status_code == 200
    r = web.post_form("/research/analyses", {"cohort": "Seed cohort (VV)", "kind": "km_survival"},
                      "/research/analyses")  # fmt: skip
    assert r.status_code == 403


def test_nothing_stored_on_refusal(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        assert db.scalar(select(func.count(OutcomeAnalysis.id))) == 1  # the seeded one


def test_a_covariate_that_separates_survivors_from_deaths_is_refused_not_overflowed() -> None:
    """Every older patient died, every younger one survived: no finite odds ratio exists,
    so the model is refused naming the covariate (it used to raise OverflowError)."""
    rows = [
        RunFacts(run_id=i, hours=100.0, ended=True, died=i >= 15, age_years=20.0 + 2 * i,
                 support_type="pulmonary", risk_score=None)
        for i in range(30)
    ]  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        analysis.logistic(rows, ["age_years"])
    text = str(refused.value.problems[0].message)
    assert "age (per year)" in text and "separate survivors from deaths" in text


def test_a_support_type_with_one_outcome_is_refused_naming_it() -> None:
    """Every pulmonary run survived (as in the demo's ended runs): support type separates
    survivors from deaths, so the model is refused before fitting, naming the type and the
    outcome, instead of "the fit did not converge"."""
    rows = [
        RunFacts(run_id=i, hours=100.0, ended=True, died=kind != "pulmonary" and i % 2 == 0,
                 age_years=30.0 + i, support_type=kind, risk_score=None)
        for i, kind in enumerate(["pulmonary"] * 16 + ["cardiac"] * 24 + ["ecpr"] * 6)
    ]  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        analysis.logistic(rows, ["age_years", "support_type"])
    problem = refused.value.problems[0]
    assert problem.field == "covariates" and problem.value == ["support_type"]
    assert "every one of the 16 pulmonary runs survived" in problem.message
    assert "cardiac" not in problem.message and "ecpr" not in problem.message
    assert "leave support type out" in problem.message
    assert analysis.logistic(rows, ["age_years"])["n"] == 46  # without it, a model

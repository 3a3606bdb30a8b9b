"""The participation map read from the record (on SQLite and PostgreSQL), its page, the
records behind a step, exports and JSON, and who sees what.

The cohort is tests/quality/metrics_cohort.py (January 2025), worked by hand:

| step                       | records                                  | perfusion | nursing |
| -------------------------- | ---------------------------------------- | --------- | ------- |
| referral and candidacy     | decisions A (perfusion signed), B (not)  | 1 of 2    | 0 of 2  |
| modality and configuration | the same decisions (modes chosen)        | 1 of 2    | 0 of 2  |
| cannulation                | runs A, B, C (perfusion set the lung up) | 3 of 3    | 0 of 3  |
| rounds and circuit checks  | 4 rounds (perfusion at 3), 1 check       | 4 of 5    | 4 of 5  |
| alerts                     | 2 alerts of run A, resolved by perfusion | 2 of 2    | 0 of 2  |
| weaning trials             | none                                     | 0 of 0    |         |
| decannulation              | A (perfusion signed), C (not)            | 1 of 2    | 0 of 2  |
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.quality import participation_map as pmap
from tests.conftest import Web
from tests.quality import metrics_cohort as cohort

UTC = ZoneInfo("UTC")
PERIOD = "start=2025-01-01&end=2025-01-31"
EXPECTED = {
    "perfusion": {
        "candidacy": (1, 2), "configuration": (1, 2), "cannulation": (3, 3), "rounds": (4, 5),
        "alerts": (2, 2), "weaning": (0, 0), "decannulation": (1, 2), "transport": (0, 0),
        "review": (0, 0), "research": (0, 0),
    },
    "nursing": {
        "candidacy": (0, 2), "configuration": (0, 2), "cannulation": (0, 3), "rounds": (4, 5),
        "alerts": (0, 2), "decannulation": (0, 2),
    },
}  # fmt: skip
QA = Actor(staff_id=5, name="Test qa_lead", role="qa_lead")
RESEARCHER = Actor(staff_id=6, name="Test researcher", role="researcher")


def _build(web: Web) -> dict[str, int]:
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        ids = cohort.build(db)
    engine.dispose()
    return ids


@pytest.mark.parametrize("discipline", sorted(EXPECTED))
def test_shares_per_step_match_the_hand_worked_table(
    sessions: sessionmaker[Session], discipline: str
) -> None:
    with unit_of_work(sessions) as db:
        cohort.build(db)
    with unit_of_work(sessions) as db:
        m = pmap.compute(db, QA, pmap.MapFilter(cohort.START, cohort.END, discipline), UTC)
    got = {s.step.key: (s.k, s.n) for s in m.shares}
    for step, expected in EXPECTED[discipline].items():
        assert got[step] == expected, step
    assert {s.step.key for s in m.shares if not s.recorded} == {"transport"}
    assert m.months == ["2025-01"]
    rounds = next(p for p in m.trend if p.step == "rounds")
    assert (rounds.share.k, rounds.share.n) == EXPECTED[discipline]["rounds"]


def test_the_comparisons_read_from_the_record(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        cohort.build(db)
    with unit_of_work(sessions) as db:
        m = pmap.compute(db, QA, pmap.MapFilter(cohort.START, cohort.END), UTC)
    by = {c.key: c for c in m.comparisons}
    with_p, without_p = by["alert_ack"].arms
    # Both alerts of run A fell on day 1, whose round perfusion attended; one acknowledged.
    assert (with_p.n, with_p.value, without_p.n) == (1, 10.0, 0)
    fixed, _ = by["alert_resolve"].arms  # both resolved 3 h after they were raised
    assert (fixed.n, fixed.value) == (2, 180.0)
    urgent_with, urgent_without = by["ml_urgent"].arms
    assert urgent_with.text.startswith("1 of 1 changes urgent")  # A: day before had perfusion
    assert urgent_without.text.startswith("0 of 1 changes urgent")  # C: no rounds
    high, low = by["complications"].arms  # B: 2 of 2 rounds, 1 incident / 50 h; A: 1 / 100 h
    assert (high.n, high.value, low.n, low.value) == (
        1,
        pytest.approx(20.0),
        1,
        pytest.approx(10.0),
    )


def test_records_and_missing_voices_need_identifiers(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        cohort.build(db)
    with unit_of_work(sessions) as db:
        m = pmap.compute(db, RESEARCHER, pmap.MapFilter(cohort.START, cohort.END), UTC)
        assert m.share("rounds").n == 5  # the aggregate is open to the researcher
        with pytest.raises(Forbidden):
            pmap.drill_down(m, RESEARCHER, "rounds")
        with pytest.raises(Forbidden):
            pmap.missing_voices(db, RESEARCHER, UTC)
        with pytest.raises(ValidationFailed):
            pmap.drill_down(m, QA, "lunch")
        with pytest.raises(ValidationFailed) as bad:
            pmap.compute(db, QA, pmap.MapFilter(cohort.END, cohort.START, "juggling"), UTC)
        assert {p.field for p in bad.value.problems} == {"end", "discipline"}


def test_missing_voices_list_todays_rounds_without_perfusion(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        voices = pmap.missing_voices(db, QA, UTC)
    # The seeded run 1 is active with no round today; referral 1 is still being assessed.
    rounds = [v for v in voices if v.step == "rounds"]
    assert [v.run_id for v in rounds] == [1]
    assert "not recorded yet" in rounds[0].what and rounds[0].href == "/runs/1/rounds"
    with unit_of_work(sessions) as db:
        from continuum.core import settings_service

        settings_service.save(db, QA, "participation_policy", {"require_rounds": "0"}, "test")
    with unit_of_work(sessions) as db:
        assert not [v for v in pmap.missing_voices(db, QA, UTC) if v.step == "rounds"]


# --- pages, exports and JSON ----------------------------------------------------------------


def test_the_map_page_draws_both_panels_with_counts_and_links(web: Web) -> None:
    _build(web)
    web.login("coordinator")
    r = web.client.get(f"/quality/participation?{PERIOD}")
    assert r.status_code == 200
    html = r.text
    main = html.split("<main>")[1]
    assert "<script" not in main  # no inline script (CSP)
    assert main.count('<svg class="pathway"') == 2 and 'id="current"' in main
    assert "4 of 5 (CI 38–96 %)" in main  # rounds: small n, no bare percentage
    assert "3 of 3 (CI 44–100 %)" in main
    step = re.search(r'data-step="transport".*?</text><text[^>]*>([^<]*)<', main, re.S)
    assert step and step.group(1) == "no records"
    research = re.search(r'data-step="research".*?</text><text[^>]*>([^<]*)<', main, re.S)
    assert research and research.group(1) == "no records"  # none in January 2025
    query = PERIOD.replace("&", "&amp;") + "&amp;discipline=perfusion"
    assert f'href="/quality/participation/steps/rounds?{query}"' in main
    assert "required ≥ 90 % [P] · now below the target" in main  # candidacy 1 of 2
    assert "association, not causation" in main and 'id="gap-alert_ack"' in main
    assert 'id="missing-voices"' in main
    assert "rounds 3 of 4; circuit checks 1 of 1" in main
    assert "rounds 3 of 4 · circuit checks 1 of 1" in main  # in the drawn box too
    nursing = web.client.get(f"/quality/participation?{PERIOD}&discipline=nursing")
    assert "Current: Nursing involvement" in nursing.text
    assert "0 of 2 (CI 0–66 %)" in nursing.text


def test_a_step_lists_its_records_without_perfusion_first_each_linked(web: Web) -> None:
    ids = _build(web)
    web.login("qa_lead")
    r = web.client.get(f"/quality/participation/steps/rounds?{PERIOD}")
    assert r.status_code == 200
    rows = re.findall(r'<tr class="[^"]*" data-with="(yes|no)">\s*<td><a href="([^"]+)"', r.text)
    assert [w for w, _ in rows] == ["no", "yes", "yes", "yes", "yes"]
    assert rows[0][1] == f"/runs/{ids['A']}/rounds"  # run A's second round, without perfusion
    assert "circuit check" in r.text.lower() and "<b>none</b>" in r.text
    decisions = web.client.get(f"/quality/participation/steps/candidacy?{PERIOD}")
    assert re.search(r'data-with="no">\s*<td><a href="/referrals/\d+"', decisions.text)


def test_researchers_get_aggregate_counts_only(web: Web) -> None:
    _build(web)
    web.login("researcher")
    page = web.client.get(f"/quality/participation?{PERIOD}")
    assert page.status_code == 200
    main = page.text.split("<main>")[1]
    assert "4 of 5" in main and "/quality/participation/steps/" not in main
    assert "/runs/" not in main and 'id="missing-voices"' not in main
    assert web.client.get(f"/quality/participation/steps/rounds?{PERIOD}").status_code == 403
    api = web.client.get(f"/api/v1/quality/participation/steps/rounds?{PERIOD}")
    assert api.status_code == 403
    assert web.client.get("/api/v1/quality/participation/missing-voices").status_code == 403


def test_the_api_answers_steps_comparisons_and_trend(web: Web) -> None:
    _build(web)
    web.login("researcher")
    r = web.client.get(f"/api/v1/quality/participation?{PERIOD}")
    assert r.status_code == 200
    body = r.json()
    steps = {s["key"]: s for s in body["steps"]}
    assert list(steps) == list(EXPECTED["perfusion"])
    assert (steps["rounds"]["discipline"]["k"], steps["rounds"]["discipline"]["n"]) == (4, 5)
    assert steps["rounds"]["perfusion_required"] is True
    assert steps["candidacy"]["meets_target"] is False
    assert steps["transport"]["recorded"] is False and steps["transport"]["meets_target"] is None
    assert steps["candidacy"]["policy_source"].startswith("[P]")
    assert {c["caveat"] for c in body["comparisons"]} == {"association, not causation"}
    assert {(t["month"], t["step"]) for t in body["trend"]} >= {("2025-01", "rounds")}
    web.client.post("/logout", data={"csrf_token": web.csrf("/account")})
    web.login("nurse")
    records = web.client.get(f"/api/v1/quality/participation/steps/decannulation?{PERIOD}")
    assert records.status_code == 200
    assert [x["with_discipline"] for x in records.json()["records"]] == [False, True]
    assert records.json()["records"][1]["how"] == ["signed"]
    bad = web.client.get("/api/v1/quality/participation?discipline=juggling&start=2025-13-01")
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["fields"]} == {"discipline", "start"}
    assert web.client.get(f"/api/v1/quality/participation/steps/lunch?{PERIOD}").status_code == 422


def test_the_trend_exports_as_csv_svg_and_png(web: Web) -> None:
    _build(web)
    web.login("researcher")
    csv_ = web.client.get(f"/quality/participation/trend.csv?{PERIOD}")
    assert csv_.status_code == 200 and csv_.headers["content-type"].startswith("text/csv")
    lines = csv_.text.splitlines()
    assert lines[0] == "month,step,step_label,discipline,k,n,share,ci_low,ci_high"
    assert "2025-01,rounds,Daily rounds and circuit checks,perfusion,4,5,0.8000" in csv_.text
    svg = web.client.get(f"/quality/participation/trend.svg?{PERIOD}")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and ">4/5<" in svg.text
    png = web.client.get(f"/quality/participation/trend.png?{PERIOD}")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_on_the_page_is_a_422_naming_the_field(web: Web) -> None:
    web.login("qa_lead")
    r = web.client.get("/quality/participation?start=2025-02-01&end=2025-01-01")
    assert r.status_code == 422 and "before it starts" in r.text
    r = web.client.get("/quality/participation?discipline=juggling")
    assert r.status_code == 422 and "juggling" in r.text and "perfusion" in r.text


def test_days_outside_the_calendar_the_map_handles_are_refused(web: Web) -> None:
    web.login("qa_lead")
    r = web.client.get("/api/v1/quality/participation?start=9999-12-30&end=9999-12-31")
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["fields"]} == {"start", "end"}
    long = web.client.get("/api/v1/quality/participation?start=1990-01-01&end=2025-01-01")
    assert long.status_code == 422 and "at most 5 years" in long.text


def _research_records(db: Session) -> None:
    """January 2025: a study recorded by the perfusionist, run A's registry record marked
    ready by the nurse, and a paper whose authors are an intensivist and the perfusionist."""
    from datetime import datetime

    from continuum.research.registry_record import RegistrySubmission
    from continuum.research.study_record import Publication, PublicationAuthor, Study

    people = cohort.staff(db)
    perfusionist, nurse = people["perfusionist"].staff_id, people["nurse"].staff_id
    at = datetime(2025, 1, 20, 10, tzinfo=UTC)
    study = Study(title="Oxygenator life on VV", created_by=perfusionist, created_at=at)
    db.add(study)
    run_id = db.execute(select(Run.id).order_by(Run.id)).scalars().first()
    db.add(RegistrySubmission(run_id=run_id, completeness_pct=91.0, by=nurse, by_name="N", at=at))
    db.flush()
    paper = Publication(study_id=study.id, title="Paper", added_at=at)
    db.add(paper)
    db.flush()
    db.add_all([
        PublicationAuthor(publication_id=paper.id, position=1, staff_id=None,
                          external_name="Dr A", discipline="intensive_care", credit_roles=[]),
        PublicationAuthor(publication_id=paper.id, position=2, staff_id=perfusionist,
                          discipline="perfusion", credit_roles=["data_curation"]),
    ])  # fmt: skip


def test_registry_and_research_step_reads_studies_submissions_and_authors(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        cohort.build(db)
        _research_records(db)
    with unit_of_work(sessions) as db:
        m = pmap.compute(db, QA, pmap.MapFilter(cohort.START, cohort.END), UTC)
        nursing = pmap.compute(db, QA, pmap.MapFilter(cohort.START, cohort.END, "nursing"), UTC)
    share = m.share("research")
    assert share.recorded and (share.k, share.n) == (2, 3)  # study and paper, not submission
    assert (nursing.share("research").k, nursing.share("research").n) == (1, 3)
    records = [r for r in m.records if r.step == "research"]
    assert sorted(r.kind for r in records) == ["publication", "registry submission", "study"]
    paper = next(r for r in records if r.kind == "publication")
    assert (
        paper.how("perfusion") == ["signed"] and paper.href and "/research/studies/" in paper.href
    )

"""Corrections of a publication's author list are amendments: a new version of the whole
list with who, when and why (the why is free text: hidden from researchers like every typed
reason); the old list stays and shows in the history (API and page);
the discipline × CRediT counts read the current version; a stale correction (409), a
missing reason, an unchanged list or an unknown staff member (422) and a role that may not
manage studies (403) are refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from continuum.core.audit import AuditEntry
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.research import study
from continuum.research.study import AuthorIn, AuthorsCorrectionIn, PublicationIn, StudyIn
from continuum.research.study_record import AuthorListVersion, PublicationAuthor
from tests.conftest import Web
from tests.research.test_study_register import _actor, _perfusionist_id


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_correction_is_a_new_version_and_counts_follow_it(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        me = _actor(db, "researcher")
        row = study.create(db, me, StudyIn(title="Circuit exchange", status="planned"))
        perf = _perfusionist_id(db)
        pub = study.add_publication(db, me, row.id, PublicationIn(title="Paper", authors=[
            AuthorIn(staff_id=me.staff_id, credit_roles=["formal_analysis"]),
            AuthorIn(external_name="K. Andersen", discipline="intensive_care",
                     credit_roles=["supervision"]),
        ]))  # fmt: skip
        before = study.credit_table(db, me, row.id)
        assert before.count("perfusion", "data_curation") == 0 and before.with_perfusion == 0
        # the perfusionist's data curation was left out: correct the list
        fixed = [
            AuthorIn(staff_id=perf, credit_roles=["data_curation", "writing_review_editing"]),
            AuthorIn(staff_id=me.staff_id, credit_roles=["formal_analysis"]),
            AuthorIn(external_name="K. Andersen", discipline="intensive_care",
                     credit_roles=["supervision"]),
        ]  # fmt: skip
        entry = study.correct_authors(db, me, pub.id, AuthorsCorrectionIn(
            authors=fixed, reason="perfusion data curation omitted from the byline",
            version=1))  # fmt: skip
        assert entry.version == 2
        after = study.credit_table(db, me, row.id)
        assert after.count("perfusion", "data_curation") == 1
        assert after.count("perfusion", "writing_review_editing") == 1
        assert after.count("intensive_care", "supervision") == 1  # counted once, not twice
        assert (
            after.count("research", "formal_analysis")
            + after.count(me.discipline or "", "formal_analysis")
            >= 1
        )
        assert (after.publications, after.with_perfusion) == (1, 1)
        programme = study.credit_table(db, me)
        assert programme.count("perfusion", "data_curation") >= 1
        # the old list is kept, the history shows both with who, when and why
        assert _count(db, PublicationAuthor) >= 5
        history = study.author_history(db, me, pub.id)
        assert [v.version for v in history] == [1, 2]
        assert history[0].reason is None and len(history[0].authors) == 2
        assert history[1].reason == "perfusion data curation omitted from the byline"
        assert history[1].by == me.staff_id and history[1].at is not None
        assert history[1].authors[0].staff_id == perf
        assert study.authors_of(db, [pub.id])[pub.id][0].staff_id == perf
        audit = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "study.authors_corrected")
        ).one()
        assert audit.detail["version"] == 2 and "omitted" in audit.detail["reason"]
        assert len(audit.detail["from"]) == 2 and len(audit.detail["to"]) == 3
        db.commit()
        # refusals: stale version, unchanged, no reason, unknown staff, wrong role
        rows_before = _count(db, PublicationAuthor), _count(db, AuthorListVersion)
        with pytest.raises(Conflict, match="at version 2, not 1"):
            study.correct_authors(db, me, pub.id, AuthorsCorrectionIn(
                authors=fixed[1:], reason="drop the perfusionist", version=1))  # fmt: skip
        with pytest.raises(ValidationFailed, match="same as the current one"):
            study.correct_authors(db, me, pub.id, AuthorsCorrectionIn(
                authors=fixed, reason="no change at all", version=2))  # fmt: skip
        with pytest.raises(ValidationFailed, match="say why"):
            study.parse(AuthorsCorrectionIn, {"authors": [a.model_dump() for a in fixed],
                                              "reason": " ", "version": 2})  # fmt: skip
        with pytest.raises(ValidationFailed, match="no staff member"):
            study.correct_authors(db, me, pub.id, AuthorsCorrectionIn(
                authors=[AuthorIn(staff_id=99999, credit_roles=["software"])],
                reason="typo in the staff id", version=2))  # fmt: skip
        with pytest.raises(Forbidden):
            study.correct_authors(db, _actor(db, "coordinator"), pub.id, AuthorsCorrectionIn(
                authors=fixed[:1], reason="not mine to change", version=2))  # fmt: skip
        db.rollback()
        assert (_count(db, PublicationAuthor), _count(db, AuthorListVersion)) == rows_before


def test_author_correction_on_the_api_and_the_page(web: Web) -> None:
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    r = web.client.post("/api/v1/research/studies/1/publications", headers=csrf, json={
        "title": "Decannulation paper",
        "authors": [{"external_name": "K. Andersen", "discipline": "intensive_care",
                     "credit_roles": ["supervision"]}]})  # fmt: skip
    assert r.status_code == 201, r.text
    pub = r.json()
    assert pub["authors_version"] == 1 and len(pub["author_history"]) == 1
    body = {"version": 1, "reason": "the perfusion author was missing",
            "authors": [{"staff_id": 1, "credit_roles": ["data_curation"]},
                        {"external_name": "K. Andersen", "discipline": "intensive_care",
                         "credit_roles": ["supervision"]}]}  # fmt: skip
    r = web.client.post(f"/api/v1/research/publications/{pub['id']}/authors", headers=csrf,
                        json=body)  # fmt: skip
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["authors_version"] == 2 and out["authors"][0]["staff_id"] == 1
    assert [v["version"] for v in out["author_history"]] == [1, 2]
    # why: free text, so null for the researcher (no identifiers) and shown to a lead
    assert out["author_history"][1]["reason"] is None
    web.client.cookies.clear()
    web.login("qa_lead")
    lead = web.client.get("/api/v1/research/studies/1").json()["publications"]
    history = next(p for p in lead if p["id"] == pub["id"])["author_history"]
    assert history[1]["reason"] == "the perfusion author was missing"
    assert "the perfusion author was missing" in web.client.get("/research/studies/1").text
    web.client.cookies.clear()
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    assert out["author_history"][1]["by"] and out["author_history"][0]["authors"][0]["name"] == (
        "K. Andersen"
    )
    r = web.client.post(f"/api/v1/research/publications/{pub['id']}/authors", headers=csrf,
                        json=body)  # fmt: skip
    assert r.status_code == 409 and "version 2, not 1" in r.text
    r = web.client.post("/api/v1/research/publications/9999/authors", headers=csrf,
                        json={**body, "version": 1})  # fmt: skip
    assert r.status_code == 404
    credit = web.client.get("/api/v1/research/credit").json()
    assert credit["counts"]["perfusion"]["data_curation"] >= 1
    # the page: history and a correction form; a page correction makes version 3
    page = web.client.get("/research/studies/1")
    assert "Author list history (2 versions)" in page.text
    assert "the perfusion author was missing" not in page.text
    assert 'why: <span class="muted">hidden for your role</span>' in page.text
    assert f'action="/research/publications/{pub["id"]}/authors"' in page.text
    form = {"version": "2", "reason": "", "a1_staff": "1", "a1_roles": "data_curation",
            "csrf_token": web.csrf("/research/studies/1")}  # fmt: skip
    r = web.client.post(f"/research/publications/{pub['id']}/authors", data=form,
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 422 and "say why" in r.text
    form["reason"] = "external author withdrew"
    r = web.client.post(f"/research/publications/{pub['id']}/authors", data=form,
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:500]
    out = web.client.get("/api/v1/research/studies/1").json()["publications"]
    mine = next(p for p in out if p["id"] == pub["id"])
    assert mine["authors_version"] == 3 and len(mine["authors"]) == 1
    assert len(mine["author_history"][1]["authors"]) == 2  # version 2 kept
    web.login("coordinator")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    r = web.client.post(f"/api/v1/research/publications/{pub['id']}/authors", headers=csrf,
                        json={**body, "version": 3})  # fmt: skip
    assert r.status_code == 403

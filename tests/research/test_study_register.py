"""The study register: studies with approvals, versioned edits, data requests linked to saved
cohorts and exports, publications with CRediT roles, the discipline × role table; refusals
as 4xx naming field and value, with nothing stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from continuum.core.audit import AuditEntry
from continuum.core.concurrency import StaleRecord
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.research import study
from continuum.research.study import AuthorIn, PublicationIn, RequestIn, StudyIn
from continuum.research.study_record import Publication
from tests.conftest import Web


def _actor(db, role: str) -> Actor:  # type: ignore[no-untyped-def]
    staff = db.scalars(select(Staff).where(Staff.role == role)).first()
    return Actor(staff.id, staff.name, role, staff.discipline)


def _perfusionist_id(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(Staff.id).where(Staff.discipline == "perfusion"))


def test_study_lifecycle_and_credit_table(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        me = _actor(db, "researcher")
        row = study.create(db, me, StudyIn(title="Circuit life", status="planned"))
        assert row.version == 1
        approved = StudyIn(
            title="Circuit life", status="approved", ethics_body="REC",
            ethics_reference="REC 1", ethics_date=date(2025, 1, 2),
        )  # fmt: skip
        study.edit(db, me, row.id, approved, 1)
        assert (row.status, row.version) == ("approved", 2)
        with pytest.raises(StaleRecord):  # a save on the older version is refused
            study.edit(db, me, row.id, StudyIn(title="Circuit life 2"), 1)
        req = study.add_request(db, me, row.id, RequestIn(cohort="Seed cohort (VV)",
                                                          purpose="pilot"))  # fmt: skip
        assert req.export_id is None
        perf = _perfusionist_id(db)
        study.add_publication(db, me, row.id, PublicationIn(title="Paper", authors=[
            AuthorIn(staff_id=perf, credit_roles=["data_curation", "formal_analysis"]),
            AuthorIn(staff_id=me.staff_id, credit_roles=["formal_analysis"]),
            AuthorIn(external_name="K. Andersen", discipline="intensive_care",
                     credit_roles=["supervision"]),
        ]))  # fmt: skip
        table = study.credit_table(db, me, row.id)
        assert table.count("perfusion", "data_curation") == 1
        assert table.count("perfusion", "formal_analysis") == 1
        assert table.count("perfusion", "writing_original_draft") == 0
        assert table.count("intensive_care", "supervision") == 1
        assert (table.publications, table.with_perfusion) == (1, 1)
        actions = db.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "research_study")).all()  # fmt: skip
        assert {"study.create", "study.edit", "study.data_request", "study.publication"} <= set(
            actions
        )


def test_refusals(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        me = _actor(db, "researcher")
        with pytest.raises(Exception, match="needs the approval"):
            StudyIn(title="x", status="active")
        with pytest.raises(Forbidden):
            study.create(db, _actor(db, "coordinator"), StudyIn(title="Not mine"))
        study.create(db, me, StudyIn(title="Once"))
        with pytest.raises(Conflict):
            study.create(db, me, StudyIn(title="Once"))
        with pytest.raises(ValidationFailed, match="no saved cohort"):
            study.add_request(db, me, 1, RequestIn(cohort="nope", purpose="x"))
        with pytest.raises(ValidationFailed, match="no export"):
            study.add_request(db, me, 1, RequestIn(cohort="Seed cohort (VV)", purpose="x",
                                                   export_id=999))  # fmt: skip
        with pytest.raises(ValidationFailed, match="no staff member"):
            study.add_publication(db, me, 1, PublicationIn(title="P", authors=[
                AuthorIn(staff_id=9999, credit_roles=["software"])]))  # fmt: skip
        assert db.scalar(select(func.count(Publication.id))) == 0


def test_api_bad_input_names_field_and_value(web: Web) -> None:
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    r = web.client.post("/api/v1/research/studies", headers=csrf,
                        json={"title": "X", "status": "finished"})  # fmt: skip
    assert r.status_code == 422 and "finished" in r.text and "status" in r.text
    r = web.client.post("/api/v1/research/studies/1/publications", headers=csrf, json={
        "title": "P", "authors": [{"staff_id": 1, "credit_roles": ["typing"]}]})  # fmt: skip
    assert r.status_code == 422 and "typing" in r.text
    r = web.client.post(
        "/api/v1/research/studies/1/publications",
        headers=csrf,
        json={"title": "P", "authors": [{"external_name": "A. B.", "credit_roles": ["software"]}]},
    )
    assert r.status_code == 422 and "needs a discipline" in r.text
    r = web.client.put("/api/v1/research/studies/1", headers=csrf,
                       json={"title": "Seed study", "version": 7})  # fmt: skip
    assert r.status_code == 409 and "version 7" in r.text
    r = web.client.get("/api/v1/research/studies/99")
    assert r.status_code == 404
    assert web.client.get("/api/v1/research/studies/1").json()["publications"] == []


def test_pages_show_the_register_and_the_table(web: Web) -> None:
    web.login("researcher")
    r = web.post_form("/research/studies", {"title": "Bad", "status": "active"},
                      "/research/studies")  # fmt: skip
    assert r.status_code == 422 and "needs the approval" in r.text
    form = {
        "title": "Perfusion paper", "a1_staff": "1", "a1_roles": ["data_curation",
                                                                  "formal_analysis"],
        "a2_name": "K. Andersen", "a2_discipline": "intensive_care", "a2_roles": "supervision",
        "csrf_token": web.csrf("/research/studies/1"),
    }  # fmt: skip
    r = web.client.post("/research/studies/1/publications", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[r.text.find("error") :][:600]
    page = web.client.get("/research/studies/1")
    assert page.status_code == 200
    assert "Perfusion paper" in page.text and "K. Andersen" in page.text
    assert "Data curation" in page.text
    listing = web.client.get("/research/studies")
    assert "Seed study" in listing.text and "discipline × CRediT role" in listing.text
    web.login("coordinator")  # reads, may not manage: no forms
    page = web.client.get("/research/studies/1")
    assert page.status_code == 200 and "Add a publication" not in page.text


def test_free_text_hidden_from_researcher_and_kept_on_their_edit(web: Web) -> None:
    web.login("physician_lead")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    r = web.client.post(
        "/api/v1/research/studies/1/requests",
        headers=csrf,
        json={"cohort": "Seed cohort (VV)", "purpose": "ask Dr X on 555-0101"},
    )
    assert r.status_code == 201 and r.json()["purpose"] == "ask Dr X on 555-0101"
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    got = web.client.get("/api/v1/research/studies/1").json()
    # the protocol is study-level prose the team reads; a request's purpose stays hidden
    assert got["protocol_summary"] == "seed" and got["data_requests"][0]["purpose"] is None
    r = web.client.put(
        "/api/v1/research/studies/1",
        headers=csrf,
        json={"title": "Seed study", "status": "planned", "version": 1},
    )
    assert r.status_code == 200
    web.login("physician_lead")
    assert web.client.get("/api/v1/research/studies/1").json()["protocol_summary"] == "seed"


def test_a_protocol_naming_a_patient_is_refused_and_researchers_read_protocols(web: Web) -> None:
    from tests.seed import SECRET_MRNS, SECRET_NAMES

    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/studies")}
    for text in (f"Cohort includes {SECRET_MRNS[0]} as index case",
                 f"First patient {SECRET_NAMES[1].lower()} consented"):  # fmt: skip
        r = web.client.put(
            "/api/v1/research/studies/1",
            headers=csrf,
            json={"title": "Seed study", "status": "planned", "version": 1,
                  "protocol_summary": text},
        )  # fmt: skip
        assert r.status_code == 422
        [problem] = r.json()["fields"]
        assert problem["field"] == "protocol_summary" and "names a patient" in problem["message"]
        assert SECRET_MRNS[0] not in problem["message"] and SECRET_NAMES[1] not in r.text
    ok = web.client.put(
        "/api/v1/research/studies/1",
        headers=csrf,
        json={"title": "Seed study", "status": "planned", "version": 1,
              "protocol_summary": "Adults on VV-ECMO 2024-2026; primary outcome: ML life"},
    )  # fmt: skip
    assert ok.status_code == 200
    page = web.client.get("/research/studies/1")
    assert "Adults on VV-ECMO 2024-2026; primary outcome: ML life" in page.text

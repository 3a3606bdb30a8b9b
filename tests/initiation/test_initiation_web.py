"""The initiation pages and API: bad input explained on the page with nothing saved,
identifiers only for roles that may see them, the printable plan, the run link."""

from __future__ import annotations

from tests.conftest import Web, if_match
from tests.seed import SECRET_MRNS, SECRET_NAMES


def test_impossible_score_value_is_explained_and_nothing_saved(web: Web) -> None:
    web.login("physician")
    r = web.post_form(
        "/referrals/1/candidacy", {"murray.pao2_mmhg": "60", "murray.fio2": "5", "eolia.ph": "9.9"}
    )
    assert r.status_code == 422
    assert "scores.murray.fio2" in r.text and "eolia.ph" in r.text
    assert "6.5–8" in r.text
    api = web.client.get("/api/v1/referrals/1").json()
    assert all(s["status"] == "not entered" for s in api["candidacy"]["scores"])


def test_vv_for_cardiogenic_shock_is_refused_without_reason(web: Web) -> None:
    web.login("physician")
    form = {"phys.cardiogenic_shock": "on", "chosen_mode": "VV"}
    r = web.post_form("/referrals/1/modality", form)
    assert r.status_code == 422
    assert "choice_reason" in r.text and "cardiogenic shock" in r.text
    r = web.post_form("/referrals/1/modality", {**form, "choice_reason": "vasoplegic, LV fine"})
    assert r.status_code == 303
    record = web.client.get("/api/v1/referrals/1").json()["modality"]
    assert (record["recommended"], record["chosen"]) == ("VA", "VV")
    assert record["rules_fired"][0]["source"]


def test_missing_score_inputs_show_as_missing_on_the_page(web: Web) -> None:
    web.login("physician")
    assert web.post_form("/referrals/1/candidacy", {"resp.age_years": "40"}).status_code == 303
    page = web.client.get("/referrals/1").text
    assert "Missing: " in page and "paco2_mmhg" in page


def test_researcher_reads_no_referral(web: Web) -> None:
    """Referrals carry the referrer's name, phone, hospital and free text: a researcher
    (de-identified reading) is refused them, and the page names none of it."""
    web.login("researcher")
    for path in ("/referrals", "/referrals/1", "/referrals/1/print", "/api/v1/referrals/1"):
        response = web.client.get(path)
        assert response.status_code == 403, path
        assert SECRET_NAMES[1] not in response.text and SECRET_MRNS[1] not in response.text
    assert 'href="/referrals"' not in web.client.get("/runs").text  # not in the menu either
    web.login("coordinator")
    assert SECRET_NAMES[1] in web.client.get("/referrals").text


def test_printable_plan_and_run_link(web: Web) -> None:
    web.login("nurse")
    sheet = web.client.get("/referrals/1/print").text
    assert "@media print" in sheet and "configuration plan" in sheet
    run_page = web.client.get("/runs/1").text
    assert "Initiation decision" in run_page
    assert "not started from an initiation decision" in web.client.get("/runs/1/initiation").text


def test_api_walks_the_record(web: Web) -> None:
    web.login("perfusionist")
    csrf = web.csrf("/referrals/1")
    h = {"X-CSRF-Token": csrf}
    r = web.client.post(
        "/api/v1/referrals/1/plan",
        headers=if_match(web.client, "/api/v1/referrals/1/plan", h),
        json={
            "weight_kg": 70,
            "flow_goal_high": 6.5,
            "rated_flow_l_min": 5,
            "cannulas": [
                {"role": "drainage_and_return", "site": "right IJ", "catalogue_id": "avalon_23"}
            ],
        },
    )
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "rated_flow_reason"
    r = web.client.post(
        "/api/v1/modality/recommend", headers=h, json={"current_mode": "VA", "lv_distension": True}
    )
    assert r.json()["recommended"] == "VA+Impella"


def test_programme_changes_an_ecpr_cutoff_within_range(web: Web) -> None:
    web.login("qa_lead")
    h = {"X-CSRF-Token": web.csrf("/referrals")}
    r = web.client.post(
        "/api/v1/initiation/settings", headers=h, json={"values": {"ecpr_max_age_years": 250}}
    )
    assert r.status_code == 422
    assert "18–100" in r.json()["fields"][0]["message"]
    r = web.client.post(
        "/api/v1/initiation/settings",
        headers=h,
        json={"values": {"ecpr_max_age_years": 75}, "note": "protocol v3"},
    )
    row = next(x for x in r.json()["settings"] if x["key"] == "ecpr_max_age_years")
    assert (row["value"], row["overridden"], row["default"]) == (75, True, 70)
    trial = web.client.get("/api/v1/referrals/1").json()["candidacy"]["trials"][1]
    assert trial["items"][0]["text"] == "Age <75 years"


def test_an_api_edit_or_signature_must_name_the_version_it_was_made_on(web: Web) -> None:
    """A client that never read the record cannot overwrite or sign a colleague's save."""
    web.login("physician")
    h = {"X-CSRF-Token": web.csrf("/referrals/1")}
    for part, body in [
        ("candidacy", {"note": "P/F 60"}),
        ("decision", {"outcome": "accept", "reasons": "meets EOLIA"}),
        ("sign", {}),
    ]:
        r = web.client.post(f"/api/v1/referrals/1/{part}", headers=h, json=body)
        assert r.status_code == 422, (part, r.text)
        assert r.json()["fields"][0]["field"] == "version"
    before = web.client.get("/api/v1/referrals/1").json()["decision"]
    assert before["outcome"] is None  # nothing changed
    r = web.client.post(
        "/api/v1/referrals/1/candidacy",
        headers=if_match(web.client, "/api/v1/referrals/1/candidacy", h),
        json={"note": "P/F 60"},
    )
    assert r.status_code == 200, r.text
    stale = {**h, "If-Match": str(before["version"])}  # the version before that save
    r = web.client.post("/api/v1/referrals/1/candidacy", headers=stale, json={"note": "x"})
    assert r.status_code == 409 and r.json()["error"] == "stale_version"


def test_eolia_values_typed_on_the_page_are_stored_as_numbers(web: Web) -> None:
    """The form's boxes arrive as text; the decision keeps numbers (the registry reads
    numbers, issue #19), exactly as the API would have stored them."""
    from sqlalchemy import select

    from continuum.db import make_engine, make_sessionmaker
    from continuum.initiation.models import InitiationDecision

    web.login("physician")
    form = {"eolia.ventilation_days": "2", "eolia.fio2": "0.9", "eolia.peep_cmh2o": "14",
            "eolia.pf_ratio_mmhg": "62", "eolia.pf_hours": "4"}  # fmt: skip
    assert web.post_form("/referrals/1/candidacy", form).status_code == 303
    engine = make_engine(web.url)
    with make_sessionmaker(engine)() as db:
        decision = db.scalars(select(InitiationDecision)).one()
        eolia = decision.trial_inputs["eolia"]
    engine.dispose()
    assert eolia == {"ventilation_days": 2.0, "fio2": 0.9, "peep_cmh2o": 14.0,
                     "pf_ratio_mmhg": 62.0, "pf_hours": 4.0}  # fmt: skip

"""The ECPR cut-offs page: published defaults with their sources, a programme value saved
and audited, blank back to the default, bad input named per field with nothing changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from continuum.core.record import AuditEntry, ProgrammeSetting
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.initiation.trial_criteria import ECPR_THRESHOLDS, ECPR_TYPICAL
from tests.conftest import Web

URL = "/settings/initiation"


def stored(url: str) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
    """The initiation overrides and the detail of each initiation-settings audit entry."""
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        rows = db.scalars(
            select(ProgrammeSetting).where(ProgrammeSetting.key.startswith("initiation."))
        )
        overrides = {r.key: r.value for r in rows}
        audit = [
            a.detail
            for a in db.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.entity == "programme_setting",
                    AuditEntry.entity_id.startswith("initiation."),
                )
                .order_by(AuditEntry.id)
            )
        ]
    engine.dispose()
    return overrides, audit


def api_row(web: Web, name: str) -> dict[str, Any]:
    rows = web.client.get("/api/v1/settings/initiation").json()["settings"]
    return next(r for r in rows if r["key"] == name)


def test_page_shows_defaults_sources_and_ranges(web: Web) -> None:
    web.login("qa_lead")
    r = web.client.get(URL)
    assert r.status_code == 200
    page = r.text
    assert 'href="/settings/initiation"' in page and "ECPR cut-offs" in page  # group nav
    assert ECPR_TYPICAL in page and "ELSO ECPR 2021 [P]" in page
    for name, t in ECPR_THRESHOLDS.items():
        assert f'name="t_{name}"' in page and t.label in page
        assert f"{t.low:g}–{t.high:g} {t.unit}" in page
    assert "70 years" in page and '<span class="badge">programme</span>' not in page


def test_saving_a_value_changes_it_and_is_audited(web: Web) -> None:
    web.login("qa_lead")
    r = web.post_form(URL, {"t_ecpr_max_age_years": "75", "note": "ECPR protocol v3"}, page=URL)
    assert r.status_code == 303 and r.headers["location"] == f"{URL}?saved=1"
    row = api_row(web, "ecpr_max_age_years")
    assert (row["value"], row["overridden"], row["default"]) == (75, True, 70)
    overrides, audit = stored(web.url)
    assert overrides == {"initiation.ecpr_max_age_years": 75}
    assert [(a["key"], a["old"], a["new"], a["note"]) for a in audit if a] == [
        ("ecpr_max_age_years", 70, 75, "ECPR protocol v3")
    ]
    page = web.client.get(f"{URL}?saved=1").text
    assert "ECPR cut-offs saved" in page and "ECPR protocol v3" in page
    assert 'value="75"' in page
    trial = web.client.get("/api/v1/referrals/1").json()["candidacy"]["trials"][1]
    assert trial["items"][0]["text"] == "Age <75 years"


def test_blank_goes_back_to_the_default(web: Web) -> None:
    web.login("qa_lead")
    web.post_form(URL, {"t_ecpr_max_no_flow_min": "8"}, page=URL)
    assert api_row(web, "ecpr_max_no_flow_min")["value"] == 8
    r = web.post_form(URL, {"t_ecpr_max_no_flow_min": "", "note": "back to published"}, page=URL)
    assert r.status_code == 303
    row = api_row(web, "ecpr_max_no_flow_min")
    assert (row["value"], row["overridden"]) == (5, False)
    overrides, audit = stored(web.url)
    assert overrides == {}
    assert [(a["key"], a["old"], a["new"]) for a in audit if a] == [
        ("ecpr_max_no_flow_min", 5, 8),
        ("ecpr_max_no_flow_min", 8, 5),
    ]


def test_resubmitting_the_page_unchanged_writes_nothing(web: Web) -> None:
    web.login("qa_lead")
    form = {f"t_{name}": "" for name in ECPR_THRESHOLDS}
    r = web.post_form(URL, {**form, "t_ecpr_max_age_years": "70"}, page=URL)
    assert r.status_code == 303 and r.headers["location"] == f"{URL}?unchanged=1"
    assert stored(web.url) == ({}, [])
    assert "No value was changed" in web.client.get(r.headers["location"]).text


def test_out_of_range_value_is_named_with_its_range_and_nothing_changes(web: Web) -> None:
    web.login("qa_lead")
    web.post_form(URL, {"t_ecpr_max_no_flow_min": "8"}, page=URL)
    before = stored(web.url)
    form = {
        "t_ecpr_max_age_years": "250",
        "t_ecpr_min_etco2_mmhg": "abc",
        "t_ecpr_min_cpr_min": "15",
    }
    r = web.post_form(URL, {**form, "note": "typo"}, page=URL)
    assert r.status_code == 422
    assert "Nothing was saved" in r.text
    assert "ecpr_max_age_years" in r.text
    assert "age below (ecpr_max_age_years): 250 years is outside the allowed 18–100 years" in r.text
    assert "is not a number; allowed 0–40 mmHg" in r.text
    assert 'value="250"' in r.text and 'value="abc"' in r.text and 'value="15"' in r.text
    assert 'name="t_ecpr_max_no_flow_min"' in r.text and 'value="8"' in r.text  # not posted: kept
    assert stored(web.url) == before
    assert api_row(web, "ecpr_min_cpr_min")["overridden"] is False


def test_role_without_manage_clinical_settings_reads_but_may_not_change(web: Web) -> None:
    web.login("perfusionist")
    page = web.client.get(URL)
    assert page.status_code == 200 and "Read only" in page.text
    assert 'name="t_ecpr_max_age_years"' not in page.text
    r = web.post_form(URL, {"t_ecpr_max_age_years": "75"})
    assert r.status_code == 403
    assert stored(web.url) == ({}, [])

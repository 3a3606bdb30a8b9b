"""A person's first day: each role lands on a page it may open, error pages keep the
navigation and the way out, times read in the programme's zone and values in clinical words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from continuum.app import create_app
from continuum.core.roles import START_PAGES, start_page
from continuum.core.vocab import ROLES
from continuum.local_time import shown
from tests import conftest
from tests.conftest import Web
from tests.seed import RUN_START

LOGOUT = 'action="/logout"'


@pytest.fixture
def web_ny(sqlite_url: str) -> Iterator[Web]:
    """The web client of a programme in New York (CONTINUUM_TIMEZONE=America/New_York)."""
    settings = conftest.test_settings(sqlite_url).model_copy(
        update={"timezone": "America/New_York"}
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        yield Web(client, sqlite_url)
    app.state.engine.dispose()


def test_each_role_lands_on_a_page_it_may_open(web: Web) -> None:
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/login"
    landed = {}
    for role in ROLES:
        web.login(role)
        home = web.client.get("/", follow_redirects=False)
        assert home.status_code == 303
        landed[role] = home.headers["location"]
        page = web.client.get(landed[role])
        assert page.status_code == 200, f"{role} lands on {landed[role]}: {page.status_code}"
        assert LOGOUT in page.text, role
        web.client.post("/logout", data={"csrf_token": web.csrf(landed[role])})
    assert landed["admin"] == "/admin/users"
    assert landed["researcher"] == START_PAGES["researcher"] != "/rounds"
    assert all(landed[r] == "/rounds" for r in ("perfusionist", "physician", "nurse"))


def test_login_without_a_next_page_goes_to_the_start_page(web: Web) -> None:
    token = web.csrf("/login")
    r = web.client.post(
        "/login",
        data={"username": "admin", "password": _password("admin"), "csrf_token": token},
        follow_redirects=True,
    )
    assert r.status_code == 200 and str(r.url).endswith(start_page("admin"))
    assert "Forbidden" not in r.text and LOGOUT in r.text


@pytest.mark.parametrize(("path", "status"), [("/runs/1", 403), ("/no/such/page", 404)])
def test_error_pages_keep_the_menu_and_log_out(web: Web, path: str, status: int) -> None:
    web.login("admin")
    r = web.client.get(path)
    assert r.status_code == status
    assert LOGOUT in r.text and 'href="/admin/users"' in r.text  # the admin's own menu
    assert f'href="{start_page("admin")}" id="start-page"' in r.text


def test_a_conflict_page_keeps_the_menu(web: Web) -> None:
    web.login("physician")
    end = {"outcome": "weaned_recovered", "stop_reason": "recovered"}
    assert web.post_form("/runs/1/end", end).status_code == 303
    again = web.client.get("/api/v1/runs/1")
    assert again.json()["status"] == "ended"
    r = web.post_form("/runs/1/end", end)  # a second end: the run has ended already
    assert r.status_code == 409, r.status_code
    assert LOGOUT in r.text and 'href="/runs"' in r.text


def test_a_server_fault_is_a_page_with_the_menu(web: Web) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app = web.client.app
    app.add_api_route("/boom", boom, include_in_schema=False)  # type: ignore[attr-defined]
    web.login("nurse")
    quiet = TestClient(app, raise_server_exceptions=False, cookies=web.client.cookies)
    r = quiet.get("/boom")
    assert r.status_code == 500
    assert "Server error" in r.text and LOGOUT in r.text and "a bug" not in r.text
    assert quiet.get("/api/v1/no-such").headers["content-type"].startswith("application/json")


def test_ending_a_run_is_for_the_signers_not_the_coordinator(web: Web) -> None:
    end = {"outcome": "weaned_recovered", "stop_reason": "recovered"}
    web.login("coordinator")
    assert 'action="/runs/1/end"' not in web.client.get("/runs/1").text
    assert web.post_form("/runs/1/end", end).status_code == 403
    web.login("perfusionist")
    assert 'action="/runs/1/end"' in web.client.get("/runs/1").text


def test_api_docs_link_only_for_interface_roles(web: Web) -> None:
    for role, shown_link in (("nurse", False), ("physician", False), ("admin", True)):
        web.login(role)
        page = web.client.get(start_page(role)).text
        assert ('href="/api/docs"' in page) is shown_link, role


def test_one_clock_in_the_programme_zone(web_ny: Web) -> None:
    web_ny.login("physician")
    page = web_ny.client.get("/runs/1").text
    zone = conftest.test_settings("x").model_copy(update={"timezone": "America/New_York"}).zone
    started = shown(RUN_START, zone)
    assert started in page
    assert RUN_START.astimezone(UTC).strftime("%Y-%m-%d %H:%M") not in page  # not UTC
    assert re.search(r"Times are in America/New_York \((EST|EDT), UTC−0[45]:00\)", page)
    assert page.count("America/New_York") == 1  # once, in the footer
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", _visible(page)), "raw ISO time"
    assert " UTC<" not in page and " UTC " not in _visible(page).replace("UTC−", "")


def test_weaning_history_times_are_local(web_ny: Web) -> None:
    web_ny.login("physician")
    page = web_ny.client.get("/runs/1/weaning").text
    assert page.count(" UTC") == page.count(" UTC−")  # only the footer's offset
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", _visible(page))


def test_clinical_words_not_codes(web: Web) -> None:
    web.login("physician")
    given = {"hb_g_dl": "10.100000000000001", "so2_pct": "97", "po2_mmhg": "90"}
    r = web.post_form("/calculators/oxygen_content", given)
    assert r.status_code == 200, r.text[-500:]
    inputs = r.text[r.text.index("Inputs as used") :]
    assert "10.100000000000001" not in inputs and "Haemoglobin</td><td>10.1 g/dL" in inputs
    assert "hb g dl" not in r.text and "hb_g_dl</td>" not in inputs
    refused = web.post_form("/calculators/oxygen_content", {**given, "so2_pct": "170"})
    summary = refused.text[refused.text.index('id="error-summary"') :]
    assert summary.index("error-summary") < 40  # above the form, the first thing on the page
    assert refused.text.index('id="error-summary"') < refused.text.index('id="calc-form"')
    assert 'data-field="so2_pct">Saturation</a>' in summary or 'data-field="so2_pct">' in summary


def test_discipline_is_shown_beside_the_role(web: Web) -> None:
    web.login("admin")
    page = web.client.get("/admin/users").text
    assert "Bedside clinician" in page and "ICU nurse" not in page
    assert ">Pharmacy</option>" in page and ">Physiotherapy</option>" in page


def _visible(html: str) -> str:
    """The text a person reads: no tags, attributes, styles or scripts."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _password(role: str) -> str:
    from tests.seed import password_for

    return password_for(role)


def test_local_time_reads_iso_text_and_datetimes() -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    at = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert shown(at, ny) == shown(at.isoformat(), ny) == "2026-01-15 07:00"
    assert shown("2026-07-15T12:00:00Z", ny) == "2026-07-15 08:00"  # summer time
    assert shown("2026-01-15T12:00:00", ny) == "2026-01-15 07:00"  # no offset: UTC
    assert shown(None, ny) == "" and shown("3 h", ny) == "3 h"


def test_clinical_thresholds_are_changed_by_clinical_leads_only() -> None:
    """Governance (docs/extending.md "Governance"): every settings group but the message-log
    retention (integration) and the staff-session keeping (accounts) holds clinical
    thresholds, and only the physician lead and the quality lead
    change those; ending a run is the signers' act, not the coordinator's or an interface's."""
    import importlib

    from continuum.core.roles import ROLE_PERMISSIONS, Permission
    from continuum.domains import SETTINGS_MODULES

    groups = [importlib.import_module(m).SETTINGS for m in SETTINGS_MODULES]
    clinical = [g for g in groups if g.name not in ("integration", "accounts")]
    assert len(clinical) >= 3
    assert all(g.change == Permission.MANAGE_CLINICAL_SETTINGS for g in clinical)
    leads = {r for r, ps in ROLE_PERMISSIONS.items() if Permission.MANAGE_CLINICAL_SETTINGS in ps}
    assert leads == {"physician_lead", "qa_lead"}
    enders = {r for r, ps in ROLE_PERMISSIONS.items() if Permission.END_RUN in ps}
    assert enders == {"perfusionist", "physician", "physician_lead"}


def test_numbers_names_and_mrns_as_people_read_them() -> None:
    from continuum import display_names as d

    assert d.number(10.100000000000001) == "10.1"
    assert d.quantity(465.038, "pao2") == "465 mmHg"
    assert d.quantity(0.6, "sweep_fio2") == "0.6" and d.quantity(7.4, "ph") == "7.40"
    assert d.quantity(4.6, "blood_flow") == "4.6 L/min" and d.number(4.567, "blood_flow") == "4.57"
    assert d.field_label("hb_g_dl") == "Haemoglobin" and d.field_label("aptt") == "aPTT"
    assert d.field_label("action.0.due_at") == "Due time"
    assert d.record_name("circuit_check", 6) == "Circuit check #6"
    assert d.mrn("100262") == "MRN 100262" and d.mrn("MRN100262") == "MRN100262"


def test_times_inside_messages_read_in_the_zone() -> None:
    from zoneinfo import ZoneInfo

    from continuum.local_time import times_in

    ny = ZoneInfo("America/New_York")
    text = "this step is before the previous step (2026-01-15T12:00:00+00:00)"
    assert times_in(text, ny) == "this step is before the previous step (2026-01-15 07:00)"
    assert times_in("pump speed 3000 rpm", ny) == "pump speed 3000 rpm"

"""Typed free text (reasons, notes, contributions) reaches only roles that see identifiers:
a researcher reads "hidden for your role" on the run's pages and null in the API, while the
clinical structure (mode, values, outcome) stays readable (issue #16)."""

from __future__ import annotations

from continuum.core.free_text import HIDDEN
from tests.conftest import Web

AMEND_REASON = "sample from Dr Okafor at St Brigid Hospital, tel 0161 555 0199"
MODE_REASON = "north-south hypoxia per Dr Okafor"
CONTRIBUTION = "rang St Brigid Hospital switchboard 0161 555 0100"
TYPED = (AMEND_REASON, MODE_REASON, CONTRIBUTION)


def _write_free_text(web: Web) -> None:
    web.login("perfusionist")
    amended = web.post_form(
        "/observations/4/amend",
        {"value": "8.2", "reason": AMEND_REASON},
        page="/observations/4/amend",
    )
    assert amended.status_code == 303
    assert web.post_form("/runs/1/mode", {"mode": "VVA", "reason": MODE_REASON}).status_code == 303
    added = web.post_form(
        "/runs/1/participants", {"staff_id": "2", "how": "consulted", "contribution": CONTRIBUTION}
    )
    assert added.status_code == 303


def _readings(web: Web) -> dict[str, str]:
    return {
        url: web.client.get(url).text
        for url in (
            "/runs/1",
            "/runs/1/timeline",
            "/runs/1/rounds",
            "/runs/1/weaning",
            "/api/v1/runs/1",
            "/api/v1/observations/4",
            "/api/v1/runs/1/alerts",
        )
    }


def test_a_researcher_reads_no_typed_free_text_on_run_pages_or_the_api(web: Web) -> None:
    _write_free_text(web)
    web.login("researcher")
    for url, text in _readings(web).items():
        leaked = [typed for typed in TYPED if typed in text]
        assert not leaked, f"{url} shows {leaked} to a researcher"
    page = web.client.get("/runs/1").text
    assert HIDDEN in page and "VVA" in page  # the structure stays, only the words go
    run = web.client.get("/api/v1/runs/1").json()
    assert [m["reason"] for m in run["modes"]][-1] is None and run["mode"] == "VVA"
    assert all(p["contribution"] is None for p in run["participants"])
    amended = web.client.get("/api/v1/observations/4").json()
    assert amended["amendment"]["reason"] is None and amended["status"] == "superseded"


def test_a_nurse_reads_the_same_free_text(web: Web) -> None:
    _write_free_text(web)
    web.login("nurse")
    readings = _readings(web)
    for typed in TYPED:
        assert typed in readings["/runs/1"], typed
    assert MODE_REASON in readings["/runs/1/timeline"]
    assert AMEND_REASON in readings["/api/v1/observations/4"]
    assert HIDDEN not in readings["/runs/1"]
    run = web.client.get("/api/v1/runs/1").json()
    assert run["modes"][-1]["reason"] == MODE_REASON
    assert CONTRIBUTION in [p["contribution"] for p in run["participants"]]

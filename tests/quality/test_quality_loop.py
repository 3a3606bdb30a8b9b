"""The quality loop joined up: one set of values in force for an adverse event read by every
view (register, event page, case packet, review page, metric drill-down, API); a review's
consensus written into the event's history through the register's amend service; event ↔
packet ↔ reviews linked both ways; open events and open M&M actions on the run page, the
rounds board, the coordinator's list and the next meeting's agenda until closed; the
possible-events API; bad input on events and reviews refused naming the field, nothing
changed, never a 500."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from continuum.core import run_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import RunEnd
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import Web
from tests.seed import RUN_START

A = "/api/v1/quality"
EV = "/api/v1/adverse-events"
METRIC = "/api/v1/quality/metrics/complications"
PERIOD = {"start": "2020-01-01"}


def _h(web: Web) -> dict[str, str]:
    return {"X-CSRF-Token": web.csrf()}


def _post(web: Web, path: str, body: Any) -> Any:
    return web.client.post(path, json=body, headers=_h(web))


def _fields(r: Any) -> list[str]:
    return [p["field"] for p in r.json()["fields"]]


def _staff_id(web: Web, username: str) -> int:
    engine = make_engine(web.url)
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT id FROM staff WHERE username = ?"
            if web.url.startswith("sqlite")
            else "SELECT id FROM staff WHERE username = %s",
            (username,),
        ).scalar()
    engine.dispose()
    assert found is not None
    return int(found)


def _complications(web: Web) -> list[str]:
    r = web.client.get(METRIC, params=PERIOD)
    assert r.status_code == 200, r.text
    return [row["value"] for row in r.json()["runs"]]


def test_an_amendment_is_the_value_every_view_shows(web: Web) -> None:
    web.login("qa_lead")
    assert _complications(web) == ["Mechanical / circuit 1"]
    first = web.client.get(f"{EV}/1").json()
    assert first["harm"] == "mild"
    r = _post(web, f"{EV}/1/amendments", {"harm": "severe", "reason": "ECMO circuit lost",
                                          "version": first["version"]})  # fmt: skip
    assert r.status_code == 201, r.text
    # The register, the event page, the API list, the packet and the review page.
    register = web.client.get("/quality/events", params={"period": "all"}).text
    row = register.split('id="event-1"')[1].split("</tr>")[0]
    assert "Severe" in row and "Mild" not in row
    page = web.client.get("/quality/events/1").text
    in_force = page.split('id="in-force"')[1].split("</dl>")[0]
    assert "Severe" in in_force and "Mild" not in in_force
    listed = web.client.get(EV).json()["events"]
    assert [e["harm"] for e in listed if e["id"] == 1] == ["severe"]
    packet = web.client.get("/quality/runs/1/packet").text
    events = packet.split('id="adverse-events"')[1].split("</div>")[0]
    assert "harm: Severe" in events and "harm: Mild" not in events
    m = _post(web, f"{A}/meetings", {"held_on": "2026-11-02", "title": "Loop M&M"}).json()
    rv = _post(web, f"{A}/meetings/{m['id']}/reviews", {"run_id": 1, "adverse_event_id": 1})
    review = web.client.get(f"/quality/reviews/cases/{rv.json()['id']}").text
    assert "harm <b>Severe</b>" in review
    # The metric counts incidents in force: a correction to "near miss" takes it out.
    version = web.client.get(f"{EV}/1").json()["version"]
    r = _post(web, f"{EV}/1/amendments", {"event_class": "near_miss", "reason": "caught in time",
                                          "version": version})  # fmt: skip
    assert r.status_code == 201, r.text
    assert _complications(web) == []
    version = web.client.get(f"{EV}/1").json()["version"]
    body = {"event_class": "incident", "code": "haem_gi", "reason": "GI bleeding"}
    r = _post(web, f"{EV}/1/amendments", body | {"version": version})
    assert r.status_code == 201, r.text
    assert _complications(web) == ["Haemorrhagic 1"]


def test_review_consensus_is_an_amendment_of_the_event_linked_both_ways(web_any: Web) -> None:
    web = web_any
    web.login("coordinator")
    board = web.client.get("/rounds").text
    assert "1 adverse event not yet reviewed" in board
    assert "/quality/events?run_id=1&amp;period=all&amp;reviewed=no" in board
    perfusionist = _staff_id(web, "perfusionist")
    m = _post(web, f"{A}/meetings", {"held_on": "2026-11-02", "title": "Loop M&M"}).json()
    _post(web, f"{A}/meetings/{m['id']}/attendance",
          {"staff_id": perfusionist, "discipline": "perfusion", "present": True})  # fmt: skip
    rid = _post(
        web, f"{A}/meetings/{m['id']}/reviews", {"run_id": 1, "adverse_event_id": 1}
    ).json()["id"]
    agreed = {"cause_class": "technical", "harm": "moderate", "preventability": "probably"}
    _post(web, f"{A}/reviews/{rid}/consensus", agreed)
    action = _post(web, f"{A}/reviews/{rid}/actions", {"text": "Check ML inlet every shift",
                   "owner_id": perfusionist, "due_on": "2026-11-30",
                   "measure_name": "checks done", "measure_unit": "%"})  # fmt: skip
    assert action.status_code == 201, action.text
    signed = _post(web, f"{A}/reviews/{rid}/sign", {})
    assert signed.status_code == 200, signed.text

    e = web.client.get(f"{EV}/1").json()
    assert (e["harm"], e["preventability"], e["cause_class"]) == (
        "moderate", "probably", "technical",
    )  # fmt: skip
    consensus = [h for h in e["history"] if h["kind"] == "consensus"]
    assert {h["field"] for h in consensus} == {"harm", "preventability", "cause_class"}
    assert {h["review_id"] for h in consensus} == {rid}
    assert {h["set_by"] for h in consensus} == {"set by M&M review of 2026-11-02"}
    assert {h["review_href"] for h in consensus} == {f"/quality/reviews/cases/{rid}"}
    assert e["review_ids"] == [rid] and e["packet_href"] == "/quality/runs/1/packet?event=1"
    # Event page → its reviews and its packet; packet → event and review; review → event.
    page = web.client.get("/quality/events/1").text
    assert "set by M&amp;M review of 2026-11-02" in page
    assert f'href="/quality/reviews/cases/{rid}"' in page
    assert 'href="/quality/runs/1/packet?event=1"' in page
    assert "Technical" in page.split('id="in-force"')[1].split("</dl>")[0]
    packet = web.client.get("/quality/runs/1/packet", params={"event": 1}).text
    assert 'href="/quality/events/1"' in packet
    assert f'href="/quality/reviews/cases/{rid}"' in packet
    assert f"M&amp;M review #{rid} of adverse event #1" in packet
    review = web.client.get(f"/quality/reviews/cases/{rid}").text
    assert 'href="/quality/events/1"' in review and "set by M&amp;M review of 2026-11-02" in review

    # A correction cannot undo or set what the review agreed.
    version = e["version"]
    for body in ({"harm": "mild"}, {"cause_class": "disease"}):
        r = _post(web, f"{EV}/1/amendments", body | {"reason": "disagree", "version": version})
        assert r.status_code == 422 and _fields(r) == list(body), r.text
    assert web.client.get(f"{EV}/1").json()["version"] == version

    # Open review actions: run page, board, the coordinator's list, the next meeting.
    run_page = web.client.get("/runs/1").text
    assert "1 open M&amp;M action" in run_page and 'href="/quality/actions?run_id=1"' in run_page
    assert "not yet reviewed" not in run_page  # the event was reviewed
    assert "1 open M&amp;M action" in web.client.get("/rounds").text
    aid = action.json()["id"]
    assert f'id="action-{aid}"' in web.client.get("/quality/actions", params={"run_id": 1}).text
    assert web.client.get("/quality/actions", params={"run_id": 2}).text.count('id="action-') == 0
    nxt = _post(web, f"{A}/meetings", {"held_on": "2026-12-07", "title": "Next M&M"}).json()
    agenda = web.client.get(f"{A}/meetings/{nxt['id']}").json()
    assert [a["id"] for a in agenda["open_actions"]] == [aid]
    assert (
        "Check ML inlet every shift"
        in web.client.get(f"/quality/reviews/meetings/{nxt['id']}").text
    )
    done = _post(web, f"{A}/actions/{aid}/status", {"status": "done", "note": "in the checklist"})
    assert done.status_code == 200, done.text
    assert web.client.get(f"{A}/meetings/{nxt['id']}").json()["open_actions"] == []
    assert f'id="action-{aid}"' not in web.client.get("/quality/actions").text
    assert "open M&amp;M action" not in web.client.get("/runs/1").text


def test_possible_events_api_lists_and_dismisses_with_a_reason(web: Web) -> None:
    web.login("nurse")
    assert web.client.get(f"{A}/possible-events").status_code == 403
    web.login("coordinator")
    listed = web.client.get(f"{A}/possible-events", params={"days": 30})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["days"] == 30
    keys = {(p["source_type"], p["source_id"]) for p in body["possible"]}
    for p in body["possible"]:
        assert p["record_href"].startswith(f"/runs/{p['run_id']}/adverse-events/new?source=")
    bad: list[tuple[Any, str]] = [
        ({"source_type": "alert", "source_id": 1, "reason": "x"}, "reason"),
        ({"source_type": "tea", "source_id": 1, "reason": "not an event"}, "source_type"),
        ({"source_type": "alert", "source_id": 999, "reason": "not an event"}, "source_id"),
        ({"source_type": "alert", "source_id": "one", "reason": "not an event"}, "source_id"),
        ({"source_type": "alert", "source_id": 1}, "reason"),
        ({"source_type": "alert", "source_id": 1, "reason": "ok ok", "extra": 1}, "extra"),
    ]
    for payload, field in bad:
        r = _post(web, f"{A}/possible-events/dismissals", payload)
        assert r.status_code == 422, (payload, r.text)
        assert field in _fields(r), (payload, r.text)
    garbage = web.client.post(
        f"{A}/possible-events/dismissals",
        content=b"{source_type: alert",
        headers=_h(web) | {"Content-Type": "application/json"},
    )
    assert 400 <= garbage.status_code < 500
    assert web.client.get(f"{A}/possible-events", params={"days": 30}).json() == body
    why = {"source_type": "alert", "source_id": 1, "reason": "artefact: sample haemolysed"}
    ok = _post(web, f"{A}/possible-events/dismissals", why)
    assert ok.status_code == 201, ok.text
    assert ok.json()["reason"] == "artefact: sample haemolysed" and ok.json()["run_id"] == 1
    after = {
        (p["source_type"], p["source_id"])
        for p in web.client.get(f"{A}/possible-events", params={"days": 30}).json()["possible"]
    }
    assert after == keys - {("alert", 1)}
    again = _post(web, f"{A}/possible-events/dismissals",
                  {"source_type": "alert", "source_id": 1, "reason": "artefact again"})  # fmt: skip
    assert again.status_code == 422 and "already set aside" in again.text


EVENT = {
    "code": "mech_pump_clot", "event_class": "incident", "harm": "mild",
    "occurred_at": (RUN_START + timedelta(hours=3)).isoformat(), "detected_by": "bedside",
    "description": "Clot on the pump head",
}  # fmt: skip


def test_bad_events_and_reviews_are_refused_naming_the_field(web: Web) -> None:
    web.login("perfusionist")
    before = web.client.get(EV).json()

    def refused(
        body: Any, field: str, words: str = "", url: str = "/api/v1/runs/1/adverse-events"
    ) -> None:
        r = _post(web, url, body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert field in _fields(r), (body, r.text)
        assert words in r.text, (words, r.text)

    early = (RUN_START - timedelta(hours=1)).isoformat()
    refused(EVENT | {"occurred_at": early}, "occurred_at", "before the run started")
    refused(EVENT | {"category": "haemorrhagic"}, "code", "is a mechanical code, not haemorrhagic")
    refused(EVENT | {"category": "plumbing"}, "category", "plumbing")
    refused(EVENT | {"code": "mech_teapot"}, "code", "mech_teapot")
    refused(EVENT | {"harm": 5}, "harm")
    refused(EVENT | {"occurred_at": "yesterday"}, "occurred_at")
    refused(EVENT | {"component_id": "abc"}, "component_id")
    refused(EVENT | {"time_estimated": "perhaps"}, "time_estimated")
    refused({k: v for k, v in EVENT.items() if k != "detected_by"}, "detected_by")
    refused(EVENT | {"component_id": 999}, "component_id", "no component 999")
    refused([EVENT], "")  # a list, not an object
    garbage = web.client.post(
        "/api/v1/runs/1/adverse-events",
        content=b'{"code": "mech_pump_clot",',
        headers=_h(web) | {"Content-Type": "application/json"},
    )
    assert 400 <= garbage.status_code < 500
    # Amendments: the same checks, and the version must be a number.
    version = web.client.get(f"{EV}/1").json()["version"]
    amend = f"{EV}/1/amendments"
    refused({"occurred_at": early, "reason": "time", "version": version}, "occurred_at",
            "before the run started", amend)  # fmt: skip
    refused({"harm": "awful", "reason": "worse", "version": version}, "harm", url=amend)
    refused({"harm": "severe", "reason": "worse", "version": "latest"}, "version", url=amend)
    refused({"reason": "nothing", "version": version}, "fields", url=amend)
    # A run that has ended: an event after its end is refused.
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        run_service.end_run(
            db, Actor(staff_id=None, name="t", role="physician"), db.get_one(Run, 1),
            RunEnd(ended_at=RUN_START + timedelta(hours=30), outcome="weaned_recovered",
                   stop_reason="recovered"),
        )  # fmt: skip
    engine.dispose()
    late = (RUN_START + timedelta(hours=31)).isoformat()
    refused(EVENT | {"occurred_at": late}, "occurred_at", "after the run ended")
    assert web.client.get(EV).json() == before  # nothing changed

    # Reviews: no attendance, an event of another run, wrong types.
    web.login("qa_lead")
    m = _post(web, f"{A}/meetings", {"held_on": "2026-11-02", "title": "Bad input"}).json()
    refused({"run_id": 999, "adverse_event_id": 1}, "run_id", url=f"{A}/meetings/{m['id']}/reviews")
    refused({"run_id": "one"}, "run_id", url=f"{A}/meetings/{m['id']}/reviews")
    rid = _post(
        web, f"{A}/meetings/{m['id']}/reviews", {"run_id": 1, "adverse_event_id": 1}
    ).json()["id"]
    refused({"harm": "catastrophic"}, "harm", url=f"{A}/reviews/{rid}/consensus")
    refused({"cause_class": 3}, "cause_class", url=f"{A}/reviews/{rid}/consensus")
    _post(web, f"{A}/reviews/{rid}/consensus", {"cause_class": "technical", "harm": "severe"})
    refused({}, "attendance", "attended", url=f"{A}/reviews/{rid}/sign")
    refused({"staff_id": 1, "discipline": "astrology"}, "discipline",
            url=f"{A}/meetings/{m['id']}/attendance")  # fmt: skip
    assert web.client.get(f"{A}/reviews/{rid}").json()["status"] == "draft"
    event = web.client.get(f"{EV}/1").json()
    assert event["harm"] == "mild" and event["cause_class"] is None  # nothing written

"""The M&M case packet: a real PDF (rendered to an image that is not blank, its text holds
the SBAR headings), the de-identified teaching variant (no MRN, no patient or staff name, no
free text, relative times), who may read which, and every identified read audited."""

from __future__ import annotations

from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from continuum.alerts.models import CircuitAlert
from continuum.core.clinical_event import record_event
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.quality.adverse_event_record import AdverseEvent
from tests.conftest import Web
from tests.seed import RUN_START, SECRET_MRNS, SECRET_NAMES

HEADINGS = ("Situation", "Background", "Assessment", "Recommendation")
STAFF_NAMES = ("Test perfusionist", "Test nurse", "Test qa_lead")


def _story(url: str) -> int:
    """Run 1 gets an acknowledged alert, an adverse event with typed text naming people,
    and a timeline entry by a named perfusionist."""
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        alert = db.scalars(select(CircuitAlert).where(CircuitAlert.run_id == 1)).first()
        assert alert is not None
        alert.acknowledged_by = 3
        alert.acknowledged_at = alert.raised_at + timedelta(minutes=7)
        run = db.get_one(Run, 1)
        run.indication = "Referred by Dr Quixote's team"
        ev = AdverseEvent(
            run_id=1,
            patient_id=1,
            code="metab_haemolysis_moderate",
            category="metabolic",
            event_class="incident",
            harm="mild",
            occurred_at=RUN_START + timedelta(hours=1, minutes=6),
            detected_by="alert",
            description="Zelda Quixote: plasma Hb 60 mg/dL",
            recorded_by=1,
        )
        db.add(ev)
        perf = Actor(
            staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion"
        )
        record_event(
            db,
            perf,
            "circuit_check.signed",
            RUN_START + timedelta(hours=2),
            "Circuit check: fibrin at the connector, told Test nurse",
            ("circuit_check", 99),
            run,
        )
        db.flush()
        event_id = ev.id
    engine.dispose()
    return event_id


def _pdf_text_and_image(content: bytes) -> tuple[str, list[float]]:
    pdf = pdfium.PdfDocument(content)
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    image = pdf[1].render(scale=1).to_pil().convert("L")  # page 2: the charts
    histogram = image.histogram()
    dark = sum(histogram[:200]) / max(sum(histogram), 1)
    first = pdf[0].render(scale=1).to_pil().convert("L")
    first_dark = sum(first.histogram()[:200]) / max(sum(first.histogram()), 1)
    return text, [first_dark, dark]


def test_the_identified_pdf_renders_with_sbar_and_charts(web: Web) -> None:
    event_id = _story(web.url)
    web.login("qa_lead")
    r = web.client.get("/quality/runs/1/packet.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    text, dark = _pdf_text_and_image(r.content)
    assert all(h in text for h in HEADINGS)
    assert SECRET_MRNS[0] in text and "Test nurse" in text  # identified: who acknowledged
    assert "7 min after raising" in text
    assert all(share > 0.003 for share in dark), dark  # not blank: text, lines, chart traces
    assert "ECMO blood flow" in text  # the chart panels (from the same series as the page)
    # Centred on the event
    r = web.client.get(f"/quality/runs/1/packet.pdf?event={event_id}")
    text, _ = _pdf_text_and_image(r.content)
    assert f"Centred on adverse event #{event_id}" in text


def test_the_deidentified_pdf_and_page_name_no_one(web: Web) -> None:
    _story(web.url)
    web.login("qa_lead")
    r = web.client.get("/quality/runs/1/packet.pdf", params={"deidentified": "1"})
    assert r.status_code == 200
    text, dark = _pdf_text_and_image(r.content)
    assert all(h in text for h in HEADINGS)
    assert dark[1] > 0.003
    for secret in (*SECRET_MRNS, *SECRET_NAMES, *STAFF_NAMES, "Quixote", "fibrin"):
        assert secret not in text, secret
    assert "P-0001" in text and "day 0 01:" in text
    page = web.client.get("/quality/runs/1/packet", params={"deidentified": "1"}).text
    page = page.split("<main>", 1)[1].split("</main>", 1)[0]  # the header names the reader
    for secret in (*SECRET_MRNS, *SECRET_NAMES, *STAFF_NAMES, "Quixote", "fibrin"):
        assert secret not in page, secret
    assert "Situation" in page and "day 0" in page
    for clock in (RUN_START.strftime("%Y-%m-%d"), RUN_START.strftime("%d %b")):
        assert clock not in page and clock not in text, clock  # no calendar dates


@pytest.mark.parametrize(
    ("role", "identified", "deidentified"),
    [
        ("qa_lead", 200, 200),
        ("coordinator", 200, 200),
        ("physician_lead", 200, 200),
        ("nurse", 200, 403),
        ("perfusionist", 200, 403),
        ("researcher", 403, 403),
        ("admin", 403, 403),
    ],
)
def test_who_may_read_which_packet(web: Web, role: str, identified: int, deidentified: int) -> None:
    web.login(role)
    assert web.client.get("/quality/runs/1/packet").status_code == identified
    assert web.client.get("/quality/runs/1/packet.pdf").status_code == identified
    r = web.client.get("/quality/runs/1/packet.pdf", params={"deidentified": "1"})
    assert r.status_code == deidentified


def test_every_identified_read_is_audited(web: Web) -> None:
    web.login("nurse")
    web.client.get("/quality/runs/1/packet")
    web.client.get("/quality/runs/1/packet.pdf")
    engine = make_engine(web.url)
    with make_sessionmaker(engine)() as db:
        reads = db.scalars(select(AuditEntry).where(AuditEntry.action == "read_case_packet")).all()
        idents = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "read_identifiers", AuditEntry.patient_id == 1
            )
        ).all()
    engine.dispose()
    assert len(reads) == 2 and all(r.patient_id == 1 for r in reads)
    assert all(r.detail == {"deidentified": False, "event_id": None} for r in reads)
    assert len([i for i in idents if (i.detail or {}).get("purpose") == "case packet"]) == 2


def test_the_run_page_links_to_the_packet_for_case_reviewers(web: Web) -> None:
    web.login("qa_lead")
    assert 'href="/quality/runs/1/packet"' in web.client.get("/runs/1").text


def test_review_findings_appear_with_factors_and_without_free_text_when_deidentified(
    web: Web,
) -> None:
    web.login("qa_lead")
    headers = {"X-CSRF-Token": web.csrf()}
    m = web.client.post(
        "/api/v1/quality/meetings", json={"held_on": "2026-11-02", "title": "M&M"}, headers=headers
    ).json()
    r = web.client.post(
        f"/api/v1/quality/meetings/{m['id']}/reviews", json={"run_id": 1}, headers=headers
    ).json()
    web.client.post(
        f"/api/v1/quality/reviews/{r['id']}/problems",
        json={
            "description": "Test nurse missed the alarm",
            "factors": ["ecmo_alarm_configuration"],
        },
        headers=headers,
    )
    text, _ = _pdf_text_and_image(web.client.get("/quality/runs/1/packet.pdf").content)
    assert "Test nurse missed the alarm" in text and "ECMO: alarm configuration" in text
    deid = web.client.get("/quality/runs/1/packet.pdf", params={"deidentified": "1"}).content
    text, _ = _pdf_text_and_image(deid)
    assert "ECMO: alarm configuration" in text and "missed the alarm" not in text

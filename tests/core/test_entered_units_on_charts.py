"""A line signal entered in another unit (a console sending kPa, a hand entry in mL/min)
reads as entered on the run page's chart too (issue #16): the period under the pointer and
the panel's latest value say "-8 kPa (-60 mmHg)", not only the stored mmHg."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from continuum.core.trend_chart import Trace, build
from tests.conftest import Web


def test_a_line_panel_reads_an_entered_value_under_the_pointer_and_as_latest() -> None:
    end = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    t0 = (end - timedelta(hours=2)).timestamp()
    points = [(t0 + 60 * i, -55.0) for i in range(60)] + [(end.timestamp(), -60.0)]
    trace = Trace("p_access", "Drainage (pre-pump) pressure", "mmHg", points,
                  entered={end.timestamp(): "-8 kPa"})  # fmt: skip
    chart = build([trace], end - timedelta(hours=24), end, ZoneInfo("UTC"))
    panel = chart.panels[0]
    assert panel.latest == "-8 kPa (-60 mmHg) at 12:00"
    last = panel.hovers[-1].title
    assert last == "04 Dec 11:00–12:00: -60 mmHg; entered as -8 kPa (-60 mmHg) at 12:00", last
    assert all("entered" not in h.title for h in panel.hovers[:-1])  # only where it was


def test_the_run_page_chart_reads_an_entered_drainage_pressure(web_any: Web) -> None:
    web = web_any  # SQLite and PostgreSQL (their times are read by different statements)
    web.login("nurse")
    posted = web.post_form(
        "/runs/1/observations", {"code": "p_access", "value": "-8", "unit": "kPa"}
    )
    assert posted.status_code == 303
    assert web.post_form("/runs/1/observations", {"code": "hr", "value": "80"}).status_code == 303
    page = web.client.get("/runs/1").text
    panel = re.search(r'<div class="tchart-panel" data-signal="p_access">.*?</svg>', page, re.S)
    assert panel is not None, "no drainage pressure panel"
    text = panel.group(0)
    assert "latest -8 kPa (-60 mmHg) at" in text
    hovers = re.findall(r'<rect class="tc-hover"[^>]*><title>([^<]*)</title>', text)
    assert any("entered as -8 kPa (-60 mmHg) at" in h for h in hovers), hovers


def test_the_case_packet_chart_reads_an_entered_value_as_entered(web: Web) -> None:
    web.login("nurse")
    posted = web.post_form(
        "/runs/1/observations", {"code": "p_access", "value": "-8", "unit": "kPa"}
    )
    assert posted.status_code == 303
    assert web.post_form("/runs/1/observations", {"code": "hr", "value": "80"}).status_code == 303
    page = web.client.get("/quality/runs/1/packet").text
    panel = re.search(r'<div class="tchart-panel" data-signal="p_access">.*?</svg>', page, re.S)
    assert panel is not None, "no drainage pressure panel in the packet"
    assert "entered as -8 kPa (-60 mmHg) at" in panel.group(0)

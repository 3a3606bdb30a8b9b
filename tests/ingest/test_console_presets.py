"""Console-export presets: other consoles' column names, units, time formats and zones,
decimal commas and delimiters are read into the same observations as the project's own
layout; presets are checked, stored by the site (audited, versioned, administrators only),
chosen by name on the CLI and previewed on the page before anything is stored."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.conftest import Web
from tests.ingest.helpers import count, values
from tests.seed import RUN_START

from continuum.core.concurrency import StaleRecord
from continuum.core.record import AuditEntry as AuditLog
from continuum.core.roles import CLI_ACTOR, Actor
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from continuum.ingest.console_csv import read_console_text
from continuum.ingest.console_preset_service import (
    get_preset,
    list_presets,
    read_with_preset,
    remove_preset,
    save_preset,
)
from continuum.ingest.console_presets import SHIPPED, _pattern_parser, check_preset
from continuum.ingest.csv_service import import_csv

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 14:00 in Berlin (UTC+1 in December)
ROWS = [  # p_access, p_preoxy, p_postoxy, blood_flow, pump_speed, sweep_flow, FiO2 fraction
    (-55.5, 250.0, 231.0, 4.21, 3400.0, 3.5, 0.8),
    (-56.0, 252.0, 232.5, 4.3, 3410.0, 3.5, 0.8),
    (-57.25, 251.0, 230.0, 4.35, 3420.0, 4.0, 0.75),
]


def own_layout() -> str:
    lines = ["time,p_access,p_preoxy,p_postoxy,blood_flow,pump_speed,sweep_flow,sweep_fio2"]
    for i, r in enumerate(ROWS):
        t = (START + timedelta(minutes=i)).isoformat()
        lines.append(t + "," + ",".join(f"{v:g}" for v in r))
    return "\n".join(lines) + "\n"


def cardiohelp_export(start: datetime = START) -> str:
    """Semicolon-separated, decimal comma, local Berlin times, FiO2 in %, a comment column."""
    lines = ["Time;Pven;Pint;Part;Flow;Speed;Sweep;FiO2;Comment"]
    for i, r in enumerate(ROWS):
        local = (start + timedelta(minutes=i)).astimezone(BERLIN)
        cells = [f"{v:g}".replace(".", ",") for v in r[:6]] + [f"{r[6] * 100:g}"]
        lines.append(local.strftime("%d.%m.%Y %H:%M:%S") + ";" + ";".join(cells) + ";ok")
    return "\n".join(lines) + "\n"


def p123_export(start: datetime = START) -> str:
    lines = ["Time,P3 [kPa],P1,P2,Flow,RPM,Sweep,FiO2"]
    for i, r in enumerate(ROWS):
        t = (start + timedelta(minutes=i)).astimezone(BERLIN).isoformat()
        kpa = r[0] / 7.50062
        lines.append(f"{t},{kpa:.6f},{r[1]:g},{r[2]:g},{r[3]:g},{r[4]:g},{r[5]:g},{r[6] * 100:g}")
    return "\n".join(lines) + "\n"


def series_of(text: str, preset_name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    read = read_with_preset(io.StringIO(text, newline=""), SHIPPED[preset_name], BERLIN)
    return {**read.console.series, **read.console.derived}


def test_other_layouts_read_into_the_same_observations_as_the_own_layout() -> None:
    own = {**read_console_text(own_layout()).series, **read_console_text(own_layout()).derived}
    for text, name in ((cardiohelp_export(), "cardiohelp"), (p123_export(), "p1-p2-p3")):
        got = series_of(text, name)
        assert set(got) == set(own), name
        for code, (times, vals) in own.items():
            assert np.array_equal(got[code][0], times), (name, code)
            assert np.allclose(got[code][1], vals, atol=1e-6), (name, code)


def test_preview_names_each_column_its_code_unit_first_values_and_what_is_not_read() -> None:
    read = read_with_preset(io.StringIO(cardiohelp_export(), newline=""), SHIPPED["cardiohelp"],
                            BERLIN)  # fmt: skip
    p = read.preview
    by_header = {c.header: c for c in p.columns}
    assert by_header["Pven"].code == "p_access" and by_header["Pven"].first[0][1] == -55.5
    fio2 = by_header["FiO2"]
    assert (fio2.code, fio2.unit_read, fio2.unit_stored) == ("sweep_fio2", "%", "1")
    assert [v for _, v in fio2.first] == [0.8, 0.8, 0.75]
    assert by_header["Flow"].first[0] == (START, 4.21)
    assert p.unreadable == [("Comment", "not a column of this preset nor a vocabulary code")]
    assert p.first_time == ("03.12.2026 14:00:00", START)
    assert p.observations == 7 * 3 + 3  # + derived ΔP


def test_a_local_time_in_a_clock_change_is_refused_by_row() -> None:
    text = "Time;Flow\n25.10.2026 01:59:00;4,1\n25.10.2026 02:30:00;4,2\n25.10.2026 03:10:00;4,3\n"
    read = read_with_preset(io.StringIO(text, newline=""), SHIPPED["cardiohelp"], BERLIN)
    bad = read.console.report.bad_timestamps
    assert [(b.row, b.value) for b in bad] == [(3, "25.10.2026 02:30:00")]
    assert "clock change" in bad[0].message
    assert read.console.report.accepted["blood_flow"] == 2


def test_a_file_that_does_not_fit_the_preset_is_named() -> None:
    with pytest.raises(ValidationFailed, match="separated by ',', the preset expects ';'"):
        read_with_preset(io.StringIO(own_layout(), newline=""), SHIPPED["cardiohelp"], BERLIN)
    zeit = own_layout().replace("time,", "Zeit,")
    with pytest.raises(ValidationFailed, match=r"no time column 'Time' in the file .*'Zeit'"):
        read_with_preset(io.StringIO(zeit, newline=""), SHIPPED["p1-p2-p3"], BERLIN)
    wrong_format = cardiohelp_export().replace("03.12.2026", "2026-12-03")
    read = read_with_preset(io.StringIO(wrong_format, newline=""), SHIPPED["cardiohelp"], BERLIN)
    assert read.console.report.observations == 0
    assert "not a time in the preset's format '%d.%m.%Y %H:%M:%S'" in (
        read.console.report.bad_timestamps[0].message
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"columns": "Fluss = flow"}, "columns", "'flow' is not a vocabulary code"),
        ({"columns": "Pven = p_access [bar]"}, "columns", "unit 'bar' cannot be converted"),
        ({"columns": "A = hr\na = spo2"}, "columns", "header 'a' is given twice"),
        ({"columns": "Pven p_access"}, "columns", "line 1: write 'Header = code [unit]'"),
        ({"delimiter": ",", "decimal_comma": "on"}, "decimal_comma", "other than the comma"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone 'Mars/Olympus'"),
        ({"time_format": "%H:%M"}, "time_format", "must hold the date"),
        ({"time_format": "%d.%m.%Y %H:%M", "time_zone": ""}, "time_zone", "needs a time zone"),
        ({"name": "Bad Name!"}, "name", "lower-case letters"),
    ],
)
def test_a_bad_preset_is_refused_naming_the_field(change, field, message) -> None:  # type: ignore[no-untyped-def]
    data = {**SHIPPED["cardiohelp"].to_dict(), "name": "site-x", **change}
    with pytest.raises(ValidationFailed) as caught:
        check_preset(data)
    assert any(p.field == field and message in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_shipped_presets_are_valid_and_the_own_layout_takes_the_fast_path() -> None:
    for preset in SHIPPED.values():
        assert check_preset(preset.to_dict()).columns == preset.columns
    assert SHIPPED["continuum"].layout() is None
    assert SHIPPED["cardiohelp"].layout(BERLIN) is not None


def admin() -> Actor:
    return Actor(staff_id=None, name="it", role="admin")


def test_site_presets_are_saved_versioned_audited_and_removed(sessions) -> None:  # type: ignore[no-untyped-def]
    mine = {**SHIPPED["cardiohelp"].to_dict(), "columns": "Pven = p_access [kPa]\nQ = blood_flow"}
    with unit_of_work(sessions) as db:
        saved = save_preset(db, admin(), mine, version=0)  # replaces the shipped preset
    assert saved.version == 1 and saved.origin == "site"
    with sessions() as db:
        ours = get_preset(db, "cardiohelp").columns_text()
        assert ours == "Pven = p_access [kPa]\nQ = blood_flow"
        assert list_presets(db)[0].name == "continuum"
    with unit_of_work(sessions) as db, pytest.raises(Conflict, match="already exists"):
        save_preset(db, admin(), mine, version=0)  # a second "new" one is not a silent overwrite
    with unit_of_work(sessions) as db:
        save_preset(db, admin(), {**mine, "title": "ours"}, version=1)
    with unit_of_work(sessions) as db, pytest.raises(StaleRecord):
        save_preset(db, admin(), {**mine, "title": "stale"}, version=1)
    with unit_of_work(sessions) as db:
        remove_preset(db, admin(), "cardiohelp", version=2)
    with sessions() as db:
        assert get_preset(db, "cardiohelp") == SHIPPED["cardiohelp"]  # shipped again
        actions = [
            (a.action, a.detail["name"])
            for a in db.scalars(select(AuditLog).where(AuditLog.entity == "ingest_console_preset"))
        ]
    assert actions == [("save", "cardiohelp"), ("save", "cardiohelp"), ("remove", "cardiohelp")]
    perfusionist = Actor(staff_id=None, name="p", role="perfusionist")
    with unit_of_work(sessions) as db, pytest.raises(Forbidden):
        save_preset(db, perfusionist, mine, version=0)
    with unit_of_work(sessions) as db, pytest.raises(NotFound):
        remove_preset(db, admin(), "continuum")
    with sessions() as db, pytest.raises(ValidationFailed, match="no preset 'nope'"):
        get_preset(db, "nope")


def test_import_with_a_preset_stores_converted_values_and_names_the_preset(sessions) -> None:  # type: ignore[no-untyped-def]
    start = RUN_START + timedelta(hours=2)
    with unit_of_work(sessions) as db:
        result = import_csv(db, CLI_ACTOR, 1, io.StringIO(p123_export(start), newline=""),
                            "p123.csv", preset=SHIPPED["p1-p2-p3"], zone=BERLIN)  # fmt: skip
    assert result.stored == 21 and result.derived == 3
    got = values(sessions, 1)
    assert got["p_access"] == pytest.approx([-55.5, -56.0, -57.25])
    assert got["sweep_fio2"] == pytest.approx([0.8, 0.8, 0.75])
    with sessions() as db:
        audit = db.scalar(select(AuditLog).where(AuditLog.action == "ingest_csv"))
        assert audit is not None and audit.detail["preset"] == "p1-p2-p3"


def test_cli_preset_and_preview(db_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from continuum.cli import app
    from continuum.config import get_settings
    from continuum.db import make_engine, make_sessionmaker

    monkeypatch.setenv("CONTINUUM_DATABASE_URL", db_url)
    monkeypatch.setenv("CONTINUUM_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    sessions = make_sessionmaker(make_engine(db_url))
    path = tmp_path / "cardiohelp.csv"
    path.write_text(cardiohelp_export(RUN_START + timedelta(hours=3)), encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(app, ["ingest", "csv", str(path), "--run", "1", "--preset",
                                "cardiohelp", "--preview"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "Pven → p_access (mmHg): -55.5, -56, -57.25" in shown.output
    assert "FiO2 → sweep_fio2 (% → 1): 0.8, 0.8, 0.75" in shown.output
    assert "not read: Comment" in shown.output
    assert count(sessions, "csv:%") == 0  # the preview stored nothing
    unknown = runner.invoke(app, ["ingest", "csv", str(path), "--run", "1", "--preset", "nope"])
    assert isinstance(unknown.exception, ValidationFailed)  # `continuum` exits 2 with it
    assert "no preset 'nope'" in unknown.exception.message
    assert count(sessions, "csv:%") == 0
    done = runner.invoke(app, ["ingest", "csv", str(path), "--run", "1", "--preset",
                               "cardiohelp"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "(cardiohelp) → run 1: 3 rows, 24 observations stored" in done.output
    listed = runner.invoke(app, ["ingest", "presets"])
    assert "cardiohelp (shipped)" in listed.output and "Pint = p_preoxy [mmHg]" in listed.output
    get_settings.cache_clear()


def _token(html: str) -> str:
    found = re.search(r'name="upload" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def test_page_preview_stores_nothing_until_confirmed(web: Web) -> None:
    web.login("perfusionist")
    text = "Time,P3 [kPa],P1,P2,Flow,RPM,Sweep,FiO2,Alarm\n" + "\n".join(
        line + ",HI" for line in p123_export(RUN_START + timedelta(hours=4)).splitlines()[1:]
    )
    page = web.post_form("/runs/1/ingest/preview", {"csv_text": text, "preset": "p1-p2-p3"},
                         page="/runs/1/ingest")  # fmt: skip
    assert page.status_code == 200, page.text[:800]
    assert "Nothing is stored yet" in page.text and "p_preoxy" in page.text
    assert "Alarm</b>: not a column of this preset" in page.text
    assert "kPa → mmHg" in page.text
    assert count(web_sessions(web), "csv:%") == 0
    token = _token(page.text)
    web.login("physician")
    other = web.post_form("/runs/1/ingest", {"upload": token, "preset": "p1-p2-p3"},
                          page="/runs/1/ingest")  # fmt: skip
    assert other.status_code == 422 and "no longer held" in other.text  # another person's
    web.login("perfusionist")
    done = web.post_form("/runs/1/ingest", {"upload": token, "preset": "p1-p2-p3"},
                         page="/runs/1/ingest")  # fmt: skip
    assert done.status_code == 200 and "Imported" in done.text
    assert count(web_sessions(web), "csv:%") == 24
    again = web.post_form("/runs/1/ingest", {"upload": token, "preset": "p1-p2-p3"},
                          page="/runs/1/ingest")  # fmt: skip
    assert again.status_code == 422 and "no longer held" in again.text
    assert count(web_sessions(web), "csv:%") == 24


def test_page_preview_of_a_bad_file_or_preset_says_why(web: Web) -> None:
    web.login("perfusionist")
    r = web.post_form("/runs/1/ingest/preview", {"csv_text": own_layout(), "preset": "cardiohelp"},
                      page="/runs/1/ingest")  # fmt: skip
    assert r.status_code == 422 and "the preset expects &#39;;&#39;" in r.text
    r = web.post_form("/runs/1/ingest/preview", {"csv_text": own_layout(), "preset": "nope"},
                      page="/runs/1/ingest")  # fmt: skip
    assert r.status_code == 422 and "no preset" in r.text
    early = p123_export(RUN_START - timedelta(days=1))
    r = web.post_form("/runs/1/ingest/preview", {"csv_text": early, "preset": "p1-p2-p3"},
                      page="/runs/1/ingest")  # fmt: skip
    assert r.status_code == 200 and 'id="early"' in r.text and "before the run started" in r.text
    assert 'id="confirm"' not in r.text
    assert count(web_sessions(web), "csv:%") == 0


def test_presets_page_saves_checked_presets_only(web: Web) -> None:
    web.login("admin")
    assert "cardiohelp" in web.client.get("/integration/presets").text
    bad = {"name": "icu", "time_column": "Zeit", "delimiter": ";",
           "columns": "Fluss = blood_flow [bar]", "version": 0}  # fmt: skip
    r = web.post_form("/integration/presets", bad, page="/integration/presets")
    assert r.status_code == 422 and "unit &#39;bar&#39; cannot be converted" in r.text
    good = {**bad, "columns": "Fluss = blood_flow [L/min]\nDruck = p_access [kPa]",
            "decimal_comma": "on"}  # fmt: skip
    r = web.post_form("/integration/presets", good, page="/integration/presets")
    assert r.status_code == 303
    listed = web.client.get("/integration/presets?edit=icu").text
    assert "Druck = p_access [kPa]" in listed and 'name="version" value="1"' in listed
    web.login("perfusionist")
    names = [p["name"] for p in web.client.get("/api/v1/ingest/presets").json()]
    assert names == ["continuum", "cardiohelp", "icu", "p1-p2-p3"]


def web_sessions(web: Web):  # type: ignore[no-untyped-def]
    from continuum.db import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(web.url))


FORMATS = ["%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S.%f", "%Y%m%d%H%M%S",
           "%d/%m/%Y %H:%M"]  # fmt: skip


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
    fmt=st.sampled_from(FORMATS),
    noise=st.sampled_from(["", "x", " 1", "32", "-"]),
)
def test_the_fast_pattern_reader_reads_what_strptime_reads(when, fmt, noise) -> None:  # type: ignore[no-untyped-def]
    text = when.strftime(fmt)
    for cell in (text, text + noise, noise + text, text.replace("1", noise or "1", 1)):
        try:
            expected: object = datetime.strptime(cell, fmt)
        except ValueError:
            expected = ValueError
        try:
            got: object = _pattern_parser(fmt)(cell)
        except ValueError:
            got = ValueError
        assert got == expected, (fmt, cell)

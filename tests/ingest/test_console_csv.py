"""Console CSV reader (docs/contracts.md §2): units, blanks, unknown columns, refused cells with
row/column/reason, time zones, and a fuzz test that no text input crashes it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from continuum.errors import ValidationFailed
from continuum.ingest.console_csv import read_console_csv, read_console_text
from continuum.vocabulary import normalise


def t(s: str) -> np.datetime64:
    return np.datetime64(s, "ms")


def test_reads_a_clean_file_into_per_code_arrays(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    path.write_text(
        "time,blood_flow,pump_speed\n"
        "2026-01-01T00:00:00Z,4.5,3500\n"
        "2026-01-01T00:01:00Z,4.4,3510\n",
        encoding="utf-8",
    )
    f = read_console_csv(path)
    times, values = f.series["blood_flow"]
    assert times.dtype == np.dtype("datetime64[ms]")
    assert list(times) == [t("2026-01-01T00:00"), t("2026-01-01T00:01")]
    assert list(values) == [4.5, 4.4]
    assert f.report.rows_read == 2 and f.report.accepted == {"blood_flow": 2, "pump_speed": 2}
    assert f.report.clean


@pytest.mark.parametrize(
    ("header", "cell", "code", "expected"),
    [
        ("p_access [kPa]", "-10", "p_access", -75.0062),
        ("p_preoxy [mmHg]", "250", "p_preoxy", 250.0),
        ("pfhb [mg/L]", "300", "pfhb", 30.0),
        ("pfhb [g/L]", "0.5", "pfhb", 50.0),
        ("fibrinogen [mg/dL]", "250", "fibrinogen", 2.5),
        ("hb [g/L]", "95", "hb", 9.5),
        ("sweep_fio2", "60", "sweep_fio2", 0.6),
        ("sweep_fio2 [%]", "80", "sweep_fio2", 0.8),
        ("sweep_fio2", "1.0", "sweep_fio2", 1.0),
        ("blood_flow [mL/min]", "4500", "blood_flow", 4.5),
    ],
)
def test_bracketed_units_are_converted_like_the_vocabulary(
    header: str, cell: str, code: str, expected: float
) -> None:
    f = read_console_text(f"time,{header}\n2026-01-01T00:00:00Z,{cell}\n")
    value = f.series[code][1][0]
    assert value == pytest.approx(expected)
    unit = header.partition("[")[2].rstrip("]") or None
    assert value == pytest.approx(normalise(code, cell, unit))


def test_blank_cells_are_no_observation_and_rows_need_not_be_even() -> None:
    f = read_console_text(
        "time,blood_flow,pfhb\n"
        "2026-01-01T00:00:00Z,4.5,\n"
        "2026-01-01T00:07:30Z,,12\n"
        "2026-01-01T03:00:00Z,4.6,\n"
    )
    assert f.report.accepted == {"blood_flow": 2, "pfhb": 1}
    assert list(f.series["pfhb"][0]) == [t("2026-01-01T00:07:30")]
    assert f.report.clean


def test_unknown_columns_are_reported() -> None:
    f = read_console_text("time,blood_flow,console_mode,\n2026-01-01T00:00:00Z,4.5,auto,\n")
    assert f.report.unknown_columns == ["console_mode"]
    assert "console_mode" in f.report.text()
    assert not f.report.clean


def test_bad_cells_are_refused_with_row_column_and_reason_and_good_cells_kept() -> None:
    f = read_console_text(
        "time,blood_flow,p_access [kPa]\n"
        "2026-01-01T00:00:00Z,4.5,-5\n"
        "2026-01-01T00:01:00Z,abc,-5\n"
        "2026-01-01T00:02:00Z,55,-60\n"
    )
    refused = [(c.row, c.column, c.value) for c in f.report.refused]
    assert refused == [
        (3, "blood_flow", "abc"),
        (4, "blood_flow", "55"),
        (4, "p_access [kPa]", "-60"),
    ]
    messages = [c.message for c in f.report.refused]
    assert "not a number" in messages[0]
    assert "outside 0–10 L/min" in messages[1]
    assert "outside -400–150 mmHg" in messages[2]
    assert f.report.accepted == {"blood_flow": 1, "p_access": 2}
    assert f.report.refused_count == 3


def test_a_unit_that_cannot_be_converted_refuses_the_column() -> None:
    f = read_console_text("time,blood_flow,hb [furlongs]\n2026-01-01T00:00:00Z,4.5,9\n")
    assert [p.column for p in f.report.column_problems] == ["hb [furlongs]"]
    assert "cannot be converted" in f.report.column_problems[0].message
    assert "hb" not in f.series and f.report.accepted == {"blood_flow": 1}


def test_a_second_column_for_the_same_code_is_refused() -> None:
    f = read_console_text("time,p_access,p_access [kPa]\n2026-01-01T00:00:00Z,-40,-5\n")
    assert list(f.series["p_access"][1]) == [-40.0]
    assert f.report.column_problems[0].column == "p_access [kPa]"


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00"),
        ("2025-12-31T19:00:00-05:00", "2026-01-01T00:00:00"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00"),
        ("2026-01-01 00:00:00.250+00:00", "2026-01-01T00:00:00.250"),
    ],
)
def test_offsets_are_stored_as_utc(stamp: str, utc: str) -> None:
    f = read_console_text(f"time,blood_flow\n{stamp},4.5\n")
    assert f.series["blood_flow"][0][0] == t(utc)


def test_the_same_offset_on_every_row_takes_the_fast_path_correctly() -> None:
    rows = "".join(f"2026-01-01T0{i}:00:00+05:30,4.{i}\n" for i in range(6))
    f = read_console_text("time,blood_flow\n" + rows)
    assert f.series["blood_flow"][0][0] == t("2025-12-31T18:30")


def test_bad_or_zone_less_times_refuse_the_row() -> None:
    f = read_console_text(
        "time,blood_flow\n2026-01-01T00:00:00,4.5\nyesterday,4.4\n2026-01-01T00:02:00Z,4.3\n"
    )
    assert [(p.row, p.value) for p in f.report.bad_timestamps] == [
        (2, "2026-01-01T00:00:00"),
        (3, "yesterday"),
    ]
    assert "offset" in f.report.bad_timestamps[0].message
    assert list(f.series["blood_flow"][1]) == [4.3]


def test_delta_p_is_derived_where_both_pressures_are_present() -> None:
    f = read_console_text(
        "time,p_preoxy,p_postoxy,oxy_delta_p\n"
        "2026-01-01T00:00:00Z,250,230,\n2026-01-01T00:01:00Z,250,230,18\n"
        "2026-01-01T00:02:00Z,250,,\n"
    )
    times, values = f.derived["oxy_delta_p"]
    assert list(values) == [20.0] and times[0] == t("2026-01-01T00:00")


def test_progress_is_reported_per_column() -> None:
    calls: list[tuple[int, int]] = []
    read_console_text(
        "time,blood_flow,pump_speed\n2026-01-01T00:00:00Z,4,3000\n",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("blood_flow,time\n4.5,2026-01-01T00:00:00Z\n", "'time'"),
    ],
)
def test_unreadable_files_raise_validation_failed(text: str, why: str) -> None:
    with pytest.raises(ValidationFailed, match=why):
        read_console_csv(io.StringIO(text))


def test_a_missing_or_binary_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        read_console_csv(tmp_path / "missing.csv")
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81time")
    with pytest.raises(ValidationFailed):
        read_console_csv(binary)


CELLS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", "4.5", "-5", "nan", "inf", "1e400", "1,5", " 3 ", "2026-01-01T00:00:00Z"]),
)
HEADERS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["time", "blood_flow", "p_access [kPa]", "pfhb [g/L]", "sweep_fio2", "hb [x]", ""]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_any_text_never_crashes(text: str) -> None:
    _read_or_refuse(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(HEADERS, min_size=1, max_size=5),
    st.lists(st.lists(CELLS, max_size=6), max_size=8),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+01:00", "x", ""]),
)
def test_fuzz_csv_shaped_text_never_crashes(headers: list, rows: list, stamp: str) -> None:
    lines = [",".join(["time", *headers])]
    lines += [",".join([stamp, *r]) for r in rows]
    f = _read_or_refuse("\n".join(lines))
    if f is not None:
        for times, values in f.series.values():
            assert len(times) == len(values) and np.isfinite(values).all()


def _read_or_refuse(text: str):  # type: ignore[no-untyped-def]
    try:
        f = read_console_text(text)
    except ValidationFailed:
        return None
    assert f.report.rows_read >= 0
    f.report.to_dict()
    f.report.text()
    return f


def test_cells_beyond_the_header_are_reported() -> None:
    f = read_console_text("time,blood_flow\n2026-01-01T00:00:00Z,4.5,99\n")
    assert f.report.column_problems[0].column == "(no header)"
    assert "row 2" in f.report.column_problems[0].message

"""The server-drawn trend chart's geometry: spikes survive downsampling, results are dots,
ranges are fixed unless values leave them, gaps break lines, markers and tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from continuum.core.trend_chart import (
    DISPLAY_RANGE,
    PANEL_HEIGHT,
    Marker,
    Reference,
    Trace,
    build,
    value_range,
)

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=24)
ZONE = ZoneInfo("Europe/Berlin")


def minutes(values: list[float], start: datetime = START) -> list[tuple[float, float]]:
    """One value a minute from ``start``, as (seconds since 1970, value)."""
    return [(start.timestamp() + 60 * i, v) for i, v in enumerate(values)]


def ys(path: str) -> list[float]:
    return [float(y) for y in re.findall(r"-?[\d.]+ (-?[\d.]+)", path)]


def test_a_one_minute_spike_survives_a_24_hour_chart() -> None:
    values = [4.5] * 1440
    values[700] = 1.0  # one minute of low flow
    chart = build(
        [Trace("blood_flow", "ECMO blood flow", "L/min", minutes(values))], START, END, ZONE
    )
    panel = chart.panels[0]
    low_y = max(ys(panel.line))  # y grows downwards: the lowest value has the largest y
    flat_y = min(ys(panel.line))
    assert low_y > flat_y + 30  # the spike is drawn, not averaged away
    assert len(ys(panel.line)) <= 2 * 240  # at most min and max per column


def test_noise_is_drawn_on_the_fixed_clinical_range() -> None:
    noisy = [4.5 + (0.05 if i % 2 else -0.05) for i in range(600)]
    trace = Trace("blood_flow", "ECMO blood flow", "L/min", minutes(noisy))
    assert value_range(trace) == DISPLAY_RANGE["blood_flow"]
    heights = ys(build([trace], START, END, ZONE).panels[0].line)
    assert max(heights) - min(heights) < 3  # ±0.05 L/min is a flat line, not a sawtooth


def test_range_widens_to_hold_values_and_the_target() -> None:
    trace = Trace("p_access", "Drainage pressure", "mmHg", minutes([-60, -180]), band=(-100, 20))
    low, high = value_range(trace)
    assert low <= -180 and high >= 20


def test_results_are_dots_with_their_value_in_a_title() -> None:
    labs = [(START.timestamp() + 6 * 3600 * i, 0.3 + 0.1 * i) for i in range(4)]
    trace = Trace("anti_xa", "Heparin anti-Xa", "IU/mL", labs, as_points=True, band=(0.3, 0.5))
    panel = build([trace], START, END, ZONE).panels[0]
    assert panel.line == "" and len(panel.dots) == 4
    assert "0.4 IU/mL" in panel.dots[1].title
    assert panel.band is not None and panel.band_text == "target 0.3–0.5 IU/mL"


def test_a_gap_in_the_data_breaks_the_line() -> None:
    points = minutes([4.0] * 60) + minutes([4.0] * 60, START + timedelta(hours=5))
    panel = build([Trace("blood_flow", "Flow", "L/min", points)], START, END, ZONE).panels[0]
    assert panel.line.count("M") == 2


def test_markers_sit_at_their_time_and_are_listed_with_local_times() -> None:
    marks = [
        Marker(START + timedelta(hours=12), "alert", "ΔP rise raised"),
        Marker(START + timedelta(hours=18), "component", "Membrane lung replaced"),
        Marker(START - timedelta(hours=1), "mode", "before the window"),
    ]
    trace = Trace("blood_flow", "Flow", "L/min", minutes([4.0] * 10))
    chart = build([trace], START, END, ZONE, marks)
    assert [(m.kind, m.left) for m in chart.markers] == [("alert", 50.0), ("component", 75.0)]
    assert chart.marker_paths["alert"] == f"M500 0V{PANEL_HEIGHT}"
    assert chart.markers[0].title.startswith("01 Dec 13:00")  # Berlin is UTC+1 in December
    assert [k for k, _, _ in chart.legend] == ["alert", "component"]
    assert chart.events[1] == ("01 Dec 19:00", "component change", "Membrane lung replaced")


def test_reference_lines_start_at_their_time() -> None:
    ref = Reference(5.0, "baseline", since=START + timedelta(hours=6))
    trace = Trace(
        "dp_per_flow", "ΔP per L/min", "mmHg per L/min", minutes([5.0] * 10), references=(ref,)
    )
    line = build([trace], START, END, ZONE).panels[0].references[0]
    assert line.x0 == 250.0 and line.text == "baseline 5"


def test_table_gives_each_period_the_range_of_lines_and_every_result() -> None:
    flow = Trace("blood_flow", "ECMO blood flow", "L/min", minutes([4.0, 4.8, 4.2]))
    gas = Trace(
        "post_oxy_po2", "Post-oxygenator pO2", "mmHg", [(START.timestamp(), 420.0)], as_points=True
    )
    chart = build([flow, gas], START, END, ZONE)
    assert chart.table_head == ["Time", "ECMO blood flow (L/min)", "Post-oxygenator pO2 (mmHg)"]
    assert chart.table_rows == [["01 Dec 01:00", "4–4.8", "420"]]


def test_line_panels_show_each_periods_values_on_hover() -> None:
    flow = Trace("blood_flow", "ECMO blood flow", "L/min", minutes([4.0, 4.8, 4.2]))
    gas = Trace(
        "post_oxy_po2", "Post-oxygenator pO2", "mmHg", [(START.timestamp(), 420.0)], as_points=True
    )
    chart = build([flow, gas], START, END, ZONE, rows=24)
    (hover,) = chart.panels[0].hovers
    assert hover.title == "01 Dec 01:00–02:00: 4–4.8 L/min" and hover.x == 0
    assert chart.panels[1].hovers == []  # results have their own dots


def test_a_trial_of_an_hour_gets_ticks_every_few_minutes_and_its_markers() -> None:
    start = START + timedelta(hours=9, minutes=50)
    end = start + timedelta(hours=1, minutes=20)
    flow = Trace("sweep_flow", "Sweep gas flow", "L/min", minutes([2.0] * 80, start))
    step = Marker(start + timedelta(minutes=30), "step", "#1 Sweep-off trial: step 2, sweep off")
    chart = build([flow], start, end, ZONE, [step])
    labels = [text for _, text in chart.x_ticks]
    assert labels == ["11:00", "11:15", "11:30", "11:45", "12:00"]  # Berlin is UTC+1
    assert chart.markers[0].glyph == "▾" and "sweep off" in chart.markers[0].title
    assert ("step", "▾", "weaning trial step") in chart.legend


def test_a_run_of_weeks_gets_a_few_day_ticks_at_local_midnight() -> None:
    """A 30-day run is labelled by dates about weekly, never by an hourly tick per hour."""
    end = START + timedelta(days=30)
    flow = Trace("blood_flow", "ECMO blood flow", "L/min", minutes([4.0] * 60))
    chart = build([flow], START, end, ZONE)
    labels = [text for _, text in chart.x_ticks]
    assert 3 <= len(labels) <= 7, labels
    assert all(re.fullmatch(r"\d\d [A-Z][a-z]{2}", text) for text in labels), labels
    assert labels[0] == "02 Dec"  # the first local midnight after the start (Berlin)
    positions = [pct for pct, _ in chart.x_ticks]
    assert positions == sorted(positions) and positions[0] >= 3 and positions[-1] <= 97


def test_a_week_long_window_is_labelled_by_day() -> None:
    end = START + timedelta(days=7)
    chart = build(
        [Trace("blood_flow", "ECMO blood flow", "L/min", minutes([4.0] * 60))], START, end, ZONE
    )
    labels = [text for _, text in chart.x_ticks]
    assert 3 <= len(labels) <= 7 and all(" " in text for text in labels), labels

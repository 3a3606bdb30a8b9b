"""What the run page and alert pages chart: signals with clinical names and units, the run's
targets, labs and gases as results, events of the run as markers, and the membrane lung's
ΔP per L/min against its own baseline.

The ΔP per L/min is the surveillance detector's own trace
(``surveillance.transmembrane_gradient_rise.resistance_rise``: the vocabulary's one ΔP
derivation, flow-normalised, 30-minute rolling median) and its baseline is the detector's
too: the median over the lung's early hours after it went in (``baseline_skip_min`` settling,
then ``baseline_hours``), with the thresholds in force.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Float, func, select, text
from sqlalchemy.orm import Session

from continuum import display_names, vocabulary
from continuum.core import free_text, observation_service, settings_service, targets
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.record import Observation
from continuum.core.run_record import Run
from continuum.core.run_service import current_mode
from continuum.core.trend_chart import Chart, Marker, Reference, Trace, build, essential
from continuum.db import UTCDateTime
from continuum.errors import NotFound
from continuum.surveillance import RunSeries
from continuum.surveillance.grid import Grid
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings
from continuum.surveillance.transmembrane_gradient_rise import resistance_rise

WINDOW = timedelta(hours=24)
# The run page's panels, top to bottom ("dp_per_flow" is the derived ΔP per L/min).
RUN_PAGE_CODES = (
    "blood_flow",
    "pump_speed",
    "p_access",
    "dp_per_flow",
    "sweep_flow",
    "post_oxy_po2",
    "spo2",
    "anti_xa",
)
# Results taken now and then (labs, gases, echo): drawn as dots, never joined by a line.
RESULT_GROUPS = ("circuit_gas", "blood_gas", "lab", "anticoagulation", "echo")
DP_PER_FLOW = "dp_per_flow"
DP_CODES = ("blood_flow", vocabulary.DELTA_P, *vocabulary.DELTA_P_FROM)
LUNG_KINDS = ("membrane_lung", "console", "tubing_set")  # a change restarts the baseline
# Clinical events shown as markers: kind → marker kind.
MARKER_KINDS = {
    "alert.raised": "alert",
    "alert.cleared": "cleared",
    "component.added": "component",
    "component.replaced": "component",
    "mode.changed": "mode",
    "cannula.inserted": "cannula",
    "run.started": "run",
    "run.ended": "run",
}


def is_result(code: str) -> bool:
    spec = vocabulary.CODES.get(code)
    return spec is not None and spec.group in RESULT_GROUPS


def trace_of(
    code: str,
    points: Sequence[tuple[float, float]],
    band: tuple[float | None, float | None] | None = None,
    entered: dict[float, str] | None = None,
) -> Trace:
    """One vocabulary signal as a trace: its clinical name and unit; results as dots. A value
    entered in another unit (``entered_results``) is read as entered, the stored value in
    brackets: a result's dot, a line's period under the pointer and the latest value."""
    spec = vocabulary.CODES[code]
    unit = "fraction" if spec.unit == "1" else spec.unit
    label = spec.meaning[0].upper() + spec.meaning[1:]
    result = is_result(code)
    return Trace(code, label, unit, points, as_points=result, band=band,
                 entered=entered or None)  # fmt: skip


def surveillance_settings(session: Session) -> SurveillanceSettings:
    """The surveillance thresholds in force (the programme's own values over the defaults)."""
    try:
        return DEFAULT_SETTINGS.with_overrides(settings_service.overrides(session, "surveillance"))
    except NotFound:  # surveillance's settings group not registered (alerts domain off)
        return DEFAULT_SETTINGS


def markers(
    session: Session, run_id: int, start: datetime, end: datetime, readable: bool = True
) -> list[Marker]:
    """The run's alerts, component, cannula and mode changes in [start, end] (clinical time).
    Their summaries carry typed words: "hidden for your role" unless ``readable``."""
    rows = session.execute(
        select(ClinicalEvent.clinical_time, ClinicalEvent.kind, ClinicalEvent.summary).where(
            ClinicalEvent.run_id == run_id,
            ClinicalEvent.kind.in_(MARKER_KINDS),
            ClinicalEvent.clinical_time >= start,
            ClinicalEvent.clinical_time <= end,
        )
    )
    return [Marker(t, MARKER_KINDS[k], s if readable else free_text.HIDDEN) for t, k, s in rows]


@dataclass(frozen=True)
class LungTrend:
    points: list[tuple[float, float]]  # (seconds since 1970, mmHg per L/min)
    baseline: float | None
    installed: datetime | None


# Surveillance registers a reader of the baselines it stored once a component segment's
# early hours were over: (session, run_id, segment start, key) → the value, or None when it
# stored none for a segment starting then (to the millisecond). The run page then shows the
# detector's own stored ΔP per L/min baseline instead of recomputing it from the lung's
# early hours on every request (the same rule over the same values: the same number).
StoredBaseline = Callable[[Session, int, datetime, str], float | None]
STORED_BASELINES: list[StoredBaseline] = []


def stored_baseline(session: Session, run_id: int, segment: datetime, key: str) -> float | None:
    for provider in STORED_BASELINES:
        found = provider(session, run_id, segment, key)
        if found is not None:
            return found
    return None


def lung_install(run: Run, at: datetime) -> datetime | None:
    """When the membrane lung in use at ``at`` went in (or the circuit around it)."""
    starts = [c.started_at for c in run.components if c.kind in LUNG_KINDS and c.started_at <= at]
    return max(starts) if starts else None


def _epoch(session: Session) -> Any:
    """Observation time as seconds since 1970 (UTC), computed by the database: reading
    thousands of values skips building a datetime for each."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_part("epoch", Observation.time, type_=Float)
    return (func.julianday(Observation.time, type_=Float) - 2440587.5) * 86400.0


def _seconds(micros: Sequence[int] | np.ndarray) -> np.ndarray:
    """Microseconds since 1970 as the seconds ``readings`` gives: round(seconds, 3), the
    float of the time in seconds rounded to the millisecond, computed on whole numbers for
    the whole array at once (14,000 calls of round() were a tenth of the run page's CPU).
    The same floats: an exact millisecond count over 1000 is the float nearest to it, as
    round() returns; a time exactly half-way (…500 µs) is left to round() itself, whose
    answer there depends on the float's binary digits."""
    us = np.asarray(micros, dtype=np.int64)
    whole, rest = np.divmod(us, 1000)
    out = (whole + (rest > 500)) / 1000.0
    for i in np.flatnonzero(rest == 500).tolist():
        out[i] = round(int(us[i]) / 1e6, 3)
    return out


# Per code, its values in time order straight off the (run, code, time) index, which holds
# the value and id too (migration 0042): an index-only scan needing no sort, where one
# GROUP BY over all codes read every row from the table and sorted them. Times and values
# come in PostgreSQL's binary form end to end (a time: whole microseconds since 2000-01-01
# UTC, 8 bytes; a value: an 8-byte float), which numpy reads as they are, where a text
# array of 80,000 values (under a device feed) was parsed into as many Python numbers and
# each time's EXTRACT(epoch) was numeric arithmetic.
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC, PostgreSQL's epoch, in µs since 1970
_PG_READINGS = text(
    "SELECT c.code, s.us, s.vs FROM unnest(CAST(:codes AS text[])) AS c(code), LATERAL ("
    "SELECT string_agg(timestamptz_send(o.time), ''::bytea) AS us, "
    "string_agg(float8send(o.value), ''::bytea) AS vs "
    "FROM (SELECT o.time, o.value FROM observation o "
    "WHERE o.run_id = :run AND o.code = c.code AND o.status = 'final' "
    "AND o.time >= :start AND o.time <= :end ORDER BY o.time, o.id) o) s "
    "WHERE s.us IS NOT NULL"
)


Series = tuple[np.ndarray, np.ndarray]  # (seconds since 1970, values), time order


def series_arrays(
    session: Session, run_id: int, codes: Sequence[str], start: datetime, end: datetime
) -> dict[str, Series]:
    """``readings`` as two arrays per code (the same floats): what the run page thins
    (``trend_chart.essential``) before making a point of each value."""
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            _PG_READINGS, {"run": run_id, "codes": sorted(set(codes)), "start": start, "end": end}
        )
        out = {
            code: (
                _seconds(np.frombuffer(us, dtype=">i8") + PG_EPOCH_US),
                np.frombuffer(vs, dtype=">f8").astype(float),
            )
            for code, us, vs in found
        }
        return dict(sorted(out.items()))
    return {
        code: (np.array([t for t, _ in points], dtype=float), np.array([v for _, v in points]))
        for code, points in readings(session, run_id, codes, start, end).items()
    }


def readings(
    session: Session, run_id: int, codes: Sequence[str], start: datetime, end: datetime
) -> dict[str, list[tuple[float, float]]]:
    """Final values of ``codes`` in [start, end]: code → [(seconds since 1970, value)].

    PostgreSQL: one row per code carrying its times and values as two arrays (in time
    order), which the driver hands over as lists: a row per value through the ORM layer
    cost twice the time and CPU at the run page's ~12,000 values."""
    if session.get_bind().dialect.name == "postgresql":
        return {
            code: list(zip(t.tolist(), v.tolist(), strict=True))
            for code, (t, v) in series_arrays(session, run_id, codes, start, end).items()
        }
    where = (
        Observation.run_id == run_id,
        Observation.code.in_(codes),
        Observation.status == "final",
        Observation.time >= start,
        Observation.time <= end,
    )
    out: dict[str, list[tuple[float, float]]] = {}
    stmt = select(Observation.code, _epoch(session), Observation.value).where(*where)
    for code, t, v in session.execute(stmt.order_by(Observation.code, Observation.time)):
        out.setdefault(code, []).append((round(float(t), 3), v))
    return out


def entered_results(
    session: Session, run_id: int, codes: Sequence[str], start: datetime, end: datetime
) -> dict[str, dict[float, str]]:
    """Values of ``codes`` in [start, end] entered in another unit (results and line signals
    alike: a console sending kPa, a hand entry in mL/min): code → {seconds since 1970 (as
    ``readings``): the value and unit as entered, "62 kPa"}."""
    wanted = [c for c in codes if c in vocabulary.CODES]
    if not wanted:
        return {}
    stmt = select(
        Observation.code, _epoch(session), Observation.entered_value, Observation.entered_unit
    ).where(
        Observation.run_id == run_id,
        Observation.code.in_(wanted),
        Observation.status == "final",
        Observation.time >= start,
        Observation.time <= end,
        Observation.entered_unit.is_not(None),
    )
    out: dict[str, dict[float, str]] = {}
    for code, t, value, unit in session.execute(stmt):
        first, _ = display_names.entered_parts(0.0, code, None, value, unit)
        out.setdefault(code, {})[round(float(t), 3)] = first
    return out


def _arrays(
    found: Mapping[str, Sequence[tuple[float, float]] | Series], start: float, step_ms: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ΔP and flow readings from ``start`` on as surveillance's arrays (UTC datetime64[ms]),
    of each grid step (``step_ms``, as ``Grid.over`` lays it) only the last finite value:
    the grid reads the last value at or before each of its points (``Grid.locf``) and the
    series' first and last time (``RunSeries.span``), so the ratio is the same as from
    every value, and a feed of several values a second costs no more than one a minute."""
    out = {}
    for code in DP_CODES:
        got = found.get(code)
        if got is None or len(got) == 0:
            continue
        if isinstance(got, tuple):
            t, v = got
        else:
            t = np.array([p[0] for p in got], dtype=float)
            v = np.array([p[1] for p in got], dtype=float)
        sel = (t >= start) & np.isfinite(v)
        if not sel.any():
            continue
        ms = np.round(t[sel] * 1000).astype("int64")
        values = v[sel]
        step = -(-ms // step_ms)  # the first grid time at or after each value
        keep = np.r_[step[1:] != step[:-1], True]
        keep[0] = True
        out[code] = (ms[keep].astype("datetime64[ms]"), values[keep])
    return out


def _step_ms(s: SurveillanceSettings) -> int:
    return max(int(s.grid_step_s * 1000), 1)  # as Grid.over


def _ratio(
    run: Run, signals: dict[str, tuple[np.ndarray, np.ndarray]], s: SurveillanceSettings
) -> dict[str, np.ndarray] | None:
    series = RunSeries(current_mode(run), signals)
    if not series.has("blood_flow") or len(series.signals) < 2:
        return None
    grid = Grid.over(series, s.grid_step_s)
    trace = resistance_rise(grid, s)
    trace["times"] = grid.times
    return trace


def lung_trend(
    session: Session,
    run: Run,
    start: datetime,
    end: datetime,
    s: SurveillanceSettings,
    at: datetime | None = None,
    recent: Mapping[str, Sequence[tuple[float, float]] | Series] | None = None,
) -> LungTrend:
    """ΔP per L/min over [start, end] and the own baseline (surveillance's rule) of the lung
    in use at ``at`` (default: at ``end``). ``recent``: readings of ``DP_CODES`` already
    read from ``start`` minus the smoothing window (else they are read here)."""
    installed = lung_install(run, at or end)
    early = _first_time(session, run.id, installed) if installed else None
    baseline = None
    if early is not None:
        settle = timedelta(minutes=s.baseline_skip_min + s.tmp_smoothing_min)
        base_end = early + settle + timedelta(hours=s.baseline_hours, minutes=1)
        if installed is not None and end >= base_end:  # formed: as surveillance stored it
            baseline = stored_baseline(session, run.id, installed, DP_PER_FLOW)
        if baseline is None:
            first = readings(session, run.id, DP_CODES, early, min(base_end, end))
            trace = _ratio(run, _arrays(first, early.timestamp(), _step_ms(s)), s)
            if trace is not None:
                b = trace["baseline_dp_per_flow"]
                found = b[np.isfinite(b)]
                baseline = float(found[-1]) if len(found) else None
    lead = start - timedelta(minutes=s.tmp_smoothing_min)
    if recent is None:
        recent = readings(session, run.id, DP_CODES, lead, end)
    since = max(lead, installed or lead).timestamp()
    trace = _ratio(run, _arrays(recent, since, _step_ms(s)), s)
    points: list[tuple[float, float]] = []
    if trace is not None:
        seconds = trace["times"].astype("int64") / 1000.0
        keep = np.isfinite(trace["dp_per_flow"]) & (seconds >= start.timestamp())
        points = list(zip(seconds[keep].tolist(), trace["dp_per_flow"][keep].tolist(), strict=True))
    return LungTrend(points, baseline, installed)


_PG_FIRST_TIME = text(
    "SELECT MIN(m.t) AS first FROM unnest(CAST(:codes AS text[])) AS c(code), LATERAL ("
    "SELECT MIN(o.time) AS t FROM observation o WHERE o.run_id = :run AND o.code = c.code "
    "AND o.status = 'final' AND o.time >= :since) m"
).columns(first=UTCDateTime())


def _first_time(session: Session, run_id: int, since: datetime) -> datetime | None:
    """The first ΔP or flow value at or after ``since`` (the grid starts there, as in
    surveillance, whose first segment begins with the first observation). PostgreSQL: an
    index seek per code, where one MIN over the codes read every value since ``since``."""
    if session.get_bind().dialect.name == "postgresql":
        first: datetime | None = session.scalar(
            _PG_FIRST_TIME, {"run": run_id, "codes": list(DP_CODES), "since": since}
        )
        return first
    stmt = select(func.min(Observation.time)).where(
        Observation.run_id == run_id,
        Observation.code.in_(DP_CODES),
        Observation.status == "final",
        Observation.time >= since,
    )
    found: datetime | None = session.scalar(stmt)
    return found


def lung_trace(lung: LungTrend, s: SurveillanceSettings) -> Trace:
    refs: tuple[Reference, ...] = ()
    if lung.baseline is not None:
        refs = (
            Reference(lung.baseline, "baseline", lung.installed),
            Reference(
                lung.baseline * (1 + s.tmp_rise_warning),
                f"alert at +{s.tmp_rise_warning * 100:g}%",
                lung.installed,
                "threshold",
            ),
        )
    note = (
        f"30-min median; this lung's baseline {lung.baseline:.1f} (its early hours)"
        if lung.baseline is not None
        else "30-min median; this lung's baseline is still forming"
    )
    return Trace(
        DP_PER_FLOW,
        "Membrane lung ΔP per L/min of blood flow",
        "mmHg per L/min",
        lung.points,
        references=refs,
        note=note,
    )


def window_end(session: Session, run: Run) -> datetime | None:
    """The time of the run's newest observation (the chart ends there)."""
    return observation_service.newest_time(session, run.id)


def run_chart(session: Session, run: Run, zone: ZoneInfo, readable: bool = True) -> Chart | None:
    """The run page's chart: the last 24 h of data (to the newest observation);
    ``readable``: whether the event markers' words are shown (``markers``)."""
    end = window_end(session, run)
    if end is None:
        return None
    start = end - WINDOW
    s = surveillance_settings(session)
    goals = targets.current_targets(session, run.id)
    traces = []
    lead = start - timedelta(minutes=s.tmp_smoothing_min)
    found = series_arrays(session, run.id, (*RUN_PAGE_CODES, *DP_CODES), lead, end)
    typed = entered_results(session, run.id, RUN_PAGE_CODES, start, end)
    for code in RUN_PAGE_CODES:
        if code == DP_PER_FLOW:
            lung = lung_trend(session, run, start, end, s, recent=found)
            if lung.points:
                traces.append(lung_trace(lung, s))
            continue
        if code not in found:
            continue
        t, v = found[code]
        if not is_result(code):  # a line: only the values its drawing and table show
            keep = essential(t, v, start, end, near=list(typed.get(code, {})))
            t, v = t[keep], v[keep]
        points = list(zip(t.tolist(), v.tolist(), strict=True))
        if points:
            goal = goals.get(code)
            band = (goal.low, goal.high) if goal else None
            traces.append(trace_of(code, points, band, typed.get(code)))
    if not traces:
        return None
    return build(
        traces,
        start,
        end,
        zone,
        markers(session, run.id, start, end, readable),
        title=f"Run {run.id}: last 24 h of data",
    )


def forecast_charts(forecasts: list[dict[str, Any]], zone: ZoneInfo) -> dict[str, Chart]:
    """Per exchange forecast made (criterion → chart): the values the trend was fitted on,
    the trend projected to the line (right of the first ◇, "now"), the line, and markers at
    the likely crossing and the interval's ends."""
    out: dict[str, Chart] = {}
    for f in forecasts:
        plot = f.get("plot")
        if f.get("status") != "forecast" or not plot or not plot["observed"]:
            continue
        now = datetime.fromtimestamp(plot["now"], UTC)
        interval = f["interval"] or {}
        ends = [datetime.fromisoformat(x.replace("Z", "+00:00"))
                for x in (interval.get("earliest"), interval.get("latest")) if x]  # fmt: skip
        crossing = datetime.fromisoformat(f["predicted_crossing"].replace("Z", "+00:00"))
        start = datetime.fromtimestamp(plot["start"], UTC)
        end = min(max([crossing, *ends]) + timedelta(hours=2), now + timedelta(hours=96))
        label = f["label"][0].upper() + f["label"][1:]
        line = (Reference(f["line"], "exchange line", None, "threshold"),)
        dots = f["criterion"] not in ("dp_per_flow", "pump_drift")
        observed = Trace(
            f["criterion"], label, f["unit"], [(a, b) for a, b in plot["observed"]],
            as_points=dots, references=line, max_gap=timedelta(hours=13),
        )  # fmt: skip
        projected = Trace(
            f["criterion"], "Projected trend (not measured)", f["unit"],
            [(a, b) for a, b in plot["projected"]], references=line,
            max_gap=timedelta(hours=2), note="from now to the predicted crossing",
        )  # fmt: skip
        marks = [Marker(now, "forecast", "now: data to here")]
        marks.append(Marker(crossing, "forecast", "likely crossing"))
        marks += [Marker(t, "forecast", "interval end") for t in ends]
        out[f["criterion"]] = build([observed, projected], start, end, zone, marks, title=f["text"])
    return out

"""Run every detector over a run and collect alert episodes.

Whole-run replay: ``run_all_detectors(series)`` gives every episode, raised and cleared.

Incremental use (each ingested batch): every rule is causal — the level at a minute uses
only observations at or before it — so the state at the end of a window equals the state
at that minute in a whole-run replay, provided the window holds (a) the longest smoothing
+ persistence span (~2 h) and the lab/gas max ages (48 h covers all defaults), and (b) the
baselines. Either start the window at the last component change, or pass the stored
baselines in ``RunSeries.baselines`` (keys: ``dp_per_flow``, ``po2_per_fdo2``,
``rpm_per_flow``, ``patient_saturation``, ``pre_oxy_so2``, ``p_access``,
``p_access_trend``, ``blood_flow``, ``spo2_right``; take them from
``Alert.evidence["baseline"]`` or from ``baselines_of``). Then ``current_state`` returns
the open episode per detector (or None), which the alert service compares with the alerts
it has stored: open a new one, escalate, or clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

import numpy as np

from continuum.surveillance import (
    access_insufficiency,
    anticoagulation_out_of_range,
    circuit_thrombosis,
    differential_hypoxia,
    flow_below_target,
    hemolysis,
    impella_flow_low,
    impella_purge_pressure,
    lv_unloading_context,
    oxygenator_dysfunction,
    pump_thrombosis,
    recirculation,
    transmembrane_gradient_rise,
)
from continuum.surveillance.alerts import Alert
from continuum.surveillance.base import build_alerts
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunSeries, RunTargets
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings

DETECTORS: dict[str, ModuleType] = {
    m.CODE: m
    for m in (
        oxygenator_dysfunction,
        transmembrane_gradient_rise,
        pump_thrombosis,
        hemolysis,
        recirculation,
        access_insufficiency,
        circuit_thrombosis,
        anticoagulation_out_of_range,
        differential_hypoxia,
        flow_below_target,
        impella_flow_low,
        impella_purge_pressure,
        lv_unloading_context,
    )
}
DETECTOR_CODES: tuple[str, ...] = tuple(DETECTORS)


def rule_texts(settings: SurveillanceSettings | None = None) -> dict[str, str]:
    """Every detector's rule as a clinician reads it, rendered from the thresholds in force
    (a programme's overrides included), never from the published defaults alone."""
    s = settings or DEFAULT_SETTINGS
    return {code: DETECTORS[code].rule_text(s) for code in DETECTOR_CODES}


def run_all_detectors(
    series: RunSeries,
    settings: SurveillanceSettings | None = None,
    targets: RunTargets | None = None,
    only: Iterable[str] | None = None,
) -> list[Alert]:
    """Every alert episode over the run, ordered by raise time."""
    s = settings or DEFAULT_SETTINGS
    grid = Grid.over(series, s.grid_step_s)
    if len(grid) == 0:
        return []
    alerts: list[Alert] = []
    for code in only or DETECTOR_CODES:
        if not series.applies(code):
            continue  # e.g. recirculation on an arterial-only return (support_configuration)
        ev = DETECTORS[code].evaluate(grid, s, targets or RunTargets())
        if ev is not None:
            alerts.extend(build_alerts(ev, grid, s))
    return sorted(alerts, key=lambda a: (a.raised_at, a.detector))


def current_state(
    series: RunSeries,
    settings: SurveillanceSettings | None = None,
    targets: RunTargets | None = None,
) -> dict[str, Alert | None]:
    """Per detector, the episode open at the end of the window (None: quiet)."""
    state: dict[str, Alert | None] = dict.fromkeys(DETECTOR_CODES)
    for alert in run_all_detectors(series, settings, targets):
        if alert.is_open:
            state[alert.detector] = alert
    return state


# baseline key -> (detector, trace holding it); pump: expected rpm per L/min at the end.
_BASELINE_TRACES = {
    "dp_per_flow": (transmembrane_gradient_rise.CODE, "baseline_dp_per_flow"),
    "po2_per_fdo2": (oxygenator_dysfunction.CODE, "baseline_po2_per_fdo2"),
    "patient_saturation": (recirculation.CODE, "baseline_patient_saturation"),
    "pre_oxy_so2": (recirculation.CODE, "baseline_pre_oxy_so2"),
    "p_access": (access_insufficiency.CODE, "baseline_p_access"),
    "p_access_trend": (access_insufficiency.CODE, "baseline_p_access_trend"),
    "blood_flow": (access_insufficiency.CODE, "baseline_blood_flow"),
    "spo2_right": (differential_hypoxia.CODE, "baseline_spo2_right"),
}


def baselines_of(
    series: RunSeries, settings: SurveillanceSettings | None = None
) -> dict[str, float]:
    """The baselines in force at the end of the series (the latest component segment), to
    store and pass back in ``RunSeries.baselines`` when only a recent window is replayed."""
    s = settings or DEFAULT_SETTINGS
    grid = Grid.over(series, s.grid_step_s)
    if len(grid) == 0:
        return {}
    evs = {c: DETECTORS[c].evaluate(grid, s, RunTargets()) for c in DETECTOR_CODES}
    out: dict[str, float] = {}
    for key, (code, trace) in _BASELINE_TRACES.items():
        ev = evs[code]
        if ev is not None and np.isfinite(ev.trace[trace][-1]):
            out[key] = float(ev.trace[trace][-1])
    pump = evs[pump_thrombosis.CODE]
    if pump is not None:
        per_flow = pump.trace["expected_pump_speed"] / pump.trace["blood_flow"]
        if np.isfinite(per_flow[-1]):
            out["rpm_per_flow"] = float(per_flow[-1])
    return out

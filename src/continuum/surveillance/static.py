"""The comparison baseline: what a console alarm does — one sample past a fixed limit opens
an alert, the next sample inside the limit closes it. No smoothing, persistence, trend or
own-baseline. Used only to evaluate the trend-aware detectors against (``evaluate``).
``pump_thrombosis`` has no single-signal static equivalent and is absent here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from continuum.surveillance.alerts import Alert
from continuum.surveillance.series import RunSeries, RunTargets
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings
from continuum.vocabulary import CODES


@dataclass(frozen=True)
class StaticRule:
    detector: str
    code: str
    severity: str
    setting: str
    below: bool
    limit: Callable[[SurveillanceSettings, RunTargets], float | None]


def _s(name: str) -> Callable[[SurveillanceSettings, RunTargets], float]:
    return lambda s, t: float(getattr(s, name))


def _target(
    attr: str, i: int, default: str | None
) -> Callable[[SurveillanceSettings, RunTargets], float | None]:
    def limit(s: SurveillanceSettings, t: RunTargets) -> float | None:
        rng = getattr(t, attr)
        if rng is not None:
            return float(rng[i])
        return float(getattr(s, default)) if default else None

    return limit


def _flow_goal(s: SurveillanceSettings, t: RunTargets) -> float | None:
    return float(t.flow_goal) if isinstance(t.flow_goal, int | float) else None


STATIC_RULES: tuple[StaticRule, ...] = (
    StaticRule(
        "oxygenator_dysfunction",
        "post_oxy_po2",
        "warning",
        "oxy_po2_malfunction",
        True,
        _s("oxy_po2_malfunction"),
    ),
    StaticRule("hemolysis", "pfhb", "warning", "pfhb_warning", False, _s("pfhb_warning")),
    StaticRule(
        "access_insufficiency",
        "p_access",
        "critical",
        "access_critical",
        True,
        _s("access_critical"),
    ),
    StaticRule(
        "circuit_thrombosis",
        "d_dimer",
        "warning",
        "ddimer_malfunction",
        False,
        _s("ddimer_malfunction"),
    ),
    StaticRule(
        "anticoagulation_out_of_range",
        "anti_xa",
        "warning",
        "anti_xa_low",
        True,
        _target("anti_xa", 0, "anti_xa_low"),
    ),
    StaticRule(
        "anticoagulation_out_of_range",
        "anti_xa",
        "warning",
        "anti_xa_high",
        False,
        _target("anti_xa", 1, "anti_xa_high"),
    ),
    StaticRule(
        "differential_hypoxia",
        "spo2_right",
        "warning",
        "dh_upper_sat",
        True,
        _s("dh_upper_sat"),
    ),
    StaticRule("flow_below_target", "blood_flow", "warning", "flow_goal", True, _flow_goal),
    StaticRule(
        "transmembrane_gradient_rise",
        "oxy_delta_p",
        "warning",
        "static_delta_p",
        False,
        lambda s, t: 50.0,
    ),
)


def run_static_detectors(
    series: RunSeries,
    settings: SurveillanceSettings | None = None,
    targets: RunTargets | None = None,
) -> list[Alert]:
    """Single-sample limit crossings, as episodes per rule."""
    s, t = settings or DEFAULT_SETTINGS, targets or RunTargets()
    alerts: list[Alert] = []
    for rule in STATIC_RULES:
        limit = rule.limit(s, t)
        if limit is None or not series.applies(rule.detector) or not series.has(rule.code):
            continue
        alerts.extend(_crossings(series, rule, limit))
    return sorted(alerts, key=lambda a: (a.raised_at, a.detector))


def _crossings(series: RunSeries, rule: StaticRule, limit: float) -> list[Alert]:
    times, values = series.signals[rule.code]
    bad = values < limit if rule.below else values > limit
    edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    unit = CODES[rule.code].unit
    word = "below" if rule.below else "above"
    return [
        Alert(
            rule.detector,
            rule.severity,
            times[a],
            times[b] if b < len(times) else None,
            f"{rule.code} {values[a]:g} {unit} {word} the limit {limit:g} {unit}",
            {
                "rule": f"single sample {word} a fixed limit (console-alarm style)",
                "threshold": {
                    "name": rule.setting,
                    "value": limit,
                    "unit": unit,
                    "source": "static comparison baseline ([U] for static_delta_p)",
                },
                "observations": [{"code": rule.code, "value": float(values[a])}],
            },
        )
        for a, b in zip(starts, ends, strict=True)
    ]

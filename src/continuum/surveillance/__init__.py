"""Circuit surveillance: pure, vectorised detectors over one run's time series.

    from continuum.surveillance import RunSeries, RunTargets, run_all_detectors
    alerts = run_all_detectors(RunSeries("VV", {"blood_flow": (times, values), ...}))
    [a.to_dict() for a in alerts]      # docs/contracts.md §3 alert JSON

No database or web imports here; the alert service (``surveillance/service.py``) stores
alerts and settings overrides and calls ``current_state`` on each ingested batch.
"""

from continuum.surveillance.alerts import SEVERITIES, Alert
from continuum.surveillance.engine import (
    DETECTOR_CODES,
    DETECTORS,
    baselines_of,
    current_state,
    rule_texts,
    run_all_detectors,
)
from continuum.surveillance.series import ComponentChange, RunSeries, RunTargets
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings
from continuum.surveillance.static import STATIC_RULES, run_static_detectors

__all__ = [
    "DEFAULT_SETTINGS",
    "DETECTORS",
    "DETECTOR_CODES",
    "SEVERITIES",
    "STATIC_RULES",
    "Alert",
    "ComponentChange",
    "RunSeries",
    "RunTargets",
    "SurveillanceSettings",
    "baselines_of",
    "current_state",
    "rule_texts",
    "run_all_detectors",
    "run_static_detectors",
]

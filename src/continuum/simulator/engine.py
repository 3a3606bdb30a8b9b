"""Putting patient, circuit, faults, labs and artefacts together: :func:`simulate`."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from continuum import support_configuration
from continuum.errors import FieldProblem, ValidationFailed
from continuum.simulator import artefacts as art
from continuum.simulator import devices as mcs_devices
from continuum.simulator.blood import ph_from
from continuum.simulator.circuit import (
    Circuit,
    Hydraulics,
    default_circuit,
    flow_at_rpm,
    pressures,
    required_rpm,
)
from continuum.simulator.faults import (
    FAULT_DETECTORS,
    Fault,
    Intervention,
    minute_of,
    oxygenator_changes,
    progress,
    setting_profile,
    smoothstep,
)
from continuum.simulator.labs import LabDrivers, compute_labs, lactate
from continuum.simulator.oxygenation import GasInputs, solve
from continuum.simulator.patient import MODES, Patient, default_patient
from continuum.simulator.run import SimulatedRun, iso_minutes
from continuum.simulator.scenarios import ROUTINE, get_scenario
from continuum.simulator.schedules import BLOOD_GAS_CODES, BLOOD_GAS_VV_ONLY, schedule
from continuum.simulator.truth import FaultTruth, criterion_text, obvious_minute
from continuum.simulator.ventilation import mechanics

PUMP_WOBBLE = 0.08  # sd of the minute-to-minute flow fluctuation of a fully formed pump thrombus

Array = NDArray[np.float64]

DEFAULT_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
MAX_HOURS = 24 * 90
RPM_ADJUST_EVERY_MIN = 240
RPM_CEILING_FACTOR = 1.2

SETTINGS: dict[str, dict[str, float]] = {
    "VV": {"flow": 4.8, "sweep": 5.0, "fdo2": 1.0, "heparin": 15.0, "recirculation": 0.08},
    "VA": {"flow": 4.0, "sweep": 3.5, "fdo2": 0.5, "heparin": 15.0, "recirculation": 0.0},
}


def _validate(scenario: str, mode: str, hours: float) -> None:
    sc = get_scenario(scenario)
    problems: list[FieldProblem] = []
    if mode not in MODES:
        problems.append(FieldProblem("mode", f"unknown mode '{mode}'; allowed: VV, VA", mode))
    elif mode not in sc.modes:
        allowed = ", ".join(sc.modes)
        problems.append(
            FieldProblem(
                "mode",
                f"scenario '{scenario}' does not support mode '{mode}'; allowed: {allowed}",
                mode,
            )
        )
    if not (hours > 0 and hours <= MAX_HOURS):
        problems.append(
            FieldProblem(
                "hours", f"hours must be > 0 and <= {MAX_HOURS} (90 days); got {hours:g}", hours
            )
        )
    if problems:
        raise ValidationFailed(problems)


STOPPED_RESIDUAL = 0.2  # share of the set flow left when the pump is stopped [U]


def _smooth_noise(rng: np.random.Generator, n: int, knot_min: int, sd: float) -> Array:
    """Slow random variation: an AR(1) on knots every ``knot_min`` minutes, interpolated."""
    k = n // knot_min + 2
    e = rng.standard_normal(k)
    knots = np.empty(k)
    knots[0] = e[0]
    for i in range(1, k):
        knots[i] = 0.8 * knots[i - 1] + 0.6 * e[i]
    return sd * np.interp(np.arange(n), np.arange(k) * knot_min, knots)


def _fault_arrays(
    faults: tuple[Fault, ...], n: int, interventions: list[Intervention]
) -> tuple[dict[str, Array], dict[str, tuple[Fault, Array, int | None]]]:
    arrays: dict[str, Array] = {}
    detail: dict[str, tuple[Fault, Array, int | None]] = {}
    for f in faults:
        p, ended = progress(f, n, interventions)
        arrays[f.kind] = arrays.get(f.kind, np.zeros(n)) + p
        detail[f.kind] = (f, p, ended)
    return arrays, detail


def _pump_speed(circuit: Circuit, hyd: Hydraulics, target: Array, ivs: list[Intervention]) -> Array:
    """Pump speed as the team sets it.

    Re-set to the speed that gives the target flow every 4 h (rounds), whenever the target
    changes and at each intervention; held in between, so flow drifts as resistance
    changes.  Never above 1.2 × the starting speed for the same target (no chasing flow
    into a collapsing vein).
    """
    n = target.size
    needed = required_rpm(circuit, hyd, target)
    adjust = np.zeros(n, dtype=bool)
    adjust[::RPM_ADJUST_EVERY_MIN] = True
    adjust[1:] |= target[1:] != target[:-1]
    for m in oxygenator_changes(n, ivs):
        adjust[m] = True
    for iv in ivs:
        adjust[minute_of(iv.at_fraction, n)] = True
    last = np.maximum.accumulate(np.where(adjust, np.arange(n), 0))
    rpm = np.minimum(needed[last], RPM_CEILING_FACTOR * needed[0] * target / target[0])
    return np.round(rpm / 10.0) * 10.0


def _ground_truth(
    detail: dict[str, tuple[Fault, Array, int | None]],
    clean: dict[str, Array],
    start: datetime,
    n: int,
) -> list[FaultTruth]:
    truth: list[FaultTruth] = []
    for kind, (fault, _p, ended) in detail.items():
        onset = minute_of(fault.onset_fraction, n)
        for code in FAULT_DETECTORS[kind]:
            obvious = obvious_minute(code, clean, onset, ended)
            truth.append(
                FaultTruth(
                    kind=code,
                    fault=kind,
                    onset=start + timedelta(minutes=onset),
                    obvious_at=None if obvious is None else start + timedelta(minutes=obvious),
                    ended_at=None if ended is None else start + timedelta(minutes=ended),
                    severity=fault.severity,
                    ramp_hours=fault.ramp_fraction * n / 60.0,
                    criterion=criterion_text(code),
                )
            )
    return truth


def simulate(
    scenario: str,
    mode: str,
    hours: float,
    seed: int,
    start: datetime | None = None,
    patient: Patient | None = None,
) -> SimulatedRun:
    """Simulate ``hours`` of a run at 1-minute resolution; same seed, same result.

    ``start`` (UTC; a naive datetime is read as UTC) defaults to a fixed date so that
    output is reproducible.  ``patient`` replaces the mode's default patient (weight,
    height, native lung and heart function, …).
    """
    _validate(scenario, mode, hours)
    sc = get_scenario(scenario)
    if start is None:
        start = DEFAULT_START
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    else:
        start = start.astimezone(UTC)
    n = max(round(hours * 60.0), 1)
    if patient is None:
        patient = replace(default_patient(mode), **sc.patient)
    if patient.problems():
        raise ValidationFailed(patient.problems())
    circuit = default_circuit(mode)
    settings = SETTINGS[mode]
    ivs = list(ROUTINE[mode]) + list(sc.interventions)
    fa, detail = _fault_arrays(sc.faults, n, ivs)

    def f(kind: str) -> Array:
        return np.clip(fa.get(kind, np.zeros(n)), 0.0, 1.0)

    oxy, pump, hemo = f("oxygenator_failure"), f("pump_thrombosis"), f("hemolysis")
    recirc, hypo, clot = f("recirculation"), f("access_insufficiency"), f("circuit_thrombosis")
    harlequin = f("differential_hypoxia")
    # Flow lost: air at the console's bubble detector (its air protection slows the pump)
    # or a power failure (hand crank). The minute-by-minute steady-state gas solver cannot
    # represent a full stop (pCO2 > 200 mmHg, no O2 balance), so flow falls to a residual
    # STOPPED_RESIDUAL of the set flow [U]. 0 in every other run: their physiology is as before.
    stopped = np.maximum(f("air_entrainment"), f("power_failure"))

    bg = art.stream(seed, "background")
    co_var = 1.0 + _smooth_noise(bg, n, 120, 0.04)
    vo2_var = 1.0 + _smooth_noise(bg, n, 180, 0.04)
    hb_drift = _smooth_noise(bg, n, 720, 0.25)
    temp_var = _smooth_noise(bg, n, 90, 0.12)
    hr_var = _smooth_noise(bg, n, 60, 4.0)
    map_var = _smooth_noise(bg, n, 60, 3.0)
    heparin_var = 1.0 + _smooth_noise(bg, n, 360, 0.035)
    platelet_var = 1.0 + _smooth_noise(bg, n, 720, 0.05)
    fibrinogen_var = 1.0 + _smooth_noise(bg, n, 720, 0.05)
    minutes = np.arange(n, dtype=float)
    circadian = np.sin(2.0 * np.pi * (minutes / 1440.0 + (start.hour + start.minute / 60) / 24))

    # Patient: volume status, native heart and lung.
    cvp = patient.cvp_mmhg - 7.0 * hypo
    heart = patient.native_heart + (0.65 - patient.native_heart) * harlequin
    lung = np.full(n, patient.native_lung)
    if sc.lung_course is not None:
        course = sc.lung_course
        onset = minute_of(course.onset_fraction, n)
        ramp = max(course.ramp_fraction * n, 1.0)
        lung = lung + (course.target - lung) * smoothstep((minutes - onset) / ramp)
    lung = lung - (lung - 0.22) * harlequin
    vent = mechanics(
        lung,
        patient.height_cm,
        patient.peep_cmh2o,
        patient.driving_pressure_cmh2o,
        patient.vent_rate_min,
        patient.spontaneous,
    )
    output = heart * patient.normal_cardiac_output * patient.hyperdynamic * co_var
    output = output * (1.0 - 0.25 * hypo)
    shunt = np.clip(1.0 - lung, 0.0, 0.98)
    vo2 = patient.vo2_ml_min * vo2_var
    arterial = support_configuration.of(mode).arterial_return  # VA model: arterial return
    if not arterial:
        return_base, return_slope = cvp, np.zeros(n)
    else:
        return_base = 35.0 + 8.0 * output - 15.0 * hypo + map_var
        return_slope = np.full(n, 8.0)

    hyd = Hydraulics(
        cvp=cvp,
        return_base=return_base,
        return_slope=return_slope,
        drain_factor=1.0 + 2.2 * hypo**2,
        ml_factor=1.0 + 1.6 * oxy + 0.5 * clot,
        pump_efficiency=1.0 - 0.3 * pump,
    )
    checks = art.flow_checks(seed, n)
    target = setting_profile(n, settings["flow"], ivs, "flow_change", "flow")
    target = target * art.flow_check_factor(checks, n)
    if stopped.any():
        target = target * (1.0 - (1.0 - STOPPED_RESIDUAL) * stopped)
    rpm = _pump_speed(circuit, hyd, target, ivs)
    flow = flow_at_rpm(circuit, hyd, rpm)
    p_access, p_pre, p_post = pressures(circuit, hyd, flow)
    # A thrombus in the pump head makes the delivered flow unsteady minute to minute while
    # the drainage pressure stays where it was (sd PUMP_WOBBLE of flow once the thrombus has
    # formed) [U]: the flow fluctuation that must not be taken for access insufficiency.
    wobble = art.stream(seed, "pump_wobble").standard_normal(n)
    flow = flow * (1.0 + PUMP_WOBBLE * pump * wobble)

    sweep = setting_profile(n, settings["sweep"], ivs, "sweep_change", "sweep")
    fdo2 = setting_profile(n, settings["fdo2"], ivs, "fdo2_change", "fdo2")
    r = (settings["recirculation"] + 0.3 * recirc) * np.clip(flow / settings["flow"], 0.5, 1.2)
    hb_base = patient.hb_g_dl + hb_drift

    heparin = setting_profile(n, settings["heparin"], ivs, "heparin_change", "rate")
    drift = f("anticoagulation_drift")
    upward = "anticoagulation_drift" in detail and (
        detail["anticoagulation_drift"][0].params.get("direction") == "high"
    )
    sensitivity = (1.0 + 1.2 * drift if upward else 1.0 - 0.65 * drift) * heparin_var
    labs = compute_labs(LabDrivers(pump, hemo, hypo, clot, oxy, sensitivity, heparin), hb_base)
    labs["platelets"] = labs["platelets"] * platelet_var
    labs["fibrinogen"] = labs["fibrinogen"] * fibrinogen_var
    gas = solve(
        GasInputs(
            mode=mode,
            flow=flow,
            cardiac_output=output,
            recirculation=r,
            shunt=shunt,
            hb=labs["hb"],
            vo2=vo2,
            fdo2=fdo2,
            sweep=sweep,
            o2_efficiency=np.maximum(1.0 - 0.88 * oxy - 0.1 * clot, 0.12),
            co2_efficiency=np.maximum(1.0 - 0.6 * oxy - 0.1 * clot, 0.3),
            vent_fio2=patient.vent_fio2,
            ventilation=vent,
        ),
        circuit,
    )
    lac = lactate(gas["svo2"], hypo)
    bicarbonate = 25.0 - 0.9 * (lac - 1.2)

    if not arterial:
        map_ = 76.0 - 18.0 * hypo + map_var + 2.0 * circadian
    else:
        map_ = return_base + return_slope * flow + 2.0 * circadian
    hr = (
        patient.hr_min
        + 14.0 * hypo
        + 0.6 * np.maximum(0.0, 92.0 - gas["sao2"])
        + 6.0 * (heart - patient.native_heart)
        + hr_var
        + 4.0 * circadian
    )

    clean: dict[str, Array] = {
        "blood_flow": flow,
        "pump_speed": rpm,
        "p_access": p_access,
        "p_preoxy": p_pre,
        "p_postoxy": p_post,
        "sweep_flow": sweep,
        "sweep_fio2": fdo2,
        "blood_temp": patient.temp_c + temp_var - 0.1 * (1.0 - flow / settings["flow"]),
        "hr": hr,
        "map": map_,
        "spo2": gas["sao2"],
        "pre_oxy_po2": gas["pre_oxy_po2"],
        "pre_oxy_pco2": gas["pre_oxy_pco2"],
        "pre_oxy_so2": gas["pre_oxy_so2"],
        "post_oxy_po2": gas["post_oxy_po2"],
        "post_oxy_pco2": gas["post_oxy_pco2"],
        "post_oxy_so2": gas["post_oxy_so2"],
        "sao2": gas["sao2"],
        "pao2": gas["pao2"],
        "paco2": gas["paco2"],
        "ph": ph_from(gas["paco2"], bicarbonate),
        "lactate": lac,
        "heparin": heparin,
        **labs,
    }
    continuous: tuple[str, ...] = (
        *art.CONTINUOUS_CONSOLE,
        "sweep_flow",
        "sweep_fio2",
        "hr",
        "map",
        "spo2",
    )
    if support_configuration.of(mode).differential_hypoxia_applies:  # upper-body sites watched
        clean["spo2_right"] = gas["upper_so2"]
        clean["pao2_right_radial"] = gas["upper_po2"]
        continuous = (*continuous, "spo2_right")
    else:
        clean["svo2"] = gas["svo2"]
    sparse = schedule(art.stream(seed, "schedule"), n, mode)
    sparse["heparin"] = np.arange(0, n, 60, dtype=np.int64)
    if sc.ventilator_charted:
        clean["vent_fio2"] = np.full(n, patient.vent_fio2)
        clean["peep"] = vent.peep
        clean["tidal_volume"] = vent.tidal_volume
        clean["plateau_pressure"] = vent.plateau
        clean["resp_rate"] = gas["resp_rate"]
        continuous = (*continuous, "resp_rate")
        hourly = np.arange(0, n, 60, dtype=np.int64)
        for code in ("vent_fio2", "peep", "tidal_volume", "plateau_pressure"):
            sparse[code] = hourly
        steps = [
            minute_of(iv.at_fraction, n)
            for iv in sc.interventions
            if iv.kind in ("sweep_change", "fdo2_change")
        ]
        after = [m + d for m in steps for d in (20, 80) if m + d < n]
        for code, minutes in sparse.items():
            if code in (*BLOOD_GAS_CODES, *BLOOD_GAS_VV_ONLY):
                sparse[code] = np.unique(np.concatenate([minutes, after])).astype(np.int64)
    signals, log = art.observe(seed, clean, continuous, sparse)
    if mcs_devices.applies(sc.devices, fa):  # devices beside the circuit (own random stream)
        device_clean, device_observed = mcs_devices.device_signals(
            sc.devices, fa, n, seed, clean["map"]
        )
        clean.update(device_clean)
        signals.update(device_observed)

    derived = {
        "cardiac_output": output + flow if arterial else output,
        "native_output": output,
        "recirculation": r,
        "vo2": vo2,
        "ml_o2_transfer": gas["ml_o2_transfer"],
        "native_o2_transfer": gas["native_o2_transfer"],
        "ml_co2_removal": gas["ml_co2_removal"],
        "native_co2_removal": gas["native_co2_removal"],
        "target_flow": target,
        "venous_svo2": gas["svo2"],
        "native_lung": lung,
        "resp_rate": gas["resp_rate"],
    }
    if arterial:
        derived["upper_body_so2"] = gas["upper_so2"]

    stamps = iso_minutes(start, n)
    truth = _ground_truth(detail, clean, start, n)
    interventions: list[dict[str, Any]] = [
        {"kind": iv.kind, "at": stamps[minute_of(iv.at_fraction, n)], "params": dict(iv.params)}
        for iv in sorted(ivs, key=lambda i: i.at_fraction)
    ]
    times = np.datetime64(start.replace(tzinfo=None), "m") + np.arange(n)
    return SimulatedRun(
        scenario=scenario,
        mode=mode,
        seed=seed,
        hours=float(hours),
        start=start,
        times=times,
        signals=signals,
        clean=clean,
        derived=derived,
        truth=truth,
        interventions=interventions,
        artefacts=[a.as_dict(stamps) for a in log] + [c.as_dict(stamps) for c in checks],
        patient={
            **patient.as_dict(),
            "circuit": circuit.as_dict(),
            "settings": settings,
            **({"lung_course": asdict(sc.lung_course)} if sc.lung_course else {}),
        },
    )


__all__ = ["DEFAULT_START", "MAX_HOURS", "simulate"]

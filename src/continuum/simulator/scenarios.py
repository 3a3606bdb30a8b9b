"""The scenario library: one scenario per fault, combined faults, and fault-free controls.

Times are fractions of the run.  Every scenario of a mode shares the routine bedside
events of that mode's control (a sweep adjustment), so a fault scenario differs from its
control with the same seed only by the fault and the interventions that answer it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from continuum.errors import FieldProblem, ValidationFailed
from continuum.simulator.faults import FAULT_DETECTORS, Fault, Intervention


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    description: str
    modes: tuple[str, ...]
    default_mode: str
    faults: tuple[str, ...]
    # Scored by `continuum evaluate` (fault scenarios and fault-free controls); False for
    # training scenarios whose deliberate setting changes the detectors are not built for.
    evaluated: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "modes": list(self.modes),
            "default_mode": self.default_mode,
            "faults": list(self.faults),
            "detectors": [d for f in self.faults for d in FAULT_DETECTORS[f]],
        }


@dataclass(frozen=True)
class LungCourse:
    target: float
    onset_fraction: float
    ramp_fraction: float


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    modes: tuple[str, ...]
    faults: tuple[Fault, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    default_mode: str = "VV"
    patient: dict[str, Any] = field(default_factory=dict)
    # Native lung function moving to ``target`` from ``onset`` over ``ramp`` (fractions of
    # the run): recovery (or worsening) of the patient's own lungs.
    lung_course: LungCourse | None = None
    # Chart the ventilator (vent_fio2, PEEP, tidal volume, plateau, respiratory rate) and
    # draw a blood gas after each sweep/FdO2 step, as a weaning trial does.
    ventilator_charted: bool = False
    evaluated: bool = True
    # devices beside the circuit: group → model, e.g. {"impella": "CP"} (simulator/devices.py)
    devices: dict[str, str] = field(default_factory=dict)
    # False: the fault leaves the patient in oxygen debt (ECMO flow lost in severe ARDS or
    # shock), so native + membrane uptake falls short of VO2; not a steady state.
    steady_state: bool = True

    @property
    def info(self) -> ScenarioInfo:
        return ScenarioInfo(
            self.name,
            self.description,
            self.modes,
            self.default_mode,
            tuple(f.kind for f in self.faults),
            self.evaluated,
        )


BOTH = ("VV", "VA")

# Routine events in every run of a mode (controls included).
ROUTINE: dict[str, tuple[Intervention, ...]] = {
    "VV": (Intervention("sweep_change", 0.55, {"factor": 0.9}),),
    "VA": (Intervention("sweep_change", 0.55, {"factor": 0.9}),),
}

# VV weaning (docs/clinical/reference.md §6.1): FdO2 down, sweep down in steps, sweep off; a
# failed trial puts the sweep back.  ``trial`` marks each sweep-off with the outcome the
# physiology gives (the truth a training session is scored against).
WEANING_STEPS: tuple[Intervention, ...] = (
    Intervention("fdo2_change", 0.10, {"fdo2": 0.6}),
    Intervention("sweep_change", 0.15, {"sweep": 2.5}),
    Intervention("sweep_change", 0.20, {"sweep": 1.0}),
    Intervention("sweep_change", 0.25, {"sweep": 0.0, "trial": "sweep_off", "expected": "fail"}),
    Intervention("sweep_change", 0.30, {"sweep": 2.5, "trial": "sweep_back_on"}),
    Intervention("sweep_change", 0.65, {"sweep": 1.0}),
    Intervention("sweep_change", 0.75, {"sweep": 0.0, "trial": "sweep_off", "expected": "pass"}),
)

_S = Scenario
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        _S("control_vv", "Fault-free VV run (severe ARDS) with routine artefacts", ("VV",)),
        _S(
            "control_va",
            "Fault-free femoral VA run (cardiogenic shock) with routine artefacts",
            ("VA",),
            default_mode="VA",
        ),
        _S(
            "oxygenator_failure",
            "Progressive fibrin in the membrane lung: ΔP/flow rises, post-oxygenator pO2 and O2 "
            "transfer fall; the oxygenator is changed near the end",
            BOTH,
            (Fault("oxygenator_failure", 0.2, 0.55),),
            (Intervention("oxygenator_change", 0.88),),
        ),
        _S(
            "pump_thrombosis",
            "Thrombus in the pump head: more rpm needed for the same flow, free Hb and LDH rise",
            BOTH,
            (Fault("pump_thrombosis", 0.25, 0.5),),
        ),
        _S(
            "hemolysis",
            "Shear haemolysis without pump-head thrombus: free Hb and LDH rise, Hb drifts down",
            BOTH,
            (Fault("hemolysis", 0.25, 0.45),),
        ),
        _S(
            "recirculation",
            "Return cannula migrates towards the drainage port: pre-oxygenator saturation rises, "
            "patient saturation falls; flow is reduced near the end",
            ("VV",),
            (Fault("recirculation", 0.3, 0.35),),
            (Intervention("flow_change", 0.9, {"factor": 0.85}),),
        ),
        _S(
            "access_insufficiency",
            "Hypovolaemia: drainage pressure very negative, flow chatters; a fluid bolus fixes it",
            BOTH,
            (Fault("access_insufficiency", 0.3, 0.35),),
            (Intervention("fluid_bolus", 0.85),),
        ),
        _S(
            "circuit_thrombosis",
            "Consumptive circuit thrombosis: D-dimer up, fibrinogen and platelets down, "
            "membrane-lung gradient creeping up",
            BOTH,
            (Fault("circuit_thrombosis", 0.2, 0.6),),
        ),
        _S(
            "anticoagulation_drift",
            "Heparin effect drifts below range (antithrombin consumption); the infusion is "
            "increased near the end",
            BOTH,
            (Fault("anticoagulation_drift", 0.2, 0.4, params={"direction": "low"}),),
            (Intervention("heparin_change", 0.85, {"rate": 24.0}),),
        ),
        _S(
            "differential_hypoxia",
            "Femoral VA: the heart recovers while the lungs worsen; right-hand saturation falls "
            "while the return limb stays saturated; flow is raised near the end",
            ("VA",),
            (Fault("differential_hypoxia", 0.25, 0.45),),
            (Intervention("flow_change", 0.9, {"flow": 4.5}),),
            default_mode="VA",
        ),
        _S(
            "oxygenator_clot_consumption",
            "Combined: consumptive circuit thrombosis with membrane-lung failure; oxygenator "
            "change at the end",
            BOTH,
            (Fault("circuit_thrombosis", 0.15, 0.5), Fault("oxygenator_failure", 0.3, 0.45)),
            (Intervention("oxygenator_change", 0.9),),
        ),
        _S(
            "low_heparin_pump_clot",
            "Combined: heparin effect falls out of range, then a pump-head thrombus forms",
            BOTH,
            (
                Fault("anticoagulation_drift", 0.1, 0.3, params={"direction": "low"}),
                Fault("pump_thrombosis", 0.4, 0.4),
            ),
        ),
        _S(
            "weaning_vv",
            "VV weaning: the native lungs recover over the run (function 0.35 → 0.85); the "
            "patient breathes spontaneously. FdO2 and sweep are stepped down; a first sweep-off "
            "trial at 25 % fails (SpO2 and PaO2 fall, PaCO2 and respiratory rate rise) and the "
            "sweep goes back on; a second at 75 % passes and the sweep stays off",
            ("VV",),
            (),
            WEANING_STEPS,
            patient={
                "native_lung": 0.35,
                "spontaneous": True,
                "vent_fio2": 0.4,
                "peep_cmh2o": 8.0,
                "driving_pressure_cmh2o": 10.0,
                "vent_rate_min": 16.0,
            },
            lung_course=LungCourse(0.85, 0.05, 0.6),
            ventilator_charted=True,
            # Sweep-off trials and low sweeps are not faults: scored as a fault-free control
            # (the circuit-gas detectors judge sweep-aware, surveillance/sweep.py).
        ),
        _S(
            "hypovolaemia_recirculation",
            "Combined VV: hypovolaemia with chattering, fluid bolus, then cannula migration",
            ("VV",),
            (Fault("access_insufficiency", 0.15, 0.25), Fault("recirculation", 0.55, 0.3)),
            (Intervention("fluid_bolus", 0.45),),
        ),
        _S(
            "control_ecpella",
            "Fault-free femoral VA with an Impella CP at P-8 (ECPELLA) and an arterial line",
            ("VA",),
            default_mode="VA",
            devices={"impella": "CP"},
        ),
        _S(
            "ecpella_impella_suction",
            "Femoral VA with an Impella CP at P-8 (ECPELLA): suction and malposition make the "
            "Impella flow fall below its P-level range; repositioned under echo",
            ("VA",),
            (Fault("impella_suction", 0.35, 0.08),),
            (Intervention("impella_reposition", 0.7),),
            default_mode="VA",
            devices={"impella": "CP"},
        ),
        _S(
            "ecpella_purge_obstruction",
            "ECPELLA (VA + Impella CP): the purge pressure climbs past 1,100 mmHg as the purge "
            "flow falls; the dextrose is lowered and the cassette replaced",
            ("VA",),
            (Fault("impella_purge_obstruction", 0.3, 0.15),),
            (Intervention("purge_change", 0.75),),
            default_mode="VA",
            devices={"impella": "CP"},
        ),
        _S(
            "va_lv_distension",
            "Femoral VA without an unloading device: the failing left ventricle stops opening "
            "the aortic valve and the arterial pulse pressure narrows (LV-unloading context)",
            ("VA",),
            (Fault("lv_distension", 0.3, 0.15),),
            default_mode="VA",
        ),
        _S(
            "air_entrainment",
            "Air drawn into the drainage limb (an open access line): the console's bubble "
            "detector stops the pump; flow falls to a residual fifth of the set flow (the "
            "simulator cannot hold a full stop) and the patient desaturates until the "
            "circuit is clamped, de-aired and restarted",
            BOTH,
            (Fault("air_entrainment", 0.3, 0.05),),
            evaluated=False,
            steady_state=False,
        ),
        _S(
            "power_failure",
            "Console power fails (mains and battery): flow falls to what a hand crank keeps "
            "(a fifth of the set flow) and the patient desaturates until the console is "
            "powered or replaced",
            BOTH,
            (Fault("power_failure", 0.3, 0.05),),
            evaluated=False,
            steady_state=False,
        ),
    ]
}


def list_scenarios() -> list[ScenarioInfo]:
    """The scenario library, in a stable order."""
    return [s.info for s in SCENARIOS.values()]


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        allowed = ", ".join(SCENARIOS)
        raise ValidationFailed(
            [FieldProblem("scenario", f"unknown scenario '{name}'; allowed: {allowed}", name)]
        ) from None

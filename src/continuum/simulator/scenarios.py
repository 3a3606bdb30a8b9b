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
class Scenario:
    name: str
    description: str
    modes: tuple[str, ...]
    faults: tuple[Fault, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    default_mode: str = "VV"
    patient: dict[str, float] = field(default_factory=dict)
    # devices beside the circuit: group → model, e.g. {"impella": "CP"} (simulator/devices.py)
    devices: dict[str, str] = field(default_factory=dict)

    @property
    def info(self) -> ScenarioInfo:
        return ScenarioInfo(
            self.name,
            self.description,
            self.modes,
            self.default_mode,
            tuple(f.kind for f in self.faults),
        )


BOTH = ("VV", "VA")

# Routine events in every run of a mode (controls included).
ROUTINE: dict[str, tuple[Intervention, ...]] = {
    "VV": (Intervention("sweep_change", 0.55, {"factor": 0.9}),),
    "VA": (Intervention("sweep_change", 0.55, {"factor": 0.9}),),
}

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

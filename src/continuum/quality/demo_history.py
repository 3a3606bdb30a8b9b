"""Demo history for the quality pages: six months of ended runs before the live ones.

About three dozen runs (respiratory VV, cardiac VA, a few ECPR), each with its referral and
signed decision (RESP or SAVE inputs in ``initiation_decision.score_inputs``, as the
initiation candidacy stores them), outcome, membrane lungs (some changed, planned or
urgent), anti-Xa laboratory values every 6 h against the run's target, daily rounds with
their participants (perfusion sometimes absent, less so in the later months: the re-audit
shows it), circuit checks per shift (a few shifts missed), transfusions, alerts with their
acknowledgement, adverse events (one corrected by an amendment) and decannulation records
(some checklists incomplete), plus two audits of circuit checks (before and after).

Rows are written in bulk (a few thousand, no per-minute observations) so the demo stays
quick. ``insert_run`` is public: the metrics tests build their small cohorts with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core.people import Patient, PatientIdentity
from continuum.core.record import Participation, RunTarget
from continuum.core.roles import Actor
from continuum.core.run_record import Circuit, Component, ModeSegment, Run
from continuum.initiation.models import InitiationDecision, Referral
from continuum.quality.adverse_event_record import AdverseEvent, AdverseEventAmendment
from continuum.quality.audit_record import ClinicalAudit
from continuum.quality.taxonomy import BY_CODE
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.rounds.transfusion import Transfusion
from continuum.weaning.models import Decannulation, WeaningTrial

H = timedelta(hours=1)


@dataclass
class HistoryRun:
    """One ended (or still running) run, times in hours after its start."""

    mrn: str
    name: str
    birth: date | None
    sex: str
    support_type: str
    mode: str
    started_at: datetime
    hours: float
    outcome: str | None  # None: still running
    ml_changes: list[tuple[float, str]] = field(default_factory=list)  # (hour, stop reason)
    anti_xa: list[tuple[float, float]] = field(default_factory=list)  # (hour, IU/mL)
    anti_xa_target: tuple[float, float] | None = (0.3, 0.5)
    round_perfusion: list[bool] = field(default_factory=list)  # one round a day
    check_hours: list[float] = field(default_factory=list)
    transfusions: list[tuple[float, str, float]] = field(default_factory=list)
    check_transfusions: dict[int, dict[str, float]] = field(default_factory=dict)
    alerts: list[tuple[float, float | None]] = field(default_factory=list)  # (hour, ack min)
    events: list[tuple[float, str, str, str]] = field(
        default_factory=list
    )  # hour, code, class, harm
    amend_code: dict[int, str] = field(default_factory=dict)  # event index → corrected code
    referral_min: float | None = None  # referral this many minutes before cannulation
    decision_min: float | None = None
    perfusion_at_decision: bool = True
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    decannulation_complete: bool | None = None  # None: no decannulation record
    weight: float = 75.0
    # weaning trials: (hour started, status, perfusion assessed)
    trials: list[tuple[float, str, bool]] = field(default_factory=list)
    # the demo's bedside charting: device makes, pre-ECLS gases, 4 h and 24 h values
    charted: bool = False
    diagnosis: str | None = None  # as written on the run, ICD-10 code first


def _at(run: HistoryRun, hour: float) -> datetime:
    return run.started_at + hour * H


def insert_run(db: Session, spec: HistoryRun, staff: dict[str, Actor]) -> int:
    """Write one run with all its records; returns the run id."""
    perf = staff["perfusionist"].staff_id
    phys = staff["physician"].staff_id
    nurse = staff["nurse"].staff_id
    coord = staff["coordinator"].staff_id
    patient = Patient(sex=spec.sex, weight_kg=spec.weight, height_cm=172)
    db.add(patient)
    db.flush()
    db.add(
        PatientIdentity(patient_id=patient.id, mrn=spec.mrn, name=spec.name, birth_date=spec.birth)
    )
    end = _at(spec, spec.hours)
    ended = spec.outcome is not None
    run = Run(
        patient_id=patient.id,
        support_type=spec.support_type,
        status="ended" if ended else "active",
        started_at=spec.started_at,
        ended_at=end if ended else None,
        outcome=spec.outcome,
        stop_reason="decannulated" if ended else None,
        diagnosis=spec.diagnosis,
        location="ICU archive",
        created_by=phys,
    )
    db.add(run)
    db.flush()
    circuit = Circuit(run_id=run.id, started_at=spec.started_at, ended_at=end if ended else None)
    db.add(circuit)
    db.flush()
    db.add(
        ModeSegment(
            run_id=run.id,
            circuit_id=circuit.id,
            mode=spec.mode,
            started_at=spec.started_at,
            ended_at=end if ended else None,
        )
    )
    stop = "end_of_run" if ended else None
    for kind, model in (("console", "Cardiohelp-i"), ("pump", "Cardiohelp HLS module")):
        db.add(
            Component(
                run_id=run.id, circuit_id=circuit.id, kind=kind,
                make="Getinge" if spec.charted else None, model=model if spec.charted else None,
                started_at=spec.started_at, stopped_at=end if ended else None, stop_reason=stop,
            )
        )  # fmt: skip
    lung_start = spec.started_at
    previous: int | None = None
    lungs: list[int] = []
    for hour, reason in [*sorted(spec.ml_changes), (None, None)]:
        stopped = _at(spec, hour) if hour is not None else (end if ended else None)
        lung = Component(
            run_id=run.id, circuit_id=circuit.id, kind="membrane_lung", make="Getinge",
            model="HLS 7.0", started_at=lung_start, stopped_at=stopped,
            stop_reason=reason if hour is not None else stop, replaces_id=previous,
            recorded_by=perf,
        )  # fmt: skip
        db.add(lung)
        db.flush()
        lungs.append(lung.id)
        previous = lung.id
        if stopped is not None:
            lung_start = stopped
    if spec.anti_xa_target:
        db.add(
            RunTarget(
                run_id=run.id, code="anti_xa", low=spec.anti_xa_target[0],
                high=spec.anti_xa_target[1], unit="IU/mL", set_at=spec.started_at, set_by=phys,
                source="plan",
            )
        )  # fmt: skip
    if spec.anti_xa:
        from continuum.core.observation_service import bulk_insert

        bulk_insert(
            db,
            [
                {
                    "run_id": run.id, "code": "anti_xa", "time": _at(spec, h), "value": v,
                    "unit": "IU/mL", "source": "lab", "status": "final", "entered_by": None,
                    "recorded_at": _at(spec, h), "ingest_ref": None,
                }
                for h, v in spec.anti_xa
            ],
        )  # fmt: skip
    if spec.charted:
        _charted(db, spec, run)
    _rounds(db, spec, run, perf, phys, nurse)
    checks = [
        {
            "run_id": run.id, "checked_at": _at(spec, h),
            "shift": "day" if 6 <= _at(spec, h).hour < 18 else "night",
            "inspection": {}, "readings": {}, "transfusions": spec.check_transfusions.get(i, {}),
            "findings": None, "checked_by": perf, "recorded_at": _at(spec, h),
        }
        for i, h in enumerate(spec.check_hours)
    ]  # fmt: skip
    if checks:
        db.execute(insert(CircuitCheck), checks)
    for hour, product, units in spec.transfusions:
        db.add(
            Transfusion(
                run_id=run.id, product=product, units=units, given_at=_at(spec, hour),
                reason="Hb below the run's threshold", recorded_by=nurse,
                recorded_at=_at(spec, hour),
            )
        )  # fmt: skip
    _alerts(db, spec, run, staff)
    _events(db, spec, run, lungs, nurse, staff)
    _initiation(db, spec, run, perf, phys, coord)
    _trials(db, spec, run, perf, phys)
    if ended and spec.decannulation_complete is not None:
        complete = spec.decannulation_complete
        db.add(
            Decannulation(
                run_id=run.id, no_trial_reason="history record", decannulated_at=end,
                anticoagulation_stopped_at=end - 2 * H,
                coagulation=[{"code": "platelets", "value": 140}] if complete else [],
                blood_products_available=True, positioning="supine",
                closure_technique="purse-string and manual pressure", haemostasis_minutes=20,
                limb_perfusion="warm, pulses present", outcome=spec.outcome,
                stop_reason="recovered", created_by=phys, physician_id=phys,
                physician_name="Dr Maria Rossi", physician_signed_at=end + H,
                perfusionist_id=perf if complete else None,
                perfusionist_name="Sam Okafor" if complete else None,
                perfusionist_signed_at=end + H if complete else None,
            )
        )  # fmt: skip
    db.flush()
    return run.id


def _charted(db: Session, spec: HistoryRun, run: Run) -> None:
    """What the bedside charted at 4 h and 24 h (blood flow; gases, ventilator and blood
    pressure at 24 h), as the registry's snapshots read them. Values from the run's own
    random stream, so the rest of the history is unchanged."""
    from continuum.core.observation_service import bulk_insert

    rng = random.Random(spec.mrn)
    va = spec.mode != "VV"
    at24 = {
        "blood_flow": (round(rng.uniform(3.6, 4.9), 2), "L/min"),
        "ph": (round(rng.uniform(7.35, 7.44), 2), "1"),
        "paco2": (round(rng.uniform(37, 46)), "mmHg"),
        "pao2": (round(rng.uniform(95, 180) if va else rng.uniform(62, 90)), "mmHg"),
        "sao2": (round(rng.uniform(95, 99) if va else rng.uniform(89, 96)), "%"),
        "lactate": (round(rng.uniform(1.0, 2.6), 1), "mmol/L"),
        "vent_fio2": (rng.choice((0.3, 0.35, 0.4, 0.5)), "1"),
        "peep": (rng.choice((8, 10, 10, 12)), "cmH2O"),
        "resp_rate": (rng.choice((10, 10, 12, 14)), "/min"),
        "map": (round(rng.uniform(65, 82)), "mmHg"),
    }
    rows = [(4.0, "blood_flow", round(rng.uniform(3.5, 4.8), 2), "L/min")]
    rows += [(24.0, code, value, unit) for code, (value, unit) in at24.items()]
    bulk_insert(
        db,
        [
            {
                "run_id": run.id, "code": code, "time": _at(spec, h), "value": float(value),
                "unit": unit, "source": "lab" if code in ("ph", "paco2", "pao2", "sao2",
                "lactate") else "hl7", "status": "final", "entered_by": None,
                "recorded_at": _at(spec, h), "ingest_ref": None,
            }
            for h, code, value, unit in rows
            if h < spec.hours
        ],
    )  # fmt: skip


def _pre_ecls(spec: HistoryRun) -> dict[str, Any]:
    """The candidate's gases and ventilator before ECLS: a VV candidate's in the EOLIA
    criteria (which have no PaO2 of their own: it goes with the last gas before ECLS), a VA
    candidate's (no EOLIA criteria) as the last arterial gas before ECLS. Only inputs the
    candidacy form takes (``candidacy.trial_input_problems``)."""
    if not spec.charted:
        return {}
    rng = random.Random(f"pre-{spec.mrn}")
    if spec.mode != "VV":
        return {"pre_ecls": _va_gas(rng, spec.support_type == "ecpr")}
    pao2 = round(rng.uniform(48, 68))
    return {
        "eolia": {
            "ventilation_days": round(rng.uniform(0.5, 5), 1), "fio2": 1.0,
            "peep_cmh2o": rng.choice((12, 14, 16, 18)), "pf_ratio_mmhg": pao2,
            "pf_hours": rng.choice((3, 4, 6, 7)),
            "ph": round(rng.uniform(7.12, 7.27), 2), "paco2_mmhg": round(rng.uniform(58, 85)),
            "hypercapnia_hours": rng.choice((3, 4, 6)),
        },
        "pre_ecls": {"pao2_mmhg": pao2},
    }  # fmt: skip


def _va_gas(rng: random.Random, arrest: bool) -> dict[str, float]:
    """Cardiogenic shock: metabolic acidosis, ventilated with PEEP 5–10 for pulmonary
    oedema; during CPR (ECPR): deep mixed acidosis, hypercapnia, FiO2 1.0."""
    if arrest:
        return {
            "ph": round(rng.uniform(6.86, 7.12), 2), "paco2_mmhg": round(rng.uniform(52, 84)),
            "pao2_mmhg": round(rng.uniform(48, 140)), "fio2": 1.0,
            "peep_cmh2o": rng.choice((5.0, 5.0, 6.0)),
        }  # fmt: skip
    return {
        "ph": round(rng.uniform(7.08, 7.30), 2), "paco2_mmhg": round(rng.uniform(30, 48)),
        "pao2_mmhg": round(rng.uniform(64, 190)), "fio2": rng.choice((0.5, 0.6, 0.8, 1.0)),
        "peep_cmh2o": rng.choice((5.0, 6.0, 8.0, 10.0)),
    }  # fmt: skip


# The primary diagnosis as the physician writes it on the run, ICD-10 code first, by the
# diagnosis group of the candidacy score (RESP for VV, SAVE for VA; ECPR runs their own).
DIAGNOSES: dict[tuple[str, str], tuple[str, ...]] = {
    ("pulmonary", "viral_pneumonia"): (
        "J10.0 Influenza A pneumonia with ARDS", "U07.1 COVID-19 pneumonia with ARDS",
        "J12.1 Respiratory syncytial virus pneumonia with ARDS",
    ),
    ("pulmonary", "bacterial_pneumonia"): (
        "J13 Pneumococcal pneumonia with ARDS", "J15.2 Staphylococcal pneumonia with ARDS",
        "J15.1 Pseudomonas pneumonia with ARDS",
    ),
    ("pulmonary", "aspiration_pneumonitis"): ("J69.0 Aspiration pneumonitis with ARDS",),
    ("cardiac", "myocarditis"): ("I40.0 Fulminant viral myocarditis, cardiogenic shock",),
    ("cardiac", "refractory_vt_vf"): (
        "I47.2 Electrical storm: refractory ventricular tachycardia, cardiogenic shock",
    ),
    ("cardiac", "other"): (
        "I21.0 Acute anterior STEMI with cardiogenic shock",
        "I42.0 Dilated cardiomyopathy, acute decompensation with cardiogenic shock",
        "I26.0 Massive pulmonary embolism with acute cor pulmonale",
    ),
    ("ecpr", "myocarditis"): ("I40.0 Fulminant viral myocarditis, refractory cardiac arrest",),
    ("ecpr", "refractory_vt_vf"): ("I49.0 Refractory ventricular fibrillation arrest",),
    ("ecpr", "other"): (
        "I21.0 Acute anterior STEMI, refractory cardiac arrest",
        "I26.0 Massive pulmonary embolism, cardiac arrest",
    ),
}  # fmt: skip


def _diagnosis(spec: HistoryRun) -> str:
    inputs = spec.scores.get("resp") or spec.scores.get("save") or {}
    group = inputs.get("diagnosis") or (inputs.get("diagnoses") or ["other"])[0]
    return random.Random(f"dx-{spec.mrn}").choice(DIAGNOSES[spec.support_type, group])


def _trials(db: Session, spec: HistoryRun, run: Run, perf: int | None, phys: int | None) -> None:
    kind = "sweep_off" if spec.mode == "VV" else "va_flow_reduction"
    for hour, status, assessed in spec.trials:
        start = _at(spec, hour)
        reason = {
            "passed": "Criteria met throughout the trial",
            "failed": "PaCO2 rose above the limit; support resumed",
            "aborted": "Stopped early: flow fell below the circuit's safe minimum at low flow",
        }[status]
        db.add(
            WeaningTrial(
                run_id=run.id, kind=kind, status=status, started_at=start,
                ended_at=start + (3 if status == "passed" else 1) * H, started_by=phys,
                ended_by=phys, planned_minutes=180, outcome_reason=reason,
                perfusion_assessment="Flow safe at the trial setting; anti-Xa in range"
                if assessed else None,
                perfusion_flow_safe=True if assessed else None,
                perfusion_anticoagulation_ok=True if assessed else None,
                perfusion_by=perf if assessed else None,
                perfusion_name="Sam Okafor (perfusionist)" if assessed else None,
                perfusion_at=start + 0.5 * H if assessed else None,
            )
        )  # fmt: skip


def _rounds(
    db: Session, spec: HistoryRun, run: Run, perf: int | None, phys: int | None,
    nurse: int | None,
) -> None:  # fmt: skip
    for day, perfusion in enumerate(spec.round_perfusion):
        held = spec.started_at + timedelta(days=day, hours=10)
        if held > _at(spec, spec.hours):
            break
        row = RoundRecord(
            run_id=run.id, round_date=held.date(), held_at=held, status="signed",
            problems="Daily review", alerts_reviewed=[], therapy_review={}, goals={},
            created_by=phys, signed_by=phys, signed_at=held + H,
        )  # fmt: skip
        db.add(row)
        db.flush()
        people = [(phys, "intensive_care"), (nurse, "nursing")]
        if perfusion:
            people.append((perf, "perfusion"))
        db.execute(
            insert(Participation),
            [
                {
                    "record_type": "round", "record_id": row.id, "run_id": run.id,
                    "staff_id": who, "discipline": disc, "how": "present", "at": held,
                    "entered_by": phys,
                }
                for who, disc in people
                if who is not None
            ],
        )  # fmt: skip


def _alerts(db: Session, spec: HistoryRun, run: Run, staff: dict[str, Actor]) -> None:
    perf = staff["perfusionist"]
    for hour, ack in spec.alerts:
        raised = _at(spec, hour)
        acked = raised + timedelta(minutes=ack) if ack is not None else None
        alert = CircuitAlert(
            run_id=run.id, detector="oxygenator_delta_p", severity="warning",
            peak_severity="warning", status="resolved", raised_at=raised,
            cleared_at=raised + 2 * H, summary="Membrane-lung pressure drop rising",
            evidence={}, created_at=raised, updated_at=raised + 3 * H,
            acknowledged_by=perf.staff_id if acked else None, acknowledged_at=acked,
            resolved_by=perf.staff_id, resolved_at=raised + 3 * H, resolve_note="reviewed",
        )  # fmt: skip
        db.add(alert)
        db.flush()
        history: list[tuple[str, datetime, int | None]] = [("raised", raised, None)]
        if acked is not None:
            history.append(("acknowledged", acked, perf.staff_id))
        history.append(("resolved", raised + 3 * H, perf.staff_id))
        db.execute(
            insert(AlertEvent),
            [
                {
                    "alert_id": alert.id, "run_id": run.id, "kind": kind, "severity": "warning",
                    "at": at, "by_id": by, "by_name": perf.name if by else "surveillance",
                }
                for kind, at, by in history
            ],
        )  # fmt: skip


def _events(
    db: Session, spec: HistoryRun, run: Run, lungs: list[int], nurse: int | None,
    staff: dict[str, Actor],
) -> None:  # fmt: skip
    qa = staff.get("qa_lead")
    for i, (hour, code, klass, harm) in enumerate(spec.events):
        entry = BY_CODE[code]
        at = _at(spec, hour)
        event = AdverseEvent(
            run_id=run.id, patient_id=run.patient_id, code=code, category=entry.category,
            event_class=klass, harm=harm, occurred_at=at, time_estimated=False,
            component_id=lungs[0] if entry.part == "membrane_lung" and lungs else None,
            detected_by="bedside", description=entry.label, recorded_by=nurse,
            recorded_at=at + H, version=1,
        )  # fmt: skip
        db.add(event)
        db.flush()
        if i in spec.amend_code:
            db.add(
                AdverseEventAmendment(
                    event_id=event.id, field="code", value=spec.amend_code[i],
                    reason="Corrected at review: imaging showed the true site", kind="correction",
                    by=qa.staff_id if qa else None, at=at + 24 * H,
                )
            )  # fmt: skip
            event.version = 2


def _initiation(
    db: Session, spec: HistoryRun, run: Run, perf: int | None, phys: int | None,
    coord: int | None,
) -> None:  # fmt: skip
    if spec.referral_min is None:
        return
    referred = spec.started_at - timedelta(minutes=spec.referral_min)
    decided = spec.started_at - timedelta(minutes=spec.decision_min or 0)
    referral = Referral(
        patient_id=run.patient_id, referring_hospital="Regional hospital (archive)",
        referring_clinician="Referring intensivist", referred_at=referred,
        support_type=spec.support_type, urgency="emergency" if spec.support_type == "ecpr"
        else "urgent", clinical_picture="Archived referral", status="accepted",
        created_by=coord, created_at=referred,
    )  # fmt: skip
    db.add(referral)
    db.flush()
    decision = InitiationDecision(
        referral_id=referral.id, sequence=1, checklist={}, score_inputs=spec.scores,
        trial_inputs=_pre_ecls(spec), physiology={}, chosen_mode=spec.mode, plan={},
        outcome="accept",
        reasons="Criteria met, no contraindication", decided_at=decided, decided_by=phys,
        physician_signed_by=phys, physician_signed_at=decided,
        perfusionist_signed_by=perf if spec.perfusion_at_decision else None,
        perfusionist_signed_at=decided if spec.perfusion_at_decision else None,
        missing_signoff_reason=None if spec.perfusion_at_decision else "perfusionist in theatre",
        run_id=run.id, updated_at=decided,
    )  # fmt: skip
    db.add(decision)
    db.flush()


# --- the demo cohort --------------------------------------------------------------------

NAMES = (
    "Noah Berg", "Leila Ahmadi", "Marco Vitale", "Ines Duarte", "Kwame Mensah", "Yuki Sato",
    "Fatima Zahra", "Pieter de Vries", "Chloe Martin", "Omar Haddad", "Sara Lind",
    "Diego Ramos", "Anna Kowalska", "Ravi Patel", "Emma Fischer", "Jonas Weber", "Mei Chen",
    "Lucas Moreau", "Aylin Demir", "Tomás Silva", "Nadia Petrov", "Ben Carter",
    "Zara Okoye", "Hugo Lambert", "Ivy Nguyen", "Max Novak", "Lea Horvat", "Adam Nowak",
    "Rosa Costa", "Felix Braun", "Maya Cohen", "Samuel Reed", "Elif Yilmaz", "Oscar Holm",
    "Nina Varga", "Theo Rossi",
)  # fmt: skip
URGENT = ("oxygenator_failure", "rising_transmembrane_gradient", "thrombus")
PLANNED = ("end_of_product_life", "protocol")
EVENT_CODES = (
    ("haem_peripheral_cannula_site", "incident", "moderate"),
    ("haem_gi", "incident", "moderate"),
    ("mech_ml_clot", "incident", "mild"),
    ("mech_air", "near_miss", "none"),
    ("neuro_parenchymal_haemorrhage", "incident", "severe"),
    ("renal_rrt", "incident", "moderate"),
    ("limb_ischaemia", "incident", "moderate"),
    ("metab_haemolysis_moderate", "incident", "mild"),
    ("inf_bloodstream", "incident", "moderate"),
    ("cv_arrhythmia", "incident", "mild"),
)


def _resp(rng: random.Random, age: int) -> dict[str, Any]:
    return {
        "age_years": age,
        "mechanical_ventilation_hours": rng.choice((20, 40, 60, 100, 150)),
        "diagnosis": rng.choice(
            ("viral_pneumonia", "bacterial_pneumonia", "aspiration_pneumonitis")
        ),
        "paco2_mmhg": rng.choice((55, 68, 80)),
        "peak_inspiratory_pressure_cmh2o": rng.choice((30, 36, 44)),
        "neuromuscular_blockade": rng.random() < 0.6,
    }


def _save(rng: random.Random, age: int, weight: float) -> dict[str, Any]:
    return {
        "age_years": age,
        "weight_kg": weight,
        "diagnoses": [rng.choice(("myocarditis", "refractory_vt_vf", "other"))],
        "cardiac_arrest": rng.random() < 0.3,
        "intubation_hours": rng.choice((2, 4, 12, 40)),
        "peak_inspiratory_pressure_cmh2o": rng.choice((18, 22, 28)),
        "diastolic_bp_mmhg": rng.choice((35, 38, 45)),
        "pulse_pressure_mmhg": rng.choice((15, 18, 25)),
        "bicarbonate_mmol_l": rng.choice((13, 17, 21)),
    }


def cohort(now: datetime, count: int = 36, seed: int = 18) -> list[HistoryRun]:
    """A deterministic six-month history, every run ended three weeks before ``now`` (the
    live demo runs start after it). Each run draws from its own random streams, and its
    circuit-check shifts (how many depends on the hour it starts) from one more, so the
    history is the same whatever the hour the demo is built."""
    trial_rng = random.Random(seed + 1)  # its own stream: the rest of the history is unchanged
    runs: list[HistoryRun] = []
    first = (now - timedelta(days=220)).replace(minute=0, second=0, microsecond=0)
    for i in range(count):
        rng = random.Random(seed * 1000 + i)
        shifts = random.Random(f"checks-{seed}-{i}")
        start = first + timedelta(
            days=i * 180 / count + rng.uniform(0, 3), hours=rng.randint(0, 23)
        )
        late = i >= count // 2  # the second three months: after the QI actions
        kind = rng.random()
        support, mode = ("pulmonary", "VV") if kind < 0.55 else (
            ("cardiac", "VA") if kind < 0.9 else ("ecpr", "VA")
        )  # fmt: skip
        age = rng.randint(19, 72)
        if i in (5, 22):
            age = 15  # two paediatric runs
        hours = rng.uniform(72, 340) if support == "pulmonary" else rng.uniform(48, 200)
        p_survive = {"pulmonary": 0.68, "cardiac": 0.5, "ecpr": 0.32}[support]
        survived = rng.random() < p_survive
        outcome = (
            rng.choice(("weaned_recovered", "weaned_recovered", "bridged_to_transplant"))
            if survived else rng.choice(("died_on_ecmo", "died_on_ecmo", "withdrawn"))
        )  # fmt: skip
        birth = (start - timedelta(days=int(age * 365.25 + rng.randint(1, 300)))).date()
        weight = round(rng.uniform(55, 105), 1)
        spec = HistoryRun(
            mrn=f"HX{2000 + i}", name=NAMES[i % len(NAMES)], birth=birth,
            sex=rng.choice(("female", "male")), support_type=support, mode=mode,
            started_at=start, hours=round(hours, 1), outcome=outcome, weight=weight,
            charted=True,
        )  # fmt: skip
        # Membrane lungs: a few changed, planned or urgent.
        if rng.random() < 0.3 and hours > 100:
            reason = rng.choice(URGENT) if rng.random() < (0.4 if late else 0.65) else (
                rng.choice(PLANNED)
            )  # fmt: skip
            spec.ml_changes.append((round(hours * rng.uniform(0.35, 0.7), 1), reason))
        # Anti-Xa every 6 h, drifting around the range (better controlled later).
        level = rng.uniform(0.3, 0.5)
        spread = 0.09 if late else 0.13
        for h in range(2, int(hours), 6):
            level = min(1.0, max(0.08, level + rng.gauss(0, spread) + (0.4 - level) * 0.3))
            spec.anti_xa.append((float(h), round(level, 2)))
        # Rounds daily; perfusion present 60 % early, 92 % late.
        spec.round_perfusion = [
            rng.random() < (0.92 if late else 0.6) for _ in range(int(hours // 24) + 1)
        ]
        # Circuit checks twice a day (09:00 and 21:00 UTC-ish), some shifts missed early.
        miss = 0.04 if late else 0.15
        t = 9 - start.hour if start.hour <= 9 else 21 - start.hour
        t = t if t > 0 else t + 12
        while t < hours:
            if shifts.random() > miss:
                spec.check_hours.append(float(t) + shifts.uniform(-0.5, 0.5))
            t += 12
        if spec.check_hours and rng.random() < 0.4:
            spec.check_transfusions[min(2, len(spec.check_hours) - 1)] = {"red_cells": 1}
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            spec.transfusions.append(
                (round(rng.uniform(4, hours - 2), 1), rng.choice(("red_cells", "platelets")), 1.0)
            )
        for _ in range(rng.choice((0, 1, 1, 2))):
            ack = (
                rng.choice((2, 4, 6, 9, 15, 25, None)) if not late else rng.choice((1, 2, 3, 5, 8))
            )
            spec.alerts.append((round(rng.uniform(2, hours - 4), 1), ack))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            code, klass, harm = rng.choice(EVENT_CODES)
            spec.events.append((round(rng.uniform(3, hours - 3), 1), code, klass, harm))
        if i == 3 and spec.events:
            spec.amend_code[0] = "haem_surgical_site"
        spec.referral_min = rng.uniform(90, 600) if support != "ecpr" else rng.uniform(25, 70)
        spec.decision_min = spec.referral_min * rng.uniform(0.15, 0.5)
        spec.perfusion_at_decision = rng.random() < (0.95 if late else 0.7)
        spec.scores = {"resp": _resp(rng, age)} if support == "pulmonary" else (
            {"save": _save(rng, age, weight)}
        )  # fmt: skip
        spec.diagnosis = _diagnosis(spec)
        if survived:
            spec.decannulation_complete = rng.random() < (0.9 if late else 0.6)
        if outcome == "weaned_recovered":
            spec.trials = _weaning_trials(trial_rng, hours, late)
        runs.append(spec)
    return runs


def _weaning_trials(rng: random.Random, hours: float, late: bool) -> list[tuple[float, str, bool]]:
    """A weaned run's trials: sometimes one that failed or was aborted, then the one that
    passed, 6 h before decannulation. Perfusion assessed 50 % early, 90 % late; in this
    made-up history a trial without the assessment is aborted more often (association)."""
    out: list[tuple[float, str, bool]] = []
    assessed = rng.random() < (0.9 if late else 0.5)
    if rng.random() < (0.2 if assessed else 0.45):
        status = "aborted" if rng.random() < (0.3 if assessed else 0.7) else "failed"
        out.append((round(hours - rng.uniform(30, 40), 1), status, assessed))
        assessed = rng.random() < (0.9 if late else 0.5)
    out.append((round(hours - 6, 1), "passed", assessed))
    return out


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    specs = cohort(now)
    for spec in specs:
        insert_run(db, spec, staff)
    qa = staff.get("qa_lead")
    middle = specs[len(specs) // 2].started_at
    first = specs[0].started_at
    last = max(s.started_at + timedelta(hours=s.hours) for s in specs) + H
    for title, start, end in (
        ("Circuit checks every shift — baseline", first, middle),
        ("Circuit checks every shift — re-audit after the shift handover checklist", middle, last),
    ):
        db.add(
            ClinicalAudit(
                title=title, criterion="circuit_check_every_shift", standard_pct=95,
                period_start=start, period_end=end, created_by=qa.staff_id if qa else None,
                note="Standard: a documented perfusion circuit check in every 12-hour shift.",
            )
        )  # fmt: skip
    for title, start, end in (
        ("Perfusion at rounds — baseline", first, middle),
        ("Perfusion at rounds — re-audit after adding perfusion to the round rota", middle, last),
    ):
        db.add(
            ClinicalAudit(
                title=title, criterion="perfusion_at_rounds", standard_pct=90,
                period_start=start, period_end=end, created_by=qa.staff_id if qa else None,
            )
        )  # fmt: skip
    db.flush()

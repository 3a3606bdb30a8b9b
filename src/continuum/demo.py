"""The demo programme: staff of every discipline and eight patients in different phases,
with simulated console data (some runs with faults in progress)."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from sqlalchemy.orm import Session

from continuum import support_configuration, vocabulary
from continuum.config import Settings
from continuum.core import (
    accounts,
    clinical_backfill,
    clinical_event,
    observation_service,
    participation_service,
    run_service,
)
from continuum.core.people import Patient, PatientIdentity
from continuum.core.roles import SYSTEM, Actor
from continuum.core.run_record import Run
from continuum.core.schemas import (
    CannulaCreate,
    ComponentCreate,
    ModeChange,
    ParticipantIn,
    RunCreate,
    RunEnd,
)
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.domains import DEMO_MODULES
from continuum.migrate import upgrade

DEMO_PASSWORD = "continuum-demo"

STAFF = [  # name, discipline, role, username
    ("Sam Okafor", "perfusion", "perfusionist", "perfusionist"),
    ("Lena Park", "perfusion", "perfusionist", None),
    ("Dr Maria Rossi", "intensive_care", "physician", "physician"),
    ("Dr James Whitfield", "cardiac_surgery", "physician", None),
    ("Dr Aisha Rahman", "cardiology", "physician", None),
    ("Dr Tom Becker", "anaesthesia", "physician", None),
    ("Grace Mwangi", "nursing", "nurse", "nurse"),
    ("Olu Adeyemi", "physiotherapy", "nurse", None),
    ("Hannah Liu", "pharmacy", "nurse", None),
    ("Priya Nair", "intensive_care", "coordinator", "coordinator"),
    ("Daniel Costa", "other", "qa_lead", "qalead"),
    ("Dr Elena Petrova", "other", "researcher", "researcher"),
    ("IT Service Desk", "other", "admin", "admin"),
    ("Device gateway", "other", "integration", None),
    ("Dr Sofia Lindqvist", "intensive_care", "physician_lead", "physicianlead"),
]


@dataclass(frozen=True)
class DemoCase:
    mrn: str
    name: str
    birth: date
    sex: str
    height: float
    weight: float
    support: str | None  # None: referred, no run yet
    mode: str = "VV"
    days_ago: float = 1.0
    scenario: str = "control_vv"
    sim_hours: float = 24.0
    outcome: str | None = None
    ended_days_ago: float | None = None
    weaning: bool = False
    later_mode: tuple[str, float, str] | None = None
    oxygenator_change_days_ago: float | None = None
    indication: str = ""
    bed: str = "ICU"
    # Share of the scenario simulated (1: all of it). Below 1 the record ends before the
    # scenario's own intervention (the failing oxygenator is still failing now).
    scenario_share: float = 1.0
    # (minutes before the end, sweep L/min from then on): the weaning trial's sweep, so the
    # console data the trial chart shows matches the trial's steps (weaning/demo.py).
    sweep_plan: tuple[tuple[float, float], ...] = ()
    # Bedside values entered by the nurse: (code, value, hours before the end).
    bedside: tuple[tuple[str, float, float], ...] = ()
    # minutes before the demo starts that this run's bedside console stopped sending (its
    # last hour of flow and pump speed came from the console): shows the feed-health finding
    console_silent_min: float | None = None
    # the primary diagnosis as the physician writes it on the run, ICD-10 code first
    diagnosis: str | None = None


def _vent(
    fio2: float, peep: float, plateau: float, hours: float
) -> tuple[tuple[str, float, float], ...]:
    return (("vent_fio2", fio2, hours), ("peep", peep, hours), ("plateau_pressure", plateau, hours))


CASES = [
    DemoCase(
        "MRN100231",
        "Amira Haddad",
        date(1986, 3, 14),
        "female",
        165,
        70,
        None,
        indication="Severe ARDS (influenza A), referred from a district hospital",
    ),
    DemoCase(
        "MRN100245",
        "John Carter",
        date(1979, 7, 2),
        "male",
        182,
        94,
        "pulmonary",
        "VV",
        1.0,
        "control_vv",
        22,
        indication="Influenza A ARDS, PaO2/FiO2 62 on PEEP 14",
        diagnosis="J10.0 Influenza A pneumonia with ARDS",
        bed="ICU 1",
        bedside=(*_vent(0.5, 12, 26, 1), ("fluid_balance_24h", 1450, 2)),
        console_silent_min=12,
    ),
    DemoCase(
        "MRN100262",
        "Sofia Martins",
        date(1991, 11, 23),
        "female",
        168,
        64,
        "pulmonary",
        "VV",
        3.0,
        "oxygenator_failure",
        60,
        indication="COVID-19 ARDS",
        diagnosis="U07.1 COVID-19 pneumonia with ARDS",
        bed="ICU 2",
        bedside=(
            *_vent(0.4, 10, 24, 2),
            ("norepinephrine", 0.05, 1),
            ("fluid_balance_24h", -600, 3),
        ),
        # The scenario changes the oxygenator at 88 % of its course: the demo stops at 85 %,
        # so the membrane lung is failing now and no change is recorded.
        scenario_share=0.85,
    ),
    DemoCase(
        "MRN100288",
        "Ahmed Saleh",
        date(1968, 1, 9),
        "male",
        175,
        88,
        "cardiac",
        "VA",
        6.0,
        "control_va",
        48,
        later_mode=("VA+Impella", 5.0, "LV distension on echo: Impella CP for unloading"),
        indication="Fulminant myocarditis, cardiogenic shock",
        diagnosis="I40.0 Fulminant viral myocarditis, cardiogenic shock",
        bed="CCU 4",
        bedside=(
            *_vent(0.4, 8, 20, 6),  # not charted since the morning: stale on the board
            ("dobutamine", 5, 1),
            ("norepinephrine", 0.12, 1),
            ("fluid_balance_24h", 300, 2),
        ),
    ),
    DemoCase(
        "MRN100297",
        "Chen Wei",
        date(1983, 5, 30),
        "male",
        170,
        72,
        "pulmonary",
        "VV",
        12.0,
        "control_vv",
        24,
        weaning=True,
        oxygenator_change_days_ago=7.0,
        indication="Aspiration pneumonitis",
        diagnosis="J69.0 Aspiration pneumonitis with ARDS",
        bed="ICU 5",
        bedside=(("fluid_balance_24h", -900, 2),),
        # Weaned to 2 L/min before the trial (3 h ago); the sweep is turned off 10 min into
        # it (2 h 20 min ago, weaning/demo.py), on the console a minute or two before the
        # step is written down.
        sweep_plan=((180.0, 2.0), (142.0, 0.0)),
    ),
    DemoCase(
        "MRN100305",
        "Ingrid Olsen",
        date(1974, 9, 18),
        "female",
        160,
        58,
        "ecpr",
        "VA",
        2.0,
        "hemolysis",
        40,
        indication="Refractory VF arrest, ECPR in the cath lab",
        diagnosis="I21.0 Acute anterior STEMI, refractory VF arrest",
        bed="CCU 2",
        bedside=(
            *_vent(0.7, 10, 30, 1),
            ("epinephrine", 0.08, 1),
            ("norepinephrine", 0.2, 1),
            ("vasopressin", 0.0004, 1),
            ("fluid_balance_24h", 2300, 2),
        ),
    ),
    DemoCase(
        "MRN100311",
        "Peter Novak",
        date(1962, 2, 11),
        "male",
        178,
        85,
        "pulmonary",
        "VV",
        20.0,
        "control_vv",
        12,
        outcome="weaned_recovered",
        ended_days_ago=4.0,
        indication="Bacterial pneumonia",
        diagnosis="J13 Pneumococcal pneumonia with ARDS",
        bed="ICU 3",
    ),
    DemoCase(
        "MRN100327",
        "Lucia Gomez",
        date(1957, 12, 5),
        "female",
        158,
        77,
        "cardiac",
        "VA",
        9.0,
        "control_va",
        12,
        outcome="died_on_ecmo",
        ended_days_ago=3.0,
        indication="Post-cardiotomy shock",
        diagnosis="I97.1 Post-cardiotomy cardiogenic shock after aortic valve replacement",
        bed="CTICU 1",
    ),
]


def demo_settings() -> Settings:
    """Demo mode; the embedded data/continuum-demo.db unless CONTINUUM_DATABASE_URL is set."""
    base = Settings(demo=True)
    if "CONTINUUM_DATABASE_URL" in os.environ:
        return base
    url = f"sqlite:///{(base.data_dir / 'continuum-demo.db').as_posix()}"
    return base.model_copy(update={"database_url": url})


def build(
    settings: Settings,
    reuse: bool = False,
    console: Console | None = None,
    now: datetime | None = None,
) -> None:
    """Create the database (fresh unless reuse) and fill it with the demo programme."""
    console = console or Console()
    if settings.is_sqlite and not reuse:
        path = Path(settings.database_url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    # The demo back-dates its rows after the services wrote them: its clinical events come
    # from the back-fill at the end, with the records' clinical times.
    factory.configure(info={clinical_event.DEFER: True})
    with unit_of_work(factory) as db:
        if reuse and accounts.list_staff(db):
            console.print("Reusing the existing demo database.")
            print_logins(console)
            return
    now = now or utcnow()
    with unit_of_work(factory) as db:
        staff = _staff(db)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Simulating the demo programme", total=len(CASES))
        for i, case in enumerate(CASES):
            with unit_of_work(factory) as db:
                _case(db, case, staff, now, seed=100 + i)
            progress.advance(task)
    for name in DEMO_MODULES:
        with unit_of_work(factory) as db:
            importlib.import_module(name).add_demo_data(db, staff, now)
    with unit_of_work(factory) as db:
        clinical_backfill.backfill(db.connection())
    console.print(f"Demo programme ready in {settings.database_url}")
    print_logins(console)


def print_logins(console: Console) -> None:
    console.print(f"\nDemo logins (password for all: [bold]{DEMO_PASSWORD}[/]):")
    for name, _disc, role, username in STAFF:
        if username:
            console.print(f"  {role:<14} {username:<13} ({name})")


def _staff(db: Session) -> dict[str, Actor]:
    actors: dict[str, Actor] = {}
    for name, discipline, role, username in STAFF:
        row = accounts.create_staff(
            db,
            SYSTEM,
            accounts.StaffCreate(
                name=name,
                discipline=discipline,
                role=role,
                username=username,
                password=DEMO_PASSWORD if username else None,
            ),
        )
        actors.setdefault(role, accounts.actor_for(row, "demo"))
        actors[name] = accounts.actor_for(row, "demo")
    return actors


def _patient(db: Session, case: DemoCase) -> Patient:
    patient = Patient(sex=case.sex, height_cm=case.height, weight_kg=case.weight)
    db.add(patient)
    db.flush()
    db.add(
        PatientIdentity(patient_id=patient.id, mrn=case.mrn, name=case.name, birth_date=case.birth)
    )
    return patient


def _case(db: Session, case: DemoCase, staff: dict[str, Actor], now: datetime, seed: int) -> None:
    patient = _patient(db, case)
    if case.support is None:
        return
    physician, perfusionist = staff["physician"], staff["perfusionist"]
    start = now - timedelta(days=case.days_ago)
    run = run_service.start_run(
        db,
        physician,
        RunCreate(
            patient_id=patient.id,
            support_type=case.support,  # type: ignore[arg-type]
            mode=case.mode,
            started_at=start,
            indication=case.indication,  # type: ignore[arg-type]
            diagnosis=case.diagnosis,
            location=case.bed,
        ),
    )
    db.flush()
    _circuit(db, perfusionist, run, case, start)
    if case.later_mode:
        mode, days, reason = case.later_mode
        run_service.change_mode(
            db, physician, run, ModeChange(mode=mode, at=now - timedelta(days=days), reason=reason)
        )  # type: ignore[arg-type]
    if case.oxygenator_change_days_ago:
        _oxygenator_change(
            db, perfusionist, run, now - timedelta(days=case.oxygenator_change_days_ago)
        )
    _team(db, staff, run)
    end = now - timedelta(days=case.ended_days_ago) if case.ended_days_ago else now
    _observations(db, run, case, end, seed)
    _bedside(db, staff["nurse"], run, case, end)
    if case.weaning:
        run_service.set_weaning(db, physician, run, True)
    if case.outcome:
        reason = (
            "Sweep-off trial passed; decannulated"
            if case.outcome == "weaned_recovered"
            else "Refractory multi-organ failure; died on ECMO"
        )
        run_service.end_run(
            db, physician, run, RunEnd(ended_at=end, outcome=case.outcome, stop_reason=reason)
        )  # type: ignore[arg-type]


def _circuit(db: Session, actor: Actor, run: Run, case: DemoCase, start: datetime) -> None:
    parts = [
        ("console", "Getinge", "Cardiohelp"),
        ("pump", "Getinge", "HLS Set Advanced 7.0"),
        ("membrane_lung", "Getinge", "HLS Module Advanced 7.0"),
        ("heater", "Getinge", "HU 35"),
    ]
    for i, (kind, make, model) in enumerate(parts):
        run_service.add_component(
            db,
            actor,
            run,
            ComponentCreate(
                kind=kind,
                make=make,
                model=model,
                serial=f"SN{run.id:03d}{i}",  # type: ignore[arg-type]
                lot=f"L{2400 + run.id}",
                started_at=start,
                rated_flow_l_min=7.0 if kind == "membrane_lung" else None,
            ),
        )
    if not support_configuration.of(case.mode).arterial_return:
        cannulas = [
            ("drainage", "femoral vein", "right", 25, 55),
            ("return", "internal jugular vein", "right", 21, 15),
        ]
    else:
        cannulas = [
            ("drainage", "femoral vein", "right", 25, 55),
            ("return", "femoral artery", "left", 17, 15),
            ("distal_perfusion", "superficial femoral artery", "left", 8, 10),
        ]
    for role, site, side, fr, length in cannulas:
        run_service.add_cannula(
            db,
            actor,
            run,
            CannulaCreate(
                role=role,
                site=site,
                side=side,
                french=fr,
                length_cm=length,  # type: ignore[arg-type]
                inserted_at=start,
                make="Getinge",
                model="HLS",
            ),
        )


def _oxygenator_change(db: Session, actor: Actor, run: Run, at: datetime) -> None:
    old = next(c for c in run.components if c.kind == "membrane_lung" and c.stopped_at is None)
    run_service.add_component(
        db,
        actor,
        run,
        ComponentCreate(
            kind="membrane_lung",
            make="Getinge",
            model="HLS Module Advanced 7.0",
            serial=f"SN{run.id:03d}9",
            started_at=at,
            replaces_id=old.id,
            stop_reason="rising_transmembrane_gradient",
            rated_flow_l_min=7.0,
            stop_note="ΔP/flow up 60 % over 24 h, fibrin at the inlet",
        ),
    )


def _team(db: Session, staff: dict[str, Actor], run: Run) -> None:
    participation_service.record_signature(
        db, staff["Dr Maria Rossi"], "run", run.id, run.id, "ECMO decision"
    )
    for name, how, text in [
        ("Sam Okafor", "present", "circuit set-up and priming"),
        ("Grace Mwangi", "present", None),
    ]:
        participation_service.add_participant(
            db,
            staff["coordinator"],
            "run",
            run.id,
            ParticipantIn(staff_id=staff[name].staff_id or 0, how=how, contribution=text),
            run_id=run.id,
        )


def _bedside(db: Session, nurse: Actor, run: Run, case: DemoCase, end: datetime) -> None:
    """The ventilator, infusions and fluid balance the nurse charts (not on the console)."""
    rows = []
    for code, value, hours in case.bedside:
        at = end - timedelta(hours=hours)
        rows += observation_service.series_rows(
            run.id, code, [at], [value], "manual", entered_by=nurse.staff_id
        )
    if rows:
        observation_service.bulk_insert(db, rows)


def _console_feed(
    rows: list[dict[str, object]], end: datetime, silent_min: float
) -> list[dict[str, object]]:
    """The simulated history is not a live feed (source "simulator"); here the last hour of
    flow and pump speed came from the bedside console, which fell silent ``silent_min``
    minutes before ``end`` (nothing after that)."""
    stop = end - timedelta(minutes=silent_min)
    out = []
    for row in rows:
        at = row["time"]
        assert isinstance(at, datetime)
        if at > stop:
            continue
        if row["code"] in ("blood_flow", "pump_speed") and at > stop - timedelta(hours=1):
            row = {**row, "source": "console"}
        out.append(row)
    return out


def _observations(db: Session, run: Run, case: DemoCase, end: datetime, seed: int) -> None:
    """The last ``sim_hours`` of the run come from the simulator."""
    from continuum.simulator import simulate

    hours = min(case.sim_hours, (end - run.started_at).total_seconds() / 3600.0)
    shown = hours * case.scenario_share  # the part of the scenario that has happened by now
    sim = simulate(
        case.scenario,
        "VA" if support_configuration.of(case.mode).arterial_return else "VV",  # simulated model
        hours,
        seed,
        start=end - timedelta(hours=shown),
    )
    import numpy as np

    def stamp(at: datetime) -> np.datetime64:
        return np.datetime64(at.astimezone(UTC).replace(tzinfo=None), "us")

    keep = sim.times <= stamp(end)
    times = sim.times[keep]
    signals = {code: np.array(sim.signals[code][keep], dtype=float) for code in sim.codes}
    for minutes, sweep in case.sweep_plan:
        on = times >= stamp(end - timedelta(minutes=minutes))
        signals["sweep_flow"][on & ~np.isnan(signals["sweep_flow"])] = sweep
    rows = []
    for code in sim.codes:
        rows += observation_service.series_rows(run.id, code, times, signals[code], "simulator")
    rows += observation_service.series_rows(
        run.id,
        vocabulary.DELTA_P,
        times,
        vocabulary.delta_p_series(signals["p_preoxy"], signals["p_postoxy"]),
        "simulator",
    )
    if case.console_silent_min is not None:
        rows = _console_feed(rows, end, case.console_silent_min)
    for start in range(0, len(rows), 20000):
        observation_service.bulk_insert(db, rows[start : start + 20000])

"""Exports of a cohort: a runs table, the observations long (one row per observation) and
wide (one row per run-hour), as CSV or Parquet, with a manifest (cohort definition, fields,
de-identification applied, software version, row counts, SHA-256 per file).

Streaming: runs are read in chunks of ``CHUNK_RUNS``; each chunk's observations come through
a server-side cursor (``yield_per``) ordered by run and time, are written in batches of
``BATCH_ROWS`` and folded into hourly means as they pass, so memory stays flat however many
runs there are. Every export is a job row (``research_export``) and an audit row naming who,
which cohort, which fields and why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import audit, run_facts
from continuum.core.people import Patient, PatientIdentity
from continuum.core.record import Observation
from continuum.core.roles import Actor, Permission, refusal
from continuum.core.run_record import Component, ModeSegment, Run, not_training
from continuum.db import utcnow
from continuum.errors import FieldProblem, Forbidden, ValidationFailed
from continuum.initiation.models import Referral
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.research import deidentify
from continuum.research.cohort import (
    CohortDefinition,
    age_group,
    by_name,
    definition_of,
    run_ids,
)
from continuum.research.cohort_record import EXPORT_FORMATS, ExportJob
from continuum.research.deidentify import Policy
from continuum.research.export_tables import (
    Column,
    TableWriter,
    arrow_schema,
    open_writer,
    sha256_of,
)

CHUNK_RUNS = 200
BATCH_ROWS = 50_000
ALL_RUNS = "all runs"
PURPOSE_MIN = 10
# CSV and Parquet on PostgreSQL read observations as binary arrays into Arrow (export_fast);
# False: the plain row-by-row path everywhere (kept for comparison: the files are the same).
FAST_PATH = True
Progress = Callable[[int, int], None]


class ExportRefused(Forbidden):
    """An export the actor's role may not make: 403 on the web, exit 2 on the command line."""

    exit_code = 2


def software_version() -> str:
    try:
        return version("ecmo-continuum")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# ---- fields --------------------------------------------------------------------------------

IDENTIFIED_RUN_COLUMNS = [
    Column("run_id", "int", None, "database id of the run"),
    Column("patient_id", "int", None, "database id of the patient"),
    Column("mrn", "str", None, "medical record number"),
    Column("name", "str", None, "patient's name"),
    Column("birth_date", "str", None, "date of birth (YYYY-MM-DD)"),
    Column("referring_hospital", "str", None, "referring hospital"),
    Column("referring_clinician", "str", None, "referring clinician"),
    Column("referrer_contact", "str", None, "referrer's telephone or contact"),
    Column("indication", "str", None, "indication (free text)"),
    Column("diagnosis", "str", None, "diagnosis (free text)"),
    Column("stop_reason", "str", None, "why the run ended (free text)"),
    Column("location", "str", None, "bed or unit"),
]
RUN_COLUMNS = [
    Column("run_key", "str", None, "keyed pseudonym of the run"),
    Column("patient_key", "str", None, "keyed pseudonym of the patient"),
    Column("sex", "str", None, "female, male, other, unknown"),
    Column("age_years", "str", "years", "age at the run's start in whole years; '90+' above 89"),
    Column("age_group", "str", None, "neonatal (≤ 28 days), paediatric, adult (≥ 18 years)"),
    Column("height_cm", "float", "cm", "height"),
    Column("weight_kg", "float", "kg", "weight"),
    Column("support_type", "str", None, "pulmonary, cardiac, ecpr"),
    Column("first_mode", "str", None, "mode at the start of the run"),
    Column("modes", "str", None, "every mode of the run in order, separated by ' > '"),
    Column("started_at", "time", "UTC", "start of flow (shifted when de-identified)"),
    Column("ended_at", "time", "UTC", "last cannula out (shifted when de-identified)"),
    Column("hours_on_ecmo", "float", "h", "ended (or now) minus started"),
    Column("outcome", "str", None, "outcome of the run; empty while ongoing"),
    Column("membrane_lungs", "int", None, "membrane lungs used (including the first)"),
    Column("membrane_lung_models", "str", None, "make and model of each, in order"),
    Column("complications", "int", None, "adverse events in the register for the run"),
]
FREE_TEXT = set(deidentify.FREE_TEXT_FIELDS)
# Run facts a domain provides through core's hook (``core.run_facts.FACT_PROVIDERS``, e.g.
# ambulation's highest_ims) are columns of the runs table too; typed text is not exported
# (it could name people), numbers, codes, flags and times are (times shifted like the rest).
FACT_TYPES = {"number": "float", "code": "str", "flag": "str", "time": "time"}


def fact_fields() -> list[run_facts.FactField]:
    """The run-level facts the runs table carries, in the providers' order."""
    taken = {c.name for c in (*RUN_COLUMNS, *IDENTIFIED_RUN_COLUMNS)}
    out: list[run_facts.FactField] = []
    for provider in run_facts.FACT_PROVIDERS:
        for f in provider.fields:
            if f.table == "run" and f.kind in FACT_TYPES and f.name not in taken:
                taken.add(f.name)
                out.append(f)
    return out


def fact_columns() -> list[Column]:
    return [
        Column(
            f.name,
            "int" if f.kind == "number" and f.whole else FACT_TYPES[f.kind],
            f.unit or None,
            f"{f.label}; from the record through a domain's run fact (registry record "
            f"run.{f.name}); empty when the run has none",
        )
        for f in fact_fields()
    ]


def run_columns(policy: Policy) -> list[Column]:
    if policy.identified:
        return IDENTIFIED_RUN_COLUMNS + RUN_COLUMNS + fact_columns()
    released = [c for c in IDENTIFIED_RUN_COLUMNS if c.name in policy.released]
    return RUN_COLUMNS + fact_columns() + released


def _fact_value(field: run_facts.FactField, fact: run_facts.RunFact | str) -> Any:
    """A fact's value as the runs table holds it (None: the run has none)."""
    if not isinstance(fact, run_facts.RunFact) or fact.value is None:
        return None
    value = fact.value
    if field.kind == "number":
        return int(value) if field.whole else float(value)
    if field.kind == "flag":
        return "yes" if value else "no"
    if field.kind == "code":
        return str(value)
    return value


def _key_columns(policy: Policy) -> list[Column]:
    keys = [RUN_COLUMNS[0], RUN_COLUMNS[1]]
    return ([IDENTIFIED_RUN_COLUMNS[0]] if policy.identified else []) + keys


def long_columns(policy: Policy) -> list[Column]:
    return [
        *_key_columns(policy),
        Column("code", "str", None, "observation code (docs/contracts.md §1)"),
        Column("time", "time", "UTC", "time of the value (shifted when de-identified)"),
        Column("minutes_on_ecmo", "float", "min", "minutes since the run started"),
        Column("value", "float", None, "the value, in the unit column's unit"),
        Column("unit", "str", None, "unit"),
        Column("source", "str", None, "console, hl7, lab, manual, csv, mqtt, fhir, simulator"),
    ]


WIDE_CODES = tuple(vocabulary.CODES)


def wide_columns(policy: Policy) -> list[Column]:
    return [
        *_key_columns(policy),
        Column("ecmo_hour", "int", "h", "hour of the run, 0 = the first hour"),
        Column("hour_start", "time", "UTC", "start of that hour (shifted when de-identified)"),
        *(
            Column(code, "float", c.unit, f"mean {c.meaning} in the hour")
            for code, c in vocabulary.CODES.items()
        ),
    ]


# ---- planning: who may export what ----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What an export will hold, checked before anything is written."""

    cohort_id: int | None
    cohort_name: str
    definition: CohortDefinition
    run_ids: list[int]
    fmt: str
    identified: bool
    purpose: str | None


def plan(
    db: Session,
    actor: Actor,
    zone: ZoneInfo,
    *,
    fmt: str,
    cohort_name: str | None = None,
    all_runs: bool = False,
    identified: bool = False,
    purpose: str | None = None,
) -> Plan:
    """Check an export request and find its runs; refuses (nothing written): a role that may
    not export (or not identified), an unknown format, identified without a purpose, neither
    or both of cohort and all, an unknown cohort, a cohort with no runs."""
    if not actor.can(Permission.EXPORT_DEIDENTIFIED):
        raise ExportRefused(refusal(actor.role, Permission.EXPORT_DEIDENTIFIED))
    if identified and not actor.can(Permission.EXPORT_IDENTIFIED):
        raise ExportRefused(
            refusal(actor.role, Permission.EXPORT_IDENTIFIED)
            + "; export de-identified instead (leave out --identified)"
        )
    problems: list[FieldProblem] = []
    if fmt not in EXPORT_FORMATS:
        problems.append(
            FieldProblem("format", f"unknown format '{fmt}'; allowed: {', '.join(EXPORT_FORMATS)}",
                         fmt)
        )  # fmt: skip
    purpose = (purpose or "").strip() or None
    if identified and (purpose is None or len(purpose) < PURPOSE_MIN):
        problems.append(
            FieldProblem(
                "purpose",
                f"an identified export needs a stated purpose of at least {PURPOSE_MIN} "
                "characters (e.g. the study and its approval)",
                purpose,
            )
        )
    if bool(cohort_name) == all_runs:
        problems.append(
            FieldProblem("cohort", "name one saved cohort, or ask for all runs (not both)",
                         cohort_name)
        )  # fmt: skip
    if problems:
        raise ValidationFailed(problems)
    if all_runs:
        definition, cohort_id, name = CohortDefinition(), None, ALL_RUNS
    else:
        row = by_name(db, actor, str(cohort_name))
        definition, cohort_id, name = definition_of(row), row.id, row.name
    ids = run_ids(db, definition, zone)
    if not ids:
        raise ValidationFailed(
            [
                FieldProblem(
                    "cohort",
                    f"cohort '{name}' holds no runs ({definition.summary()}): nothing to "
                    "export; widen its definition",
                    name,
                )
            ]
        )
    return Plan(cohort_id, name, definition, ids, fmt, identified, purpose)


def create_job(db: Session, actor: Actor, p: Plan, policy: Policy) -> ExportJob:
    """The job row and its audit row (who, cohort, fields, purpose), in the caller's unit of
    work: an export is on the record before a file is written."""
    job = ExportJob(
        cohort_id=p.cohort_id,
        cohort_name=p.cohort_name,
        format=p.fmt,
        identified=p.identified,
        purpose=p.purpose,
        status="queued",
        runs_total=len(p.run_ids),
        runs_done=0,
        requested_by=actor.staff_id,
        requested_at=utcnow(),
    )
    db.add(job)
    db.flush()
    audit.record(
        db, actor, "export.identified" if p.identified else "export.deidentified",
        "research_export", job.id,
        detail={
            "cohort": p.cohort_name,
            "definition": p.definition.model_dump(mode="json"),
            "format": p.fmt,
            "runs": len(p.run_ids),
            "purpose": p.purpose,
            "fields": _standard_fields(p.fmt, p.identified) or {
                "runs": [c.name for c in run_columns(policy)],
                "observations_long": [c.name for c in long_columns(policy)],
                "observations_wide": [c.name for c in wide_columns(policy)],
            },
            "deidentification": policy.describe(),
        },
    )  # fmt: skip
    return job


def _standard_fields(fmt: str, identified: bool = False) -> dict[str, list[str]] | None:
    """The tables and columns of a REDCap, OMOP or CLIF export, for the audit row."""
    if fmt == "redcap":
        from continuum.research import export_redcap

        return {"redcap_import": export_redcap.import_columns(identified)}
    if fmt == "omop":
        from continuum.research.export_omop import ALL_TABLES

        return {t: [c.name for c in cols] for t, cols in ALL_TABLES.items()}
    if fmt == "clif":
        from continuum.research.export_clif import COLUMNS

        return {"ecmo_mcs": [c.name for c in COLUMNS]}
    return None


# ---- writing ------------------------------------------------------------------------------


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _run_rows(db: Session, ids: list[int], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The identified rows of these runs (the policy removes what it must)."""
    runs = db.execute(
        select(Run, Patient, PatientIdentity)
        .join(Patient, Patient.id == Run.patient_id)
        .outerjoin(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
        .where(Run.id.in_(ids), not_training())
        .order_by(Run.id)
    ).all()
    modes: dict[int, list[str]] = defaultdict(list)
    for run_id, mode in db.execute(
        select(ModeSegment.run_id, ModeSegment.mode)
        .where(ModeSegment.run_id.in_(ids))
        .order_by(ModeSegment.run_id, ModeSegment.started_at, ModeSegment.id)
    ):
        modes[run_id].append(mode)
    lungs: dict[int, list[str]] = defaultdict(list)
    for run_id, make, model in db.execute(
        select(Component.run_id, Component.make, Component.model)
        .where(Component.run_id.in_(ids), Component.kind == "membrane_lung")
        .order_by(Component.run_id, Component.started_at, Component.id)
    ):
        lungs[run_id].append(" ".join(x for x in (make, model) if x) or "unknown")
    events = dict(
        db.execute(  # type: ignore[arg-type]
            select(AdverseEvent.run_id, func.count())
            .where(AdverseEvent.run_id.in_(ids))
            .group_by(AdverseEvent.run_id)
        ).all()
    )
    patient_ids = {r.Run.patient_id for r in runs}
    referrals: dict[int, Referral] = {}
    for ref in db.scalars(
        select(Referral).where(Referral.patient_id.in_(patient_ids)).order_by(Referral.referred_at)
    ):
        referrals[ref.patient_id] = ref  # the latest referral of the patient
    fields = {f.name: f for f in fact_fields()}
    facts = {
        spec.name: answers
        for spec, answers in run_facts.facts_for(db, [r.Run.id for r in runs])
        if spec.name in fields
    } if fields else {}  # fmt: skip
    now = utcnow()
    rows = []
    for run, patient, ident in runs:
        ref = referrals.get(run.patient_id)
        birth = ident.birth_date if ident else None
        end = run.ended_at or now
        rows.append(
            {
                "run_id": run.id,
                "patient_id": run.patient_id,
                "mrn": ident.mrn if ident else None,
                "name": ident.name if ident else None,
                "birth_date": birth.isoformat() if birth else None,
                "referring_hospital": ref.referring_hospital if ref else None,
                "referring_clinician": ref.referring_clinician if ref else None,
                "referrer_contact": ref.contact if ref else None,
                "indication": run.indication,
                "diagnosis": run.diagnosis,
                "stop_reason": run.stop_reason,
                "location": run.location,
                "sex": patient.sex,
                "_birth": birth,
                "age_group": age_group(birth, run.started_at.astimezone(zone).date()),
                "height_cm": patient.height_cm,
                "weight_kg": patient.weight_kg,
                "support_type": run.support_type,
                "first_mode": (modes.get(run.id) or [None])[0],
                "modes": " > ".join(modes.get(run.id, [])),
                "started_at": run.started_at,
                "ended_at": run.ended_at,
                "hours_on_ecmo": round((end - run.started_at).total_seconds() / 3600, 2),
                "outcome": run.outcome,
                "membrane_lungs": len(lungs.get(run.id, [])),
                "membrane_lung_models": "; ".join(lungs.get(run.id, [])),
                "complications": int(events.get(run.id, 0)),
                **{
                    name: _fact_value(fields[name], answers.get(run.id, ""))
                    for name, answers in facts.items()
                },
            }
        )
    return rows


def _export_run_row(policy: Policy, row: dict[str, Any]) -> dict[str, Any]:
    birth = row.pop("_birth")
    out = deidentify.run_row(policy, {**row, "birth_date": birth})
    if policy.identified:
        out["birth_date"] = birth.isoformat() if birth else None
    age = out.get("age_years")
    out["age_years"] = None if age is None else str(age)
    return out


class _Batch:
    """Column lists filled row by row and flushed to a writer every ``BATCH_ROWS``."""

    def __init__(self, writer: TableWriter, names: list[str]) -> None:
        self.writer = writer
        self.names = names
        self.cols: dict[str, list[Any]] = {n: [] for n in names}
        self.n = 0

    def add(self, values: Iterable[Any]) -> None:
        for name, value in zip(self.names, values, strict=True):
            self.cols[name].append(value)
        self.n += 1
        if self.n >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the batch and empty its lists in place (the hot loop holds them)."""
        if self.n:
            self.writer.write(self.cols)
            for values in self.cols.values():
                values.clear()
            self.n = 0


@dataclass
class _RunKeys:
    run_id: int
    run_key: str
    patient_key: str
    started: datetime
    shift: deidentify.Shifter

    def keys(self, identified: bool) -> tuple[Any, ...]:
        base = (self.run_key, self.patient_key)
        return (self.run_id, *base) if identified else base


def write_files(
    db: Session,
    p: Plan,
    policy: Policy,
    out_dir: Path,
    zone: ZoneInfo,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Write the export's three tables into ``out_dir``; their descriptions for the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = "parquet" if p.fmt == "parquet" else "csv"
    tables = {
        "runs": run_columns(policy),
        "observations_long": long_columns(policy),
        "observations_wide_hourly": wide_columns(policy),
    }
    writers = {
        name: open_writer(p.fmt, out_dir / f"{name}.{ext}", cols) for name, cols in tables.items()
    }
    runs_b = _Batch(writers["runs"], [c.name for c in tables["runs"]])
    long_b = _Batch(writers["observations_long"], [c.name for c in tables["observations_long"]])
    wide_b = _Batch(
        writers["observations_wide_hourly"], [c.name for c in tables["observations_wide_hourly"]]
    )
    code_index = {code: i for i, code in enumerate(WIDE_CODES)}
    from continuum.research import export_fast

    fast = FAST_PATH and export_fast.available(db, p.fmt)
    if fast:  # PostgreSQL: binary arrays → Arrow columns (export_fast), the same files
        long_a = export_fast.ArrowBatch(
            writers["observations_long"], arrow_schema(tables["observations_long"]), BATCH_ROWS
        )
        wide_a = export_fast.ArrowBatch(
            writers["observations_wide_hourly"],
            arrow_schema(tables["observations_wide_hourly"]),
            BATCH_ROWS,
        )
        readers = export_fast.Readers(db, list(_chunks(p.run_ids, CHUNK_RUNS)), WIDE_CODES)
    patients_by: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    done = 0
    try:
        for chunk in _chunks(p.run_ids, CHUNK_RUNS):
            keys: dict[int, _RunKeys] = {}
            for row in _run_rows(db, chunk, zone):
                keys[row["run_id"]] = _RunKeys(
                    row["run_id"],
                    deidentify.pseudonym(policy.key, "run", row["run_id"]),
                    deidentify.pseudonym(policy.key, "patient", row["patient_id"]),
                    row["started_at"],
                    deidentify.Shifter(policy, row["patient_id"]),
                )
                out = _export_run_row(policy, row)
                for group in ("support_type", "first_mode", "outcome", "age_group", "sex"):
                    value = out.get(group) or ("ongoing" if group == "outcome" else "unknown")
                    patients_by[group][str(value)].add(out["patient_key"])
                runs_b.add(out.get(n) for n in runs_b.names)
            if fast:
                export_fast.write_observations(
                    readers, chunk, list(keys.values()), policy.identified, WIDE_CODES,
                    long_a, wide_a,
                )  # fmt: skip
            else:
                _write_observations(db, chunk, keys, policy, long_b, wide_b, code_index)
            done += len(chunk)
            if progress:
                progress(done, len(p.run_ids))
        for b in (runs_b, long_b, wide_b):
            b.flush()
        if fast:
            long_a.flush()
            wide_a.flush()
    finally:
        if fast:  # the threads finish before the files close (error or not)
            readers.close()
            long_a.close(raise_error=False)
            wide_a.close(raise_error=False)
        for w in writers.values():
            w.close()
    small = {
        group: deidentify.small_cells({k: len(v) for k, v in values.items()}, policy.small_cell)
        for group, values in patients_by.items()
    }
    files = []
    for name, w in writers.items():
        files.append(
            {
                "file": w.path.name,
                "table": name,
                "layout": {"runs": "one row per run", "observations_long": "long: one row per "
                           "observation", "observations_wide_hourly": "wide: one row per "
                           "run-hour (hourly means)"}[name],
                "rows": w.rows,
                "bytes": w.path.stat().st_size,
                "sha256": sha256_of(w.path),
                "fields": [c.as_dict() for c in tables[name]],
            }
        )  # fmt: skip
    files.append({"small_cells": {g: v for g, v in small.items() if v}})
    return files


def _observations_query(db: Session, chunk: list[int]) -> Any:
    """The chunk's final observations ordered by run and time, through a server-side cursor.
    On PostgreSQL the driver already returns aware UTC times, so the time column skips the
    UTCDateTime check (a quarter of the export's CPU); SQLite needs it to read its text."""
    from sqlalchemy import DateTime, type_coerce

    time_col: Any = Observation.time
    if db.get_bind().dialect.name == "postgresql":
        time_col = type_coerce(Observation.time, DateTime(timezone=True))
    return (
        select(
            Observation.run_id,
            Observation.code,
            time_col,
            Observation.value,
            Observation.unit,
            Observation.source,
        )
        .where(Observation.run_id.in_(chunk), Observation.status == "final")
        .order_by(Observation.run_id, Observation.time, Observation.id)
        .execution_options(yield_per=BATCH_ROWS)
    )


def _write_observations(
    db: Session,
    chunk: list[int],
    keys: dict[int, _RunKeys],
    policy: Policy,
    long_b: _Batch,
    wide_b: _Batch,
    code_index: dict[str, int],
) -> None:
    """One pass over the chunk's observations: each one appended to the long table's
    columns (the hot loop: plain appends, no per-row objects) and folded into its run-hour's
    means, emitted when the hour changes (rows come ordered by run and time)."""
    stmt = _observations_query(db, chunk)
    width = len(code_index)
    ident = policy.identified
    columns = [long_b.cols[n] for n in long_b.names]
    nk = 3 if ident else 2
    key_cols = columns[:nk]
    c_code, c_time, c_min, c_value, c_unit, c_source = columns[nk:]
    sums = [0.0] * width
    counts = [0] * width
    run: _RunKeys | None = None
    key_values: tuple[Any, ...] = ()
    hour = -1
    started = delta = None

    def emit() -> None:
        assert run is not None
        start = run.shift(run.started + timedelta(hours=hour))
        means = [t / n if n else None for t, n in zip(sums, counts, strict=True)]
        wide_b.add((*key_values, hour, start, *means))

    for run_id, code, at, value, unit, source in db.connection().execute(stmt):
        if run is None or run_id != run.run_id:
            if run is not None and hour >= 0:
                emit()
            run = keys[run_id]
            key_values = run.keys(ident)
            started, delta = run.started, run.shift.delta
            hour = -1
            sums = [0.0] * width
            counts = [0] * width
        minutes = (at - started).total_seconds() / 60
        for col, v in zip(key_cols, key_values, strict=True):
            col.append(v)
        c_code.append(code)
        c_time.append(at + delta)
        c_min.append(minutes)
        c_value.append(value)
        c_unit.append(unit)
        c_source.append(source)
        long_b.n += 1
        if long_b.n >= BATCH_ROWS:
            long_b.flush()
        h = int(minutes // 60)
        if h != hour:
            if hour >= 0:
                emit()
            hour = h
            sums = [0.0] * width
            counts = [0] * width
        i = code_index.get(code)
        if i is not None:
            sums[i] += value
            counts[i] += 1
    if run is not None and hour >= 0:
        emit()


def manifest(
    p: Plan, policy: Policy, files: list[dict[str, Any]], actor: Actor, job_id: int | None
) -> dict[str, Any]:
    small = files[-1]["small_cells"] if files and "small_cells" in files[-1] else {}
    return {
        "export_id": job_id,
        "created_at": utcnow().isoformat(),
        "software": {"name": "ecmo-continuum", "version": software_version()},
        "requested_by": f"{actor.name} ({actor.role})",
        "purpose": p.purpose,
        "format": p.fmt,
        "cohort": {
            "name": p.cohort_name,
            "definition": p.definition.model_dump(mode="json"),
            "summary": p.definition.summary(),
            "runs": len(p.run_ids),
        },
        "deidentification": policy.describe(),
        "small_cells": small,
        "files": [f for f in files if "file" in f],
        **(
            {"standard": s["standard"]}
            if (s := next((f for f in files if "standard" in f), None))
            else {}
        ),
    }


def write_export(
    db: Session,
    actor: Actor,
    p: Plan,
    policy: Policy,
    out_dir: Path,
    zone: ZoneInfo,
    job_id: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the files and ``manifest.json`` into ``out_dir``; returns the manifest."""
    if p.fmt in ("redcap", "fhir"):
        files = _write_registry(db, p, policy, out_dir, zone, progress)
    elif p.fmt in ("omop", "clif"):
        from continuum.research import export_standards

        files = export_standards.write(db, p, policy, out_dir, zone, progress)
    else:
        files = write_files(db, p, policy, out_dir, zone, progress)
    result = manifest(p, policy, files, actor, job_id)
    (out_dir / "manifest.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def _write_registry(
    db: Session, p: Plan, policy: Policy, out_dir: Path, zone: ZoneInfo, progress: Progress | None
) -> list[dict[str, Any]]:
    from continuum.research import export_fhir, export_redcap

    runs = stream_runs(db, p, policy, zone, progress)
    if p.fmt == "redcap":
        written = export_redcap.write(runs, out_dir, policy.identified)
        fields = {
            "redcap_data_dictionary.csv": list(export_redcap.DICTIONARY_COLUMNS),
            "redcap_import.csv": export_redcap.import_columns(policy.identified),
        }
    else:
        written = export_fhir.write(runs, out_dir, policy.identified, utcnow().isoformat())
        fields = {"bundle.json": ["Patient", "Encounter", "Procedure", "Device", "Observation"]}
    return [
        {
            "file": name,
            "table": name.rsplit(".", 1)[0],
            "layout": layout,
            "rows": rows,
            "bytes": (out_dir / name).stat().st_size,
            "sha256": sha256_of(out_dir / name),
            "fields": [
                {"name": f, "type": "str", "unit": None, "description": ""} for f in fields[name]
            ],
        }
        for name, layout, rows in written
    ]


def policy_for(settings: Any, identified: bool, released: frozenset[str] = frozenset()) -> Policy:
    """The de-identification policy from the configuration (``continuum.config.Settings``);
    ``released``: free-text fields a reviewer released for the cohort
    (``research.text_release.released_fields``)."""
    return Policy(
        key=settings.export_key_bytes,
        max_shift_days=settings.export_shift_days,
        small_cell=settings.export_small_cell,
        identified=identified,
        released=frozenset() if identified else released,
    )


# An export queued or running with no progress for this long was interrupted: the process
# writing it stopped (a restart, a crash). Progress is reported at least once per chunk of
# runs, seconds apart even for the largest exports (benchmarks/bench_export.py).
STALE_AFTER = timedelta(minutes=15)
HOUSEKEEPER = Actor(staff_id=None, name="daily housekeeping", role="admin", client="housekeeping")


def interrupted(db: Session, now: datetime | None = None) -> list[int]:
    """Mark exports with no progress for ``STALE_AFTER`` as failed, saying why; returns their
    ids. Called where an export's status is read and by the daily housekeeping."""
    now = now or utcnow()
    cutoff = now - STALE_AFTER
    last = func.coalesce(ExportJob.heartbeat_at, ExportJob.requested_at)
    stale = db.scalars(
        select(ExportJob).where(ExportJob.status.in_(("queued", "running")), last < cutoff)
    ).all()
    for job in stale:
        since = job.heartbeat_at or job.requested_at
        job.status = "failed"
        job.error = (
            f"interrupted: no progress since {since.isoformat(timespec='minutes')} "
            f"({job.runs_done} of {job.runs_total} runs written) — the process writing it "
            "stopped, e.g. a restart; its files are incomplete. Start the export again."
        )
        job.finished_at = now
        audit.record(
            db, HOUSEKEEPER, "export.interrupted", "research_export", job.id, None,
            {"runs_done": job.runs_done, "runs_total": job.runs_total},
        )  # fmt: skip
    return [job.id for job in stale]


def housekeeping(db: Session) -> str:
    """The daily job: exports left queued or running by a stopped process are marked failed."""
    ids = interrupted(db)
    return f"marked {len(ids)} interrupted exports failed" if ids else "no interrupted exports"


def finish(db: Session, job_id: int, result: dict[str, Any] | None, error: str | None) -> None:
    job = db.get(ExportJob, job_id)
    assert job is not None
    job.status = "failed" if error else "done"
    job.error = error
    job.manifest = result
    if result:
        job.runs_done = job.runs_total
    job.finished_at = utcnow()


# ---- one run at a time (REDCap, FHIR) -----------------------------------------------------


@dataclass
class RunData:
    """One run as the registry formats read it: its keys and shift, its export row, and its
    final observations in time order (an iterator: read it before asking for the next run)."""

    keys: _RunKeys
    row: dict[str, Any]
    observations: Iterable[tuple[str, datetime, float, str, str]]


def stream_runs(
    db: Session, p: Plan, policy: Policy, zone: ZoneInfo, progress: Progress | None = None
) -> Iterable[RunData]:
    """Every run of the plan in order, chunk by chunk, observations through a server-side
    cursor (``yield_per``): memory stays that of one chunk's run rows and one batch."""
    from itertools import groupby

    done = 0
    for chunk in _chunks(p.run_ids, CHUNK_RUNS):
        rows = _run_rows(db, chunk, zone)
        stmt = _observations_query(db, chunk)
        groups = groupby(db.connection().execute(stmt), key=lambda r: r[0])
        pending = next(groups, None)
        for row in rows:
            keys = _RunKeys(
                row["run_id"],
                deidentify.pseudonym(policy.key, "run", row["run_id"]),
                deidentify.pseudonym(policy.key, "patient", row["patient_id"]),
                row["started_at"],
                deidentify.Shifter(policy, row["patient_id"]),
            )
            out = _export_run_row(policy, row)
            if pending is not None and pending[0] == keys.run_id:
                obs: Iterable[Any] = (r[1:] for r in pending[1])
                yield RunData(keys, out, obs)
                pending = next(groups, None)
            else:
                yield RunData(keys, out, ())
        done += len(chunk)
        if progress:
            progress(done, len(p.run_ids))

"""The mechanical-circulatory-support record: devices (append-only versions), their checks
and readings. Takes ``(session, actor, …)``, checks permissions, audits every change,
writes insertion and removal on the clinical timeline, flushes, never commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import support_configuration, vocabulary
from continuum.core import audit, observation_service, run_service
from continuum.core.clinical_event import record_event
from continuum.core.record import Observation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.mcs.models import (
    IABP_RATIOS,
    KIND_LABELS,
    POSITION_RESULTS,
    TIMING_RESULTS,
    McsCheck,
    McsDevice,
)
from continuum.mcs.schemas import CheckIn, DeviceChangeIn, DeviceIn, ReadingIn
from continuum.surveillance import impella_levels

# Reading field → vocabulary code, per device kind (what the device's console shows).
READING_CODES: dict[str, dict[str, str]] = {
    "impella": {
        "p_level": "impella_p_level",
        "flow": "impella_flow",
        "purge_pressure": "impella_purge_pressure",
        "purge_flow": "impella_purge_flow",
    },
    "iabp": {"ratio": "iabp_ratio", "augmentation": "iabp_augmentation"},
    "temporary_vad": {
        "speed": "vad_speed",
        "flow": "vad_flow",
        "power": "vad_power",
        "pulsatility_index": "vad_pulsatility_index",
    },
}
READING_CODES["durable_vad"] = READING_CODES["temporary_vad"]
READING_FIELDS = sorted({f for codes in READING_CODES.values() for f in codes})
MAX_READINGS_SHOWN = 200


# -- reading the record --------------------------------------------------------------------


def versions(session: Session, device_id: int) -> list[McsDevice]:
    """Every version of a device, newest first (the first is in force)."""
    stmt = (
        select(McsDevice)
        .where((McsDevice.device_id == device_id) | (McsDevice.id == device_id))
        .order_by(McsDevice.id.desc())
    )
    return list(session.scalars(stmt))


def get_device(session: Session, actor: Actor, device_id: int) -> McsDevice:
    """The version in force of device ``device_id`` (its number)."""
    actor.require(Permission.VIEW_CLINICAL)
    rows = versions(session, device_id)
    if not rows or rows[-1].id != device_id:
        raise NotFound(f"device {device_id} not found")
    return rows[0]


def run_devices(session: Session, run_id: int) -> list[McsDevice]:
    """Each device of the run in its version in force, by insertion time."""
    latest: dict[int, McsDevice] = {}
    for row in session.scalars(
        select(McsDevice).where(McsDevice.run_id == run_id).order_by(McsDevice.id)
    ):
        latest[row.number] = row
    return sorted(latest.values(), key=lambda d: (d.inserted_at, d.number))


def in_place(device: McsDevice, at: datetime | None = None) -> bool:
    at = at or utcnow()
    return device.inserted_at <= at and (device.removed_at is None or device.removed_at > at)


def series_devices(session: Session, run_id: int) -> dict[str, str]:
    """``core.run_devices`` provider: the run's Impella model and IABP for the detectors
    (devices in place first; else the latest removed one, whose readings may still be in
    the window). A left-sided Impella wins over an Impella RP."""
    out: dict[str, str] = {}
    ranked = sorted(
        run_devices(session, run_id),
        key=lambda d: (in_place(d), d.side == "left", d.inserted_at),
    )
    for d in ranked:  # later entries (in place, left-sided, newest) win
        if d.kind == "impella":
            out["impella"] = d.model
        elif d.kind == "iabp":
            out["iabp"] = d.model
    return out


def configuration(run: Run, device: McsDevice) -> dict[str, Any]:
    """The combined support configuration of the run's mode with this device."""
    mode = (
        run_service.current_mode(run) or support_configuration.of_run(None, run.support_type).mode
    )
    combined = support_configuration.with_device(mode, device.group)
    recorded = support_configuration.of(mode)
    return {
        "run_mode": mode,
        "combined_mode": combined.mode if combined else None,
        "name": combined.name if combined else None,
        "family": combined.family_label if combined else None,
        "note": combined.note if combined else _no_combination(mode, device),
        "recorded_as_combined": combined is not None and combined.mode == recorded.mode,
    }


def _no_combination(mode: str, device: McsDevice) -> str:
    return (
        f"The vocabulary has no combined mode for {mode} with {device.name}; the run's "
        f"configuration stays {mode} and the device is recorded beside it."
    )


# -- devices -------------------------------------------------------------------------------


def _side_of(kind: str, model: str, side: str | None) -> str | None:
    if kind == "impella":
        return "right" if model == "RP" else "left"
    if kind in ("iabp", "durable_vad"):
        return side or "left"
    return side


def _check_device(kind: str, model: str, side: str | None, problems: list[FieldProblem]) -> None:
    if kind == "impella" and model not in impella_levels.MODELS:
        problems.append(
            FieldProblem(
                "model",
                f"Impella model '{model}' is not known; allowed: "
                f"{', '.join(impella_levels.MODELS)}",
                model,
            )
        )
    if kind == "temporary_vad" and side is None:
        problems.append(FieldProblem("side", "a temporary VAD needs its side: left or right", None))
    if kind == "iabp" and side == "right":
        problems.append(FieldProblem("side", "an IABP sits in the aorta: side left", side))


def _check_times(
    run: Run, inserted_at: datetime, removed_at: datetime | None, problems: list[FieldProblem]
) -> None:
    if run.ended_at is not None and inserted_at > run.ended_at:
        problems.append(
            FieldProblem(
                "inserted_at",
                f"before the run's end ({run.ended_at.isoformat()})",
                inserted_at.isoformat(),
            )
        )
    if removed_at is not None and removed_at <= inserted_at:
        problems.append(
            FieldProblem(
                "removed_at",
                f"after the insertion ({inserted_at.isoformat()})",
                removed_at.isoformat(),
            )
        )


def _summary(device: McsDevice, removed: bool = False) -> str:
    site = f" ({device.site})" if device.site else ""
    if removed:
        why = f": {device.removal_reason}" if device.removal_reason else ""
        return f"{device.name} removed{why}"
    return f"{device.name} inserted{site}"


def create(session: Session, actor: Actor, run: Run, data: DeviceIn) -> McsDevice:
    """Record a device inserted beside the run's circuit."""
    actor.require(Permission.MANAGE_RUN)
    side = _side_of(data.kind, data.model, data.side)
    problems: list[FieldProblem] = []
    _check_device(data.kind, data.model, side, problems)
    _check_times(run, data.inserted_at, None, problems)
    if problems:
        raise ValidationFailed(problems)
    for other in run_devices(session, run.id):
        if other.kind == data.kind and other.side == side and other.removed_at is None:
            raise Conflict(
                f"{other.name} (device {other.number}) is still in place on run {run.id}: "
                "record its removal first"
            )
    row = McsDevice(
        run_id=run.id,
        kind=data.kind,
        model=data.model,
        side=side,
        site=data.site,
        inserted_at=data.inserted_at,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    row.device_id = row.id
    session.flush()
    detail = {"kind": data.kind, "model": data.model, "side": side}
    audit.record(session, actor, "create", "mcs_device", row.id, run.patient_id, detail)
    record_event(
        session,
        actor,
        "mcs.inserted",
        data.inserted_at,
        _summary(row),
        ("mcs_device", row.id),
        run,
        details=detail,
    )
    return row


def change(session: Session, actor: Actor, device_id: int, data: DeviceChangeIn) -> McsDevice:
    """A new version of the device: corrected fields and/or its removal; never an overwrite."""
    actor.require(Permission.MANAGE_RUN)
    current = get_device(session, actor, device_id)
    if data.follows_id != current.id:
        raise Conflict(
            f"follows_id {data.follows_id} is not the version in force of device "
            f"{device_id} (#{current.id}): reload and try again"
        )
    run = session.get_one(Run, current.run_id)
    model = data.model if data.model is not None else current.model
    side = _side_of(current.kind, model, data.side if data.side is not None else current.side)
    inserted_at = data.inserted_at or current.inserted_at
    removed_at = data.removed_at or current.removed_at
    problems: list[FieldProblem] = []
    _check_device(current.kind, model, side, problems)
    _check_times(run, inserted_at, removed_at, problems)
    if data.removal_reason and removed_at is None:
        problems.append(FieldProblem("removed_at", "a removal reason needs the removal time", None))
    if problems:
        raise ValidationFailed(problems)
    row = McsDevice(
        device_id=current.number,
        follows_id=current.id,
        run_id=current.run_id,
        kind=current.kind,
        model=model,
        side=side,
        site=data.site if data.site is not None else current.site,
        inserted_at=inserted_at,
        removed_at=removed_at,
        removal_reason=data.removal_reason or current.removal_reason,
        reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    changed = {
        k: str(getattr(row, k))
        for k in ("model", "side", "site", "inserted_at", "removed_at", "removal_reason")
        if getattr(row, k) != getattr(current, k)
    }
    audit.record(
        session,
        actor,
        "amend",
        "mcs_device",
        row.id,
        run.patient_id,
        {"device_id": current.number, "follows_id": current.id, "changed": changed},
    )
    if current.removed_at is None and row.removed_at is not None:
        record_event(
            session,
            actor,
            "mcs.removed",
            row.removed_at,
            _summary(row, removed=True),
            ("mcs_device", row.id),
            run,
            details={"device_id": row.number},
        )
    return row


# -- readings ------------------------------------------------------------------------------


def reading_observations(device: McsDevice, data: ReadingIn) -> list[ObservationIn]:
    """The reading as observations of the vocabulary (``mcs`` codes), refused with the
    field, value and allowed range where a value does not fit."""
    codes = READING_CODES[device.kind]
    given = {f: getattr(data, f) for f in READING_FIELDS if getattr(data, f) is not None}
    problems: list[FieldProblem] = []
    for name, value in given.items():
        if name not in codes:
            allowed = ", ".join(codes)
            problems.append(
                FieldProblem(
                    name, f"not a reading of {device.name}; its readings: {allowed}", value
                )
            )
    if not given:
        problems.append(
            FieldProblem("at", f"no reading given; {device.name} takes {', '.join(codes)}", None)
        )
    values: dict[str, float] = {}
    for name, value in given.items():
        if name not in codes:
            continue
        code = codes[name]
        if name == "ratio":
            if value not in IABP_RATIOS:
                problems.append(FieldProblem("ratio", "IABP ratio must be 1:1, 1:2 or 1:3", value))
                continue
            values[code] = IABP_RATIOS[value]
            continue
        if name == "p_level":
            table = impella_levels.table_for(device.model)
            if value != int(value) or not 0 <= value <= table.max_p_level:
                problems.append(
                    FieldProblem(
                        "p_level",
                        f"{table.name} P-level {value:g} is not allowed: a whole number "
                        f"P-0 to P-{table.max_p_level}",
                        value,
                    )
                )
                continue
        try:
            vocabulary.check_range(code, float(value))
        except ValidationFailed as exc:
            problems += [FieldProblem(name, p.message, value) for p in exc.problems]
            continue
        values[code] = float(value)
    if not device.inserted_at <= data.at:
        problems.append(
            FieldProblem(
                "at", f"after the insertion ({device.inserted_at.isoformat()})", data.at.isoformat()
            )
        )
    if device.removed_at is not None and data.at > device.removed_at:
        problems.append(
            FieldProblem(
                "at", f"before the removal ({device.removed_at.isoformat()})", data.at.isoformat()
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return [
        ObservationIn(code=c, value=v, time=data.at, source="manual") for c, v in values.items()
    ]


def add_reading(session: Session, actor: Actor, device_id: int, data: ReadingIn) -> int:
    """Store one moment's readings through the observation service (surveillance follows)."""
    actor.require(Permission.ENTER_OBSERVATION)
    device = get_device(session, actor, device_id)
    items = reading_observations(device, data)
    run = session.get_one(Run, device.run_id)
    return observation_service.record_observations(session, actor, run, items)


def readings(session: Session, device: McsDevice, limit: int = MAX_READINGS_SHOWN) -> list[dict]:
    """The device's readings by moment, newest first: values by code, and for an Impella
    the expected flow range at the moment's P-level."""
    codes = list(READING_CODES[device.kind].values())
    stmt = (
        select(Observation.time, Observation.code, Observation.value)
        .where(
            Observation.run_id == device.run_id,
            Observation.code.in_(codes),
            Observation.status == "final",
            Observation.time >= device.inserted_at,
        )
        .order_by(Observation.time.desc())
    )
    if device.removed_at is not None:
        stmt = stmt.where(Observation.time <= device.removed_at)
    moments: dict[datetime, dict[str, float]] = defaultdict(dict)
    for t, code, value in session.execute(stmt.limit(limit * len(codes))):
        moments[t][code] = float(value)
    out = []
    level: float | None = None
    for t in sorted(moments):  # oldest first, so a P-level stands until changed
        values = moments[t]
        level = values.get("impella_p_level", level)
        row: dict[str, Any] = {"at": t, "values": values, "expected_low": None}
        row["expected_high"] = row["below_expected"] = None
        if device.kind == "impella" and level is not None:
            rng = impella_levels.expected(device.model, level)
            if rng is not None and level >= 2:
                row["expected_low"], row["expected_high"] = rng.low, rng.high
                flow = values.get("impella_flow")
                row["below_expected"] = None if flow is None else flow < rng.low
        out.append(row)
    return list(reversed(out))[:limit]


# -- checks --------------------------------------------------------------------------------


def checks(session: Session, device: McsDevice) -> list[McsCheck]:
    stmt = (
        select(McsCheck)
        .where(McsCheck.device_id == device.number)
        .order_by(McsCheck.at.desc(), McsCheck.id.desc())
    )
    return list(session.scalars(stmt))


def add_check(session: Session, actor: Actor, device_id: int, data: CheckIn) -> McsCheck:
    """A position check (any device) or an IABP timing check; corrections append."""
    actor.require(Permission.ENTER_OBSERVATION)
    device = get_device(session, actor, device_id)
    problems: list[FieldProblem] = []
    if data.kind == "timing" and device.kind != "iabp":
        problems.append(FieldProblem("kind", "a timing check is an IABP's", data.kind))
    results = TIMING_RESULTS if data.kind == "timing" else POSITION_RESULTS
    if data.result not in results:
        problems.append(
            FieldProblem(
                "result", f"a {data.kind} check result is one of {', '.join(results)}", data.result
            )
        )
    if data.kind == "timing" and data.method != "waveform_1_2":
        problems.append(
            FieldProblem(
                "method", "IABP timing is checked on the arterial waveform at 1:2", data.method
            )
        )
    if data.kind == "position" and data.method == "waveform_1_2":
        problems.append(
            FieldProblem(
                "method",
                "position by echo, fluoroscopy, chest X-ray or placement signal",
                data.method,
            )
        )
    if data.at < device.inserted_at:
        problems.append(
            FieldProblem(
                "at", f"after the insertion ({device.inserted_at.isoformat()})", data.at.isoformat()
            )
        )
    if data.corrects_id is not None and not data.reason:
        problems.append(FieldProblem("reason", "a correction needs its reason", None))
    if problems:
        raise ValidationFailed(problems)
    if data.corrects_id is not None:
        target = session.get(McsCheck, data.corrects_id)
        if target is None or target.device_id != device.number:
            raise Conflict(f"check {data.corrects_id} is not a check of device {device.number}")
    row = McsCheck(
        device_id=device.number,
        run_id=device.run_id,
        kind=data.kind,
        at=data.at,
        method=data.method,
        result=data.result,
        note=data.note,
        corrects_id=data.corrects_id,
        reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    run = session.get_one(Run, device.run_id)
    audit.record(
        session,
        actor,
        "create" if data.corrects_id is None else "correct",
        "mcs_check",
        row.id,
        run.patient_id,
        {"device_id": device.number, "kind": data.kind, "result": data.result},
    )
    return row


def kind_label(kind: str) -> str:
    return KIND_LABELS[kind]

"""The ECLS-CDM tables beyond ``ecls_run`` that the record can fill, written beside the OMOP
export (``export_omop``): circuits, their mode periods, each component in its own table
(membrane lung, blood pump, console, temperature regulation device), cannulas, the
circuit ↔ component links, and the material rows they point to.

Pinned: ECLS-CDM v0.2.0, its PostgreSQL DDL (``ddl/postgres/01_add_tables.sql``,
``02_add_constraints.sql``, ``03_add_extra_constraints.sql`` of ecls-cdm/cdm); the columns,
types, NOT NULLs, keys and the tubing-size CHECK are reproduced for the load test in
tests/research/omop_cdm54_ecls_ddl.sql (docs/research-exports.md §2).

What the record cannot fill is left out and counted, never guessed:

- a circuit without a tubing size (NOT NULL, one of 3/16", 1/4", 3/8", 1/2") is left out,
  and with it its mode periods and component links (``circuits_without_tubing_size``);
- a cannula without French size, length or insertion depth is left out (its material row
  needs diameter and length, the cannula its insertion length: NOT NULL);
- concepts the record has no value for are 0 (OMOP's "no matching concept"): the insertion
  technique (percutaneous, open …), a site or tip position not in the ECLS-CDM list, a
  priming solution that is not crystalloid, blood or albumin, a stop reason without an
  ECLS-CDM concept.

Material rows are the export's own (numbered within it, one per make and model), not the
community-managed ECLS-CDM material tables, whose ids a loader matches by manufacturer and
name. Serial numbers, lots and UDIs only in identified exports (HIPAA device identifiers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.run_record import Cannula, Circuit, Component, ModeSegment
from continuum.research.export_tables import Column

INT, STR, TS, NUM = "int", "str", "time", "float"

# ecls_circuit.tubing_size_in_inches (03_add_extra_constraints.sql)
TUBING_SIZES = (0.1875, 0.25, 0.375, 0.5)
# priming_solution_concept_id (ecls_circuit, ecls_membrane_lung)
PRIMING = (("albumin", 37311619), ("blood", 4226865), ("saline", 4162581),
           ("crystalloid", 4162581), ("plasma", 4162581), ("ringer", 4162581),
           ("sodium chloride", 4162581), ("nacl", 4162581))  # fmt: skip
# ecls_circuit_component.component_type_concept_id
COMPONENT_TYPE = {"pump": 4260370, "cannula": 36717850, "console": 45768426,
                  "membrane_lung": 4180582, "heater": 36717854}  # fmt: skip
# *_material.type_concept_id (the device concepts device_exposure uses too)
MATERIAL_TYPE = {"pump": 4129113, "console": 45768426, "membrane_lung": 4180582,
                 "heater": 36717854, "cannula": 36717851, "cannula_dual": 36717852}  # fmt: skip
# stop_reason_concept_id of a circuit or component (ECLS-CDM "Stop reasons"); end_of_run
# takes the run's own stop reason, as the specification asks.
STOP_REASON = {
    "oxygenator_failure": 36717820, "rising_transmembrane_gradient": 36717815,
    "air": 36717816, "treatment_changed": 40483850, "protocol": 44790553,
    "end_of_product_life": 36717877,
}  # fmt: skip
FLOW_DIRECTION = {"drainage": 36717809, "return": 36717810, "drainage_and_return": 36717811,
                  "distal_perfusion": 36717812}  # fmt: skip
LATERALITY = {"left": 4300877, "right": 4080761}
# location_concept_id / tip_position_concept_id: words of the site as typed → concept
SITES = (
    ("superficial femoral artery", 4111596), ("common femoral artery", 4109754),
    ("femoral artery", 4109754), ("femoral vein", 4308414), ("internal jugular", 4006845),
    ("subclavian artery", 4272388), ("subclavian vein", 4311330), ("axillary artery", 4239013),
    ("axillary vein", 4288602), ("carotid", 4286359), ("radial artery", 4164917),
    ("posterior tibial", 4028232), ("cephalic vein", 4047437), ("brachiocephalic", 4229590),
    ("common iliac vein", 4187680), ("external iliac vein", 4270755),
    ("inferior vena cava", 4271699), ("ivc", 4271699), ("superior vena cava", 4167648),
    ("svc", 4167648), ("pulmonary artery", 4215757), ("pulmonary vein", 4203602),
    ("ascending aorta", 4183988), ("aortic arch", 4211548), ("atri", 4242112),
    ("ventric", 4070760),
)  # fmt: skip


def _c(name: str, kind: str) -> Column:
    return Column(name, kind, None, "")


_DEVICE = [("start_datetime", TS), ("stop_datetime", TS), ("person_id", INT),
           ("stop_reason_concept_id", INT), ("material_id", INT), ("sn", STR), ("lot", STR),
           ("ref", STR), ("udi", STR)]  # fmt: skip
_MATERIAL = [("material_id", INT), ("name", STR), ("manufacturer", STR),
             ("type_concept_id", INT)]  # fmt: skip
# component kind → its ECLS-CDM table
KIND_TABLE = {
    "membrane_lung": "ecls_membrane_lung",
    "pump": "ecls_blood_pump",
    "console": "ecls_console",
    "heater": "ecls_temperature_regulation_device",
}
TABLES: dict[str, list[Column]] = {
    # material tables first: the core tables point to them
    "ecls_blood_pump_material": [_c(n, k) for n, k in [*_MATERIAL, ("ref", STR), ("udi", STR)]],
    "ecls_cannula_material": [_c(n, k) for n, k in [
        *_MATERIAL, ("diameter_in_french", INT), ("length_in_centimeters", INT),
        ("coating", STR), ("ref", STR), ("udi", STR)]],
    "ecls_console_material": [_c(n, k) for n, k in [*_MATERIAL, ("ref", STR), ("udi", STR)]],
    "ecls_membrane_lung_material": [_c(n, k) for n, k in [
        *_MATERIAL, ("coating", STR), ("ref", STR), ("udi", STR)]],
    "ecls_temperature_regulation_device_material": [
        _c(n, k) for n, k in [*_MATERIAL, ("ref", STR), ("udi", STR)]],
    "ecls_circuit": [_c(n, k) for n, k in [
        ("circuit_id", INT), ("start_datetime", TS), ("stop_datetime", TS), ("person_id", INT),
        ("run_id", INT), ("tubing_size_in_inches", NUM), ("priming_solution_concept_id", INT),
        ("stop_reason_concept_id", INT)]],
    "ecls_mode": [_c(n, k) for n, k in [
        ("mode_id", INT), ("start_datetime", TS), ("stop_datetime", TS), ("person_id", INT),
        ("circuit_id", INT), ("mode_concept_id", INT)]],
    "ecls_blood_pump": [_c(n, k) for n, k in [("blood_pump_id", INT), *_DEVICE]],
    "ecls_console": [_c(n, k) for n, k in [("console_id", INT), *_DEVICE]],
    "ecls_membrane_lung": [_c(n, k) for n, k in [
        ("membrane_lung_id", INT), *_DEVICE[:3], ("priming_solution_concept_id", INT),
        *_DEVICE[3:]]],
    "ecls_temperature_regulation_device": [
        _c(n, k) for n, k in [("temperature_regulation_device_id", INT), *_DEVICE]],
    "ecls_cannula": [_c(n, k) for n, k in [
        ("cannula_id", INT), ("start_datetime", TS), ("stop_datetime", TS), ("person_id", INT),
        ("flow_direction_concept_id", INT), ("location_concept_id", INT),
        ("laterality_concept_id", INT), ("insertion_concept_id", INT),
        ("insertion_length_in_centimeters", INT), ("tip_position_concept_id", INT),
        ("tip_position_laterality_concept_id", INT), ("removal_concept_id", INT),
        ("stop_reason_concept_id", INT), ("material_id", INT), ("sn", STR), ("lot", STR),
        ("ref", STR), ("udi", STR)]],
    "ecls_circuit_component": [_c(n, k) for n, k in [
        ("circuit_component_id", INT), ("start_datetime", TS), ("stop_datetime", TS),
        ("person_id", INT), ("circuit_id", INT), ("component_type_concept_id", INT),
        ("component_id", INT)]],
}  # fmt: skip
ID_COLUMN = {name: cols[0].name for name, cols in TABLES.items()}


def priming_concept(text: str | None) -> int:
    folded = (text or "").casefold()
    return next((c for word, c in PRIMING if word in folded), 0)


def site_concept(text: str | None) -> int:
    folded = (text or "").casefold()
    return next((c for word, c in SITES if word in folded), 0)


def tubing_size(value: float | None) -> float | None:
    """The circuit's tubing size as ECLS-CDM allows it (None: not recorded or not allowed)."""
    if value is None:
        return None
    return next((s for s in TUBING_SIZES if abs(s - value) < 1e-6), None)


Add = Callable[..., None]


@dataclass
class State:
    """Ids and material rows numbered across the export, and what was left out."""

    ids: dict[str, int] = field(default_factory=dict)
    materials: dict[tuple[Any, ...], int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def skip(self, what: str) -> None:
        self.left_out[what] = self.left_out.get(what, 0) + 1


def _material(state: State, add: Add, table: str, key: tuple[Any, ...], **values: Any) -> int:
    found = state.materials.get((table, *key))
    if found is None:
        found = state.materials[(table, *key)] = state.next_id(table)
        add(table, material_id=found, **values)
    return found


def write_run(
    db: Session,
    add: Add,
    state: State,
    *,
    run_id: int,
    ecls_run_id: int,
    person_id: int,
    run_stop_reason: int | None,
    identified: bool,
    shift: Callable[[datetime | None], datetime | None],
) -> None:
    """The run's circuits, modes, components, cannulas and links (``add(table, **row)``)."""

    def stop_reason(reason: str | None, stopped: datetime | None) -> int | None:
        if stopped is None:
            return None
        if reason == "end_of_run":
            return run_stop_reason or 0
        return STOP_REASON.get(reason or "", 0)

    def ids(row: Any) -> dict[str, Any]:
        return {"sn": row.serial if identified else None, "lot": row.lot if identified else None,
                "ref": None, "udi": row.udi if identified else None}  # fmt: skip

    circuits: dict[int, tuple[int, Circuit]] = {}  # record circuit id → (export id, row)
    for c in db.scalars(
        select(Circuit).where(Circuit.run_id == run_id).order_by(Circuit.started_at, Circuit.id)
    ):
        size = tubing_size(c.tubing_size_in)
        if size is None:
            state.skip("circuits_without_tubing_size")
            continue
        cid = state.next_id("ecls_circuit")
        circuits[c.id] = (cid, c)
        add("ecls_circuit", circuit_id=cid, start_datetime=shift(c.started_at),
            stop_datetime=shift(c.ended_at), person_id=person_id, run_id=ecls_run_id,
            tubing_size_in_inches=size, priming_solution_concept_id=priming_concept(
                c.priming_solution),
            stop_reason_concept_id=stop_reason(c.stop_reason, c.ended_at))  # fmt: skip

    def circuit_at(at: datetime) -> int | None:
        for cid, c in circuits.values():
            if c.started_at <= at and (c.ended_at is None or at < c.ended_at):
                return cid
        return None

    from continuum.research.export_omop import MODE_CONCEPT

    for m in db.scalars(
        select(ModeSegment)
        .where(ModeSegment.run_id == run_id)
        .order_by(ModeSegment.started_at, ModeSegment.id)
    ):
        cid = circuits[m.circuit_id][0] if m.circuit_id in circuits else None
        cid = cid or (circuit_at(m.started_at) if m.circuit_id is None else None)
        if cid is None:
            state.skip("modes_without_exported_circuit")
            continue
        add("ecls_mode", mode_id=state.next_id("ecls_mode"), start_datetime=shift(m.started_at),
            stop_datetime=shift(m.ended_at), person_id=person_id, circuit_id=cid,
            mode_concept_id=MODE_CONCEPT.get(m.mode, 0))  # fmt: skip

    def link(
        kind: str, component_id: int, cid: int, start: datetime, stop: datetime | None
    ) -> None:
        add("ecls_circuit_component",
            circuit_component_id=state.next_id("ecls_circuit_component"),
            start_datetime=shift(start), stop_datetime=shift(stop), person_id=person_id,
            circuit_id=cid, component_type_concept_id=COMPONENT_TYPE[kind],
            component_id=component_id)  # fmt: skip

    for comp in db.scalars(
        select(Component)
        .where(Component.run_id == run_id)
        .order_by(Component.started_at, Component.id)
    ):
        table = KIND_TABLE.get(comp.kind)
        if table is None:  # the tubing set is the circuit's tubing size, not a component
            continue
        material = _material(
            state, add, f"{table}_material", (comp.make, comp.model),
            name=comp.model or "not recorded", manufacturer=comp.make or "not recorded",
            type_concept_id=MATERIAL_TYPE[comp.kind],
        )  # fmt: skip
        new_id = state.next_id(table)
        row: dict[str, Any] = {
            ID_COLUMN[table]: new_id, "start_datetime": shift(comp.started_at),
            "stop_datetime": shift(comp.stopped_at), "person_id": person_id,
            "stop_reason_concept_id": stop_reason(comp.stop_reason, comp.stopped_at),
            "material_id": material, **ids(comp),
        }  # fmt: skip
        if comp.kind == "membrane_lung":
            circuit = circuits.get(comp.circuit_id)
            row["priming_solution_concept_id"] = (
                priming_concept(circuit[1].priming_solution) if circuit else 0
            )
        add(table, **row)
        if comp.circuit_id in circuits:
            link(comp.kind, new_id, circuits[comp.circuit_id][0], comp.started_at,
                 comp.stopped_at)  # fmt: skip

    for cn in db.scalars(
        select(Cannula).where(Cannula.run_id == run_id).order_by(Cannula.inserted_at, Cannula.id)
    ):
        if not (cn.french and cn.length_cm and cn.insertion_depth_cm):
            state.skip("cannulas_without_size_length_or_insertion_depth")
            continue
        dual = cn.role == "drainage_and_return"
        material = _material(
            state, add, "ecls_cannula_material",
            (cn.make, cn.model, cn.french, round(cn.length_cm), dual),
            name=cn.model or "not recorded", manufacturer=cn.make or "not recorded",
            type_concept_id=MATERIAL_TYPE["cannula_dual" if dual else "cannula"],
            diameter_in_french=cn.french, length_in_centimeters=round(cn.length_cm),
        )  # fmt: skip
        location = site_concept(cn.site)
        side = LATERALITY.get(cn.side or "")
        new_id = state.next_id("ecls_cannula")
        add("ecls_cannula", cannula_id=new_id, start_datetime=shift(cn.inserted_at),
            stop_datetime=shift(cn.removed_at), person_id=person_id,
            flow_direction_concept_id=FLOW_DIRECTION.get(cn.role, 0),
            location_concept_id=location, laterality_concept_id=side,
            insertion_concept_id=0, insertion_length_in_centimeters=round(cn.insertion_depth_cm),
            tip_position_concept_id=site_concept(cn.tip_position) or location,
            tip_position_laterality_concept_id=side if not cn.tip_position else None,
            removal_concept_id=None,
            stop_reason_concept_id=stop_reason(cn.stop_reason, cn.removed_at),
            material_id=material, **ids(cn))  # fmt: skip
        for cid, c in circuits.values():  # a cannula serves every circuit it overlaps
            start = max(cn.inserted_at, c.started_at)
            ends = [e for e in (cn.removed_at, c.ended_at) if e is not None]
            stop = min(ends) if ends else None
            if stop is None or start < stop:
                link("cannula", new_id, cid, start, stop)

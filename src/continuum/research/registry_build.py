"""Build a run's ELSO-shaped registry record from what the platform captured.

Every field carries its value and unit and where it came from (the observation, record or
rule, with its id and time) or the status "missing" with where to record it. Which fields
the registry requires is our reading of ELSO's minimum dataset ([U], docs/registry.md): a
versioned list here, never presented as ELSO's own. Nothing is typed in this module: a
reviewer's confirmations and corrections are applied on top by ``registry_service``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import continuum.quality.taxonomy as taxonomy
from continuum.core import hospital_outcome, run_facts, transfers
from continuum.core.people import Patient, PatientIdentity
from continuum.core.record import Observation
from continuum.core.run_record import ModeSegment, Run
from continuum.initiation.models import InitiationDecision
from continuum.quality.adverse_event_record import AdverseEvent, AdverseEventAmendment
from continuum.research import elso_codes
from continuum.research.elso_codes import CodeList
from continuum.research.registry_settings import Windows
from continuum.weaning.models import Decannulation

ICD10 = r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?"
CPT = r"[0-9]{5}"
REQUIRED_LIST_VERSION = "continuum-elso-required-1 [U]"
TABLES: dict[str, str] = {
    "run": "Run",
    "complications": "Complications",
    "cannulas": "Cannulas",
    "membrane_lungs": "Membrane lungs",
    "pumps": "Pumps",
    "mode_periods": "Mode periods",
    "pre_support": "Pre-ECLS support",
    "diagnoses": "Diagnoses",
    "procedures": "Procedures",
    "outcome": "Outcome",
    "discharge": "Discharge",
}
KINDS = ("number", "time", "code", "flag", "text")
FILLED = ("filled", "confirmed", "corrected")
# Where to record each kind of missing value (page paths; {run} is the run id).
WHERE_RUN = "/runs/{run}"
WHERE_REFERRAL = "the referral's candidacy and scores (initiation), before time on"
WHERE_REVIEW = "here: correct the field below (no other screen holds it)"


@dataclass
class RegistryField:
    table: str
    row: str  # "" for a table with one row, else the source record's id
    name: str
    label: str
    kind: str
    required: bool
    unit: str = ""
    value: Any = None
    status: str = "missing"  # filled | missing | no_code | confirmed | corrected
    source: str | None = None
    source_kind: str | None = None  # observation | record | rule | amendment
    source_id: str | None = None
    source_time: datetime | None = None
    our_value: str | None = None  # the platform's value a code was looked up for
    note: str | None = None
    where: str | None = None
    code_list: str | None = None
    low: float | None = None
    high: float | None = None
    free_text: bool = False
    pattern: str | None = None  # a typed text value must match (ICD-10, CPT)
    pattern_words: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.row}.{self.name}" if self.row else f"{self.table}.{self.name}"

    @property
    def filled(self) -> bool:
        return self.status in FILLED

    @property
    def typed(self) -> bool:
        return self.status == "corrected"

    def set(
        self,
        value: Any,
        source: str,
        kind: str,
        ref: object = None,
        at: datetime | None = None,
    ) -> RegistryField:
        if value is None or value == "":
            return self
        self.value, self.status, self.source, self.source_kind = value, "filled", source, kind
        self.source_id = None if ref is None else str(ref)
        self.source_time = at
        return self

    def coded(
        self, our: str | None, codes: CodeList, source: str, ref: object = None, at: Any = None
    ) -> RegistryField:
        """The registry value for our value; "no_code" (reported) when the list has none."""
        self.code_list = codes.name
        if our is None or our == "":
            return self
        self.our_value = our
        registry = codes.lookup(our)
        if registry is None:
            self.status, self.source, self.source_kind = "no_code", source, "record"
            self.source_id = None if ref is None else str(ref)
            self.note = f"'{our}' has no code in {codes.name} ({codes.version}): not guessed"
            return self
        return self.set(registry, source, "record", ref, at)


@dataclass
class RegistryRecord:
    run_id: int
    patient_label: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    windows: Windows
    fields: list[RegistryField]
    complications_unmapped: list[str]

    def table(self, name: str) -> list[RegistryField]:
        return [f for f in self.fields if f.table == name]

    def by_key(self) -> dict[str, RegistryField]:
        return {f.key: f for f in self.fields}

    @property
    def required(self) -> list[RegistryField]:
        return [f for f in self.fields if f.required]

    @property
    def work_list(self) -> list[RegistryField]:
        """Required fields still without a registry value (missing, or no ELSO code)."""
        return [f for f in self.required if not f.filled]

    @property
    def completeness_pct(self) -> float:
        req = self.required
        return 100.0 if not req else round(100 * sum(f.filled for f in req) / len(req), 1)

    @property
    def untyped_pct(self) -> float:
        """Required fields filled from the captured record, without a reviewer typing."""
        req = self.required
        done = sum(f.status in ("filled", "confirmed") for f in req)
        return 100.0 if not req else round(100 * done / len(req), 1)


def _stamp(at: datetime | None) -> str:
    return "" if at is None else at.isoformat(timespec="minutes")


def _obs_source(o: Observation) -> str:
    return f"observation {o.id} ({o.code}, {o.source}, {_stamp(o.time)})"


class _Builder:
    def __init__(self, db: Session, run: Run, windows: Windows) -> None:
        self.db, self.run, self.w = db, run, windows
        self.fields: list[RegistryField] = []
        self.rid = run.id

    def add(
        self,
        table: str,
        row: str,
        name: str,
        label: str,
        kind: str,
        req: bool,
        unit: str = "",
        where: str | None = None,
        **extra: Any,
    ) -> RegistryField:
        f = RegistryField(table, row, name, label, kind, req, unit, **extra)
        f.where = where or WHERE_REVIEW
        self.fields.append(f)
        return f

    # --- observations -----------------------------------------------------------------
    def closest(self, codes: tuple[str, ...], at: datetime, tol_h: float) -> Observation | None:
        lo, hi = at - timedelta(hours=tol_h), at + timedelta(hours=tol_h)
        for code in codes:  # the first code with a value wins (arterial MAP before cuff)
            rows = self.db.scalars(
                select(Observation).where(
                    Observation.run_id == self.rid,
                    Observation.code == code,
                    Observation.status == "final",
                    Observation.time >= lo,
                    Observation.time <= hi,
                )
            ).all()
            if rows:
                return min(rows, key=lambda o: (abs((o.time - at).total_seconds()), -o.id))
        return None

    def from_obs(self, f: RegistryField, codes: tuple[str, ...], at: datetime, tol: float) -> None:
        o = self.closest(codes, at, tol)
        if o is not None:
            f.set(o.value, _obs_source(o), "observation", o.id, o.time)
        elif self.run.ended_at is not None and self.run.ended_at < at:
            f.note = f"the run ended before {_stamp(at)}"
        else:
            f.note = f"no charted {codes[0]} within ±{tol:g} h of {_stamp(at)}"

    # --- initiation -------------------------------------------------------------------
    def decision(self) -> InitiationDecision | None:
        return self.db.scalars(
            select(InitiationDecision).where(InitiationDecision.run_id == self.rid)
        ).first()

    def build(self) -> list[RegistryField]:
        self.run_table()
        self.transfer()
        self.complications()
        self.cannulas()
        self.components("membrane_lung", "membrane_lungs", "membrane lung")
        self.components("pump", "pumps", "pump")
        self.modes()
        self.pre_support()
        self.diagnoses()
        self.procedures()
        self.outcome()
        self.discharge()
        self.provided()
        return self.fields

    def provided(self) -> None:
        """Fields a domain fills through core's hook (``core.run_facts``), e.g. the highest
        ICU Mobility Scale level reached (ambulation); never required by the registry."""
        for spec, answers in run_facts.facts_for(self.db, [self.rid]):
            f = self.add(
                spec.table, "", spec.name, spec.label, spec.kind, False, spec.unit,
                where=spec.where.format(run=self.rid), low=spec.low, high=spec.high,
            )  # fmt: skip
            answer = answers[self.rid]
            if isinstance(answer, str):
                f.note = answer
                continue
            f.set(answer.value, answer.source, "record", answer.source_id, answer.at)
            f.note = answer.note or spec.mapping or None

    def run_table(self) -> None:
        run, rid = self.run, self.rid
        src = f"run {rid}"
        where = WHERE_RUN.format(run=rid)
        self.add("run", "", "support_type", "Support type", "code", True, where=where).coded(
            run.support_type, elso_codes.SUPPORT_TYPE, f"{src} support type", rid
        )
        first = run.modes[0] if run.modes else None
        self.add("run", "", "mode_initial", "Initial mode", "code", True, where=where).coded(
            first.mode if first else None,
            elso_codes.MODE,
            f"mode period {first.id} ({_stamp(first.started_at)})" if first else "",
            first.id if first else None,
        )
        self.add("run", "", "time_on", "Time on ECLS", "time", True, where=where).set(
            run.started_at, f"{src} start", "record", rid, run.started_at
        )
        off = self.add("run", "", "time_off", "Time off ECLS", "time", True, where=where)
        off.set(run.ended_at, f"{src} end (last cannula out)", "record", rid, run.ended_at)
        if run.ended_at is None:
            off.note = "the run is still on support"
        hours = self.add(
            "run",
            "",
            "hours_on_ecls",
            "Hours on ECLS",
            "number",
            True,
            "h",
            where=where,
            low=0,
            high=24 * 365,
        )
        if run.ended_at is not None:
            h = round((run.ended_at - run.started_at).total_seconds() / 3600, 1)
            hours.set(h, "rule: time off − time on", "rule", rid)
        patient = self.db.get(Patient, run.patient_id)
        assert patient is not None
        psrc = f"patient {patient.label}"
        self.add("run", "", "sex", "Sex", "code", True, where="/patients").coded(
            patient.sex, elso_codes.SEX, f"{psrc} sex", patient.label
        )
        born = self.db.scalar(
            select(PatientIdentity.birth_date).where(PatientIdentity.patient_id == patient.id)
        )
        age = self.add(
            "run",
            "",
            "age_years",
            "Age at time on",
            "number",
            True,
            "years",
            where="/patients",
            low=0,
            high=120,
        )
        if born is not None:
            age.set(
                _age(born, run.started_at.date()),
                "rule: birth date → age at time on",
                "rule",
                patient.label,
            )
        self.add(
            "run",
            "",
            "weight_kg",
            "Weight",
            "number",
            True,
            "kg",
            where="/patients",
            low=0.3,
            high=400,
        ).set(patient.weight_kg, f"{psrc} weight", "record", patient.label)
        self.add(
            "run",
            "",
            "height_cm",
            "Height",
            "number",
            False,
            "cm",
            where="/patients",
            low=20,
            high=260,
        ).set(patient.height_cm, f"{psrc} height", "record", patient.label)
        self.add(
            "run",
            "",
            "icu_where_started",
            "Where ECLS was started",
            "text",
            False,
            where=where,
            free_text=True,
        ).set(run.location, f"{src} location", "record", rid)
        self.pre_arrest()
        self.pre_ecls()
        t4 = run.started_at + timedelta(hours=4)
        self.from_obs(
            self.add(
                "run",
                "",
                "pump_flow_4h",
                "Pump flow at 4 h",
                "number",
                True,
                "L/min",
                where=where,
                low=0,
                high=10,
            ),
            ("blood_flow",),
            t4,
            self.w.flow_4h_tolerance_h,
        )
        t24 = run.started_at + timedelta(hours=self.w.snapshot_24h_at_h)
        tol = self.w.snapshot_24h_tolerance_h
        self.from_obs(
            self.add(
                "run",
                "",
                "pump_flow_24h",
                "Pump flow at 24 h",
                "number",
                True,
                "L/min",
                where=where,
                low=0,
                high=10,
            ),
            ("blood_flow",),
            t24,
            tol,
        )
        for name, label, unit, codes, req, lo, hi in SNAPSHOT_24H:
            self.from_obs(
                self.add("run", "", name, label, "number", req, unit, where=where, low=lo, high=hi),
                codes,
                t24,
                tol,
            )

    def transfer(self) -> None:
        """Whether the run arrived on ECMO from another centre (a secondary transport
        mission linked to it), read through core's hook (``core.transfers``); not asked
        when no domain answers it."""
        if not transfers.ARRIVAL_PROVIDERS:
            return
        rid = self.run.id
        f = self.add(
            "run",
            "",
            "arrived_on_ecmo",
            "Arrived on ECMO from another centre",
            "flag",
            False,
            where=f"/transport?run_id={rid}",
        )
        arrival = transfers.arrived_on_ecmo(self.db, [rid]).get(rid)
        if arrival is not None:
            f.set(
                True,
                f"transport mission {arrival.mission_id} (secondary)",
                "record",
                arrival.mission_id,
            )
        else:
            f.set(False, "rule: no secondary transport mission linked to the run", "rule", rid)

    def pre_arrest(self) -> None:
        f = self.add(
            "run",
            "",
            "pre_ecls_arrest",
            "Cardiac arrest before ECLS",
            "code",
            True,
            where=WHERE_REFERRAL,
            code_list="yes_no",
        )
        if self.run.support_type == "ecpr":
            f.set("Yes", f"rule: run {self.rid} support type ECPR", "rule", self.rid)
            return
        d = self.decision()
        if d is None:
            return
        for score, inputs in (d.score_inputs or {}).items():
            if isinstance(inputs, dict) and "cardiac_arrest" in inputs:
                flag = bool(inputs["cardiac_arrest"])
                f.set(
                    "Yes" if flag else "No",
                    f"initiation decision {d.id}, {score.upper()} input cardiac_arrest",
                    "record",
                    d.id,
                    d.decided_at,
                )
                return
        scored = [n for n in ("resp", "save") if isinstance((d.score_inputs or {}).get(n), dict)]
        if scored:  # the score was computed with its arrest item unticked: no arrest
            f.set(
                "No",
                f"rule: initiation decision {d.id}'s {scored[0].upper()} score was computed "
                "without its cardiac-arrest item",
                "rule",
                d.id,
                d.decided_at,
            )

    def initiation_value(self, keys: tuple[str, ...]) -> tuple[Any, str, InitiationDecision] | None:
        d = self.decision()
        if d is None:
            return None
        groups = [(k.upper(), v) for k, v in (d.score_inputs or {}).items()]
        groups += [
            (TRIAL_GROUPS.get(k, f"{k} trial"), v) for k, v in (d.trial_inputs or {}).items()
        ]
        for key in keys:
            for name, inputs in groups:
                value = _number(inputs.get(key) if isinstance(inputs, dict) else None)
                if value is not None:
                    return value, f"{name} input {key}", d
        return None

    def pre_ecls(self) -> None:
        d = self.decision()
        at = None if d is None else (d.decided_at or d.plan_at or d.updated_at)
        window = self.w.pre_ecls_window_h
        in_window = at is not None and timedelta(0) <= self.run.started_at - at <= timedelta(
            hours=window
        )
        for name, label, unit, keys, req, lo, hi in PRE_ECLS:
            f = self.add(
                "run", "", name, label, "number", req, unit, where=WHERE_REFERRAL, low=lo, high=hi
            )
            found = self.initiation_value(keys)
            if found is None:
                f.note = (
                    "no initiation decision"
                    if d is None
                    else f"not among initiation decision {d.id}'s inputs"
                )
                continue
            value, what, dec = found
            if not in_window:
                f.note = (
                    f"initiation decision {dec.id} at {_stamp(at)} is outside the pre-ECLS "
                    f"window ({window:g} h before time on)"
                )
                continue
            f.set(
                value, f"initiation decision {dec.id}, {what} ({_stamp(at)})", "record", dec.id, at
            )

    def complications(self) -> None:
        events = self.db.scalars(
            select(AdverseEvent)
            .where(AdverseEvent.run_id == self.rid)
            .order_by(AdverseEvent.occurred_at, AdverseEvent.id)
        ).all()
        amends: dict[int, list[AdverseEventAmendment]] = {}
        if events:
            for a in self.db.scalars(
                select(AdverseEventAmendment)
                .where(AdverseEventAmendment.event_id.in_([e.id for e in events]))
                .order_by(AdverseEventAmendment.at, AdverseEventAmendment.id)
            ):
                amends.setdefault(a.event_id, []).append(a)
        for e in events:
            code, at, estimated = e.code, e.occurred_at, e.time_estimated
            for a in amends.get(e.id, []):  # the values in force: amendments in order
                if a.field == "code" and a.value:
                    code = a.value
                elif a.field == "occurred_at" and a.value:
                    at = datetime.fromisoformat(a.value)
                elif a.field == "time_estimated" and a.value is not None:
                    estimated = a.value == "true"
            entry = taxonomy.BY_CODE.get(code)
            row, src = str(e.id), f"adverse event {e.id}"
            where = f"/quality/events/{e.id}"
            self.add(
                "complications", row, "event", "Complication (our code)", "text", False, where=where
            ).set(f"{code}: {entry.label if entry else code}", src, "record", e.id, at)
            f = self.add(
                "complications",
                row,
                "elso_code",
                "ELSO complication code",
                "code",
                True,
                where=where,
                code_list="elso_complication",
            )
            f.our_value = code
            if entry is not None and entry.elso is not None:
                f.set(
                    str(entry.elso),
                    f"{src} → taxonomy {taxonomy.ELSO_CODE_SET_VERSION}",
                    "rule",
                    e.id,
                    at,
                )
            else:
                f.status, f.source, f.source_kind, f.source_id = "no_code", src, "record", str(e.id)
                f.note = (
                    f"'{code}' has no ELSO code in {taxonomy.ELSO_CODE_SET_VERSION}: not guessed"
                )
            self.add("complications", row, "time", "Date and time", "time", True, where=where).set(
                at, src, "record", e.id, at
            )
            self.add(
                "complications",
                row,
                "estimated",
                "Time estimated",
                "code",
                False,
                where=where,
                code_list="yes_no",
            ).set("Yes" if estimated else "No", src, "record", e.id, at)

    def cannulas(self) -> None:
        ended = self.run.ended_at is not None
        for c in self.run.cannulas:
            row, src, where = str(c.id), f"cannula {c.id}", WHERE_RUN.format(run=self.rid)
            add = partial(self.add, "cannulas", row, where=where)
            add("purpose", "Purpose", "code", True).coded(
                c.role, elso_codes.CANNULA_PURPOSE, f"{src} role", c.id
            )
            add("site", "Site", "code", True).coded(
                c.site, elso_codes.CANNULA_SITE, f"{src} site", c.id
            )
            add("side", "Side", "text", False).set(c.side, f"{src} side", "record", c.id)
            add("size_fr", "Size", "number", True, "Fr", low=4, high=40).set(
                c.french, f"{src} size", "record", c.id
            )
            add("length_cm", "Length", "number", False, "cm", low=1, high=100).set(
                c.length_cm, f"{src} length", "record", c.id
            )
            add("manufacturer", "Manufacturer", "text", False).set(
                c.make, f"{src} make", "record", c.id
            )
            add("model", "Model number", "text", False).set(c.model, f"{src} model", "record", c.id)
            add("start_time", "Inserted", "time", True).set(
                c.inserted_at, f"{src} inserted", "record", c.id, c.inserted_at
            )
            add("end_time", "Removed", "time", ended).set(
                c.removed_at or (self.run.ended_at if ended else None),
                f"{src} removed" if c.removed_at else f"rule: removed at run {self.rid} end",
                "record" if c.removed_at else "rule",
                c.id,
            )
            initial = c.inserted_at - self.run.started_at <= timedelta(hours=1)
            add(
                "added_replaced", "Added or replaced", "code", True, code_list="added_replaced"
            ).set(
                "Initial" if initial else "Added",
                f"rule: {src} inserted {'within' if initial else 'later than'} 1 h of time on",
                "rule",
                c.id,
            )
            add("stop_reason", "Removal reason", "text", False).set(
                c.stop_reason, f"{src} stop reason", "record", c.id
            )

    def components(self, kind: str, table: str, word: str) -> None:
        ended = self.run.ended_at is not None
        parts = [c for c in self.run.components if c.kind == kind]
        by_id = {c.id: c for c in parts}
        for order, c in enumerate(parts, start=1):
            row, src, where = (
                str(c.id),
                f"component {c.id} ({word})",
                WHERE_RUN.format(run=self.rid),
            )
            add = partial(self.add, table, row, where=where)
            add("manufacturer", "Manufacturer", "text", True).set(
                c.make, f"{src} make", "record", c.id
            )
            add("name", "Name / model", "text", True).set(c.model, f"{src} model", "record", c.id)
            add("start_time", "Started", "time", True).set(
                c.started_at, f"{src} started", "record", c.id, c.started_at
            )
            add("end_time", "Stopped", "time", ended).set(
                c.stopped_at, f"{src} stopped", "record", c.id, c.stopped_at
            )
            add("device_order", "Order", "number", False).set(
                order, f"rule: {word} {order} of the run by start time", "rule", c.id
            )
            replaced = c.replaces_id is not None
            add(
                "added_replaced", "Added or replaced", "code", True, code_list="added_replaced"
            ).set(
                "Replaced" if replaced else ("Initial" if order == 1 else "Added"),
                f"{src} replaces component {c.replaces_id}"
                if replaced
                else f"rule: {word} {order} of the run",
                "record" if replaced else "rule",
                c.id,
            )
            if replaced:
                old = by_id.get(c.replaces_id or 0)
                add("replace_reason", "Replacement reason", "code", True).coded(
                    old.stop_reason if old else None,
                    elso_codes.REPLACEMENT_REASON,
                    f"component {c.replaces_id} stop reason",
                    c.replaces_id,
                )

    def modes(self) -> None:
        segments: list[ModeSegment] = list(self.run.modes)
        ended = self.run.ended_at is not None
        for i, m in enumerate(segments):
            row, src, where = str(m.id), f"mode period {m.id}", WHERE_RUN.format(run=self.rid)
            add = partial(self.add, "mode_periods", row, where=where)
            add("mode", "Mode", "code", True).coded(m.mode, elso_codes.MODE, src, m.id)
            add("start_time", "Start", "time", True).set(
                m.started_at, src, "record", m.id, m.started_at
            )
            last = i == len(segments) - 1
            add("end_time", "End", "time", ended or not last).set(
                m.ended_at or (self.run.ended_at if last else None),
                src if m.ended_at else f"rule: run {self.rid} end",
                "record" if m.ended_at else "rule",
                m.id,
            )
            add("reason", "Reason for the change", "text", False, free_text=True).set(
                m.reason, src, "record", m.id
            )

    def pre_support(self) -> None:
        d = self.decision()
        for name, label, score_key in PRE_SUPPORT_FLAGS:
            f = self.add(
                "pre_support",
                "",
                name,
                label,
                "code",
                False,
                where=WHERE_REFERRAL,
                code_list="yes_no",
            )
            if d is None:
                f.note = "no initiation decision linked to this run"
                continue
            for score, inputs in (d.score_inputs or {}).items():
                if isinstance(inputs, dict) and score_key in inputs:
                    f.set(
                        "Yes" if inputs[score_key] else "No",
                        f"initiation decision {d.id}, {score.upper()} input {score_key}",
                        "record",
                        d.id,
                        d.decided_at,
                    )
                    break
        found = self.initiation_value(("mechanical_ventilation_hours",))
        f = self.add(
            "pre_support",
            "",
            "ventilation_hours",
            "Ventilated before ECLS",
            "number",
            False,
            "h",
            where=WHERE_REFERRAL,
            low=0,
            high=24 * 60,
        )
        if found:
            f.set(found[0], f"initiation decision {found[2].id}, {found[1]}", "record", found[2].id)

    def diagnoses(self) -> None:
        where = WHERE_RUN.format(run=self.rid)
        self.add(
            "diagnoses",
            "",
            "primary_text",
            "Primary diagnosis (as written)",
            "text",
            False,
            where=where,
            free_text=True,
        ).set(self.run.diagnosis, f"run {self.rid} diagnosis", "record", self.rid)
        icd = self.add(
            "diagnoses",
            "",
            "primary_icd10",
            "Primary diagnosis, ICD-10",
            "text",
            True,
            pattern=ICD10,
            pattern_words="ICD-10 code, e.g. J12.82",
        )
        code = icd10_written(self.run.diagnosis)
        if code is not None:
            icd.set(
                code,
                f"rule: ICD-10 code written first in run {self.rid}'s diagnosis",
                "rule",
                self.rid,
            )
        else:
            icd.note = "the run's diagnosis as written does not begin with an ICD-10 code"
        found = None
        d = self.decision()
        for score, inputs in ((d.score_inputs or {}) if d else {}).items():
            if isinstance(inputs, dict) and isinstance(inputs.get("diagnosis"), str):
                found = (score, inputs["diagnosis"])
                break
        f = self.add(
            "diagnoses",
            "",
            "diagnosis_group",
            "Diagnosis group (score input)",
            "text",
            False,
            where=WHERE_REFERRAL,
        )
        if found and d:
            f.set(
                found[1],
                f"initiation decision {d.id}, {found[0].upper()} input diagnosis",
                "record",
                d.id,
            )

    def procedures(self) -> None:
        dec = self.db.scalars(select(Decannulation).where(Decannulation.run_id == self.rid)).first()
        if dec is None:
            return
        row, src = str(dec.id), f"decannulation {dec.id}"
        where = f"/runs/{self.rid}/weaning"
        self.add("procedures", row, "procedure", "Procedure", "text", False, where=where).set(
            "decannulation", src, "record", dec.id, dec.decannulated_at
        )
        self.add("procedures", row, "time", "Date and time", "time", False, where=where).set(
            dec.decannulated_at, src, "record", dec.id, dec.decannulated_at
        )
        self.add(
            "procedures",
            row,
            "closure",
            "Closure technique",
            "text",
            False,
            where=where,
            free_text=True,
        ).set(dec.closure_technique, src, "record", dec.id)
        self.add(
            "procedures",
            row,
            "cpt_code",
            "CPT code",
            "text",
            False,
            pattern=CPT,
            pattern_words="CPT code (5 digits)",
        )

    def outcome(self) -> None:
        run, where = self.run, WHERE_RUN.format(run=self.rid)
        ended = run.ended_at is not None
        src = f"run {self.rid} outcome"
        self.add(
            "outcome", "", "discontinuation", "Discontinuation reason", "code", True, where=where
        ).coded(run.outcome, elso_codes.DISCONTINUATION, src, self.rid)
        died = self.add(
            "outcome",
            "",
            "died_on_ecls",
            "Died on ECLS",
            "code",
            True,
            where=where,
            code_list="yes_no",
        )
        if ended:
            died.set(
                "Yes" if run.outcome == "died_on_ecmo" else "No",
                f"rule: {src}",
                "rule",
                self.rid,
                run.ended_at,
            )
        self.add(
            "outcome",
            "",
            "stop_reason",
            "Why support stopped (as written)",
            "text",
            False,
            where=where,
            free_text=True,
        ).set(run.stop_reason, f"run {self.rid}", "record", self.rid)

    def discharge(self) -> None:
        where = f"/runs/{self.rid}/hospital-outcome"
        note = "no hospital outcome recorded yet: record it on the run's hospital-outcome page"
        alive = self.add(
            "discharge",
            "",
            "discharged_alive",
            "Discharged alive",
            "code",
            True,
            code_list="yes_no",
            where=where,
        )
        date_f = self.add(
            "discharge", "", "discharge_date", "Discharge date", "time", False, where=where
        )
        loc = self.add(
            "discharge",
            "",
            "discharge_location",
            "Discharge location",
            "code",
            False,
            code_list="discharge_location",
            where=where,
        )
        if self.run.outcome == "died_on_ecmo":
            alive.set(
                "No",
                f"rule: run {self.rid} outcome died on ECMO",
                "rule",
                self.rid,
                self.run.ended_at,
            )
            return
        outcome = hospital_outcome.in_force(self.db, self.rid)
        if outcome is None or outcome.status == "in_hospital":
            for f in (alive, date_f, loc):
                f.note = note if outcome is None else "the patient is still in hospital"
            return
        src = f"hospital outcome {outcome.id} ({outcome.status_label})"
        alive_now = bool(outcome.survived)
        alive.set("Yes" if alive_now else "No", src, "record", outcome.id, outcome.at)
        date_f.set(outcome.at, src, "record", outcome.id, outcome.at)
        if alive_now:
            ours = "another_hospital" if outcome.status == "transferred_alive" else None
            loc.coded(
                _DISCHARGE_LOCATION.get(outcome.destination or ours or "", outcome.destination),
                elso_codes.CODE_LISTS["discharge_location"],
                src,
                outcome.id,
                outcome.at,
            )


# Our hospital-outcome destinations → the registry's discharge-location list ("other" has no
# code there: reported as no_code, not guessed).
_DISCHARGE_LOCATION: dict[str, str] = {
    "home": "home",
    "another_hospital": "other_hospital",
    "rehabilitation": "long_term_care_or_rehab",
    "hospice": "hospice",
}


# The initiation decision's input groups besides the scores, as sources name them.
TRIAL_GROUPS = {"pre_ecls": "pre-ECLS gas"}
_ICD10_FIRST = re.compile(rf"\s*({ICD10})(?=$|[\s,;:–—-])")


def icd10_written(diagnosis: str | None) -> str | None:
    """The ICD-10 code a diagnosis as written begins with ("J10.0 Influenza A pneumonia"),
    or None: a code is read only where the clinician wrote it, never inferred from words."""
    found = _ICD10_FIRST.match(diagnosis or "")
    return found.group(1) if found else None


# name, label, unit, initiation input keys (first found wins), required, low, high
PRE_ECLS: tuple[tuple[str, str, str, tuple[str, ...], bool, float, float], ...] = (
    ("ph_pre", "pH before ECLS", "", ("ph",), True, 6.5, 8.0),
    ("paco2_pre", "PaCO2 before ECLS", "mmHg", ("paco2_mmhg",), True, 5, 200),
    ("pao2_pre", "PaO2 before ECLS", "mmHg", ("pao2_mmhg",), True, 10, 700),
    ("fio2_pre", "Ventilator FiO2 before ECLS", "fraction", ("fio2",), True, 0.21, 1.0),
    ("peep_pre", "PEEP before ECLS", "cmH2O", ("peep_cmh2o",), True, 0, 40),
    (
        "pip_pre",
        "Peak inspiratory pressure before ECLS",
        "cmH2O",
        ("peak_inspiratory_pressure_cmh2o",),
        False,
        0,
        100,
    ),
)
# name, label, unit, observation codes (first with a value wins), required, low, high
SNAPSHOT_24H: tuple[tuple[str, str, str, tuple[str, ...], bool, float, float], ...] = (
    ("ph_24h", "pH at 24 h", "", ("ph",), True, 6.5, 8.0),
    ("paco2_24h", "PaCO2 at 24 h", "mmHg", ("paco2",), True, 0, 200),
    ("pao2_24h", "PaO2 at 24 h", "mmHg", ("pao2",), True, 0, 800),
    ("sao2_24h", "SaO2 at 24 h", "%", ("sao2",), False, 0, 100),
    ("lactate_24h", "Lactate at 24 h", "mmol/L", ("lactate",), False, 0, 30),
    ("fio2_24h", "Ventilator FiO2 at 24 h", "fraction", ("vent_fio2",), True, 0.21, 1.0),
    ("peep_24h", "PEEP at 24 h", "cmH2O", ("peep",), True, 0, 40),
    ("pip_24h", "Peak inspiratory pressure at 24 h", "cmH2O", ("peak_pressure",), False, 0, 100),
    ("rate_24h", "Ventilator rate at 24 h", "/min", ("resp_rate",), False, 0, 80),
    ("map_24h", "Mean arterial pressure at 24 h", "mmHg", ("map", "map_nibp"), True, 0, 250),
    ("svo2_24h", "SvO2 at 24 h", "%", ("svo2",), False, 0, 100),
)
PRE_SUPPORT_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("neuromuscular_blockade", "Neuromuscular blockade", "neuromuscular_blockade"),
    ("inhaled_nitric_oxide", "Inhaled nitric oxide", "nitric_oxide"),
    ("bicarbonate_infusion", "Bicarbonate infusion", "bicarbonate_infusion"),
)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def build(db: Session, run: Run, windows: Windows, patient_label: str) -> RegistryRecord:
    fields = _Builder(db, run, windows).build()
    unmapped = sorted(
        {f.our_value or "" for f in fields if f.table == "complications" and f.status == "no_code"}
    )
    return RegistryRecord(
        run_id=run.id,
        patient_label=patient_label,
        status=run.status,
        started_at=run.started_at,
        ended_at=run.ended_at,
        windows=windows,
        fields=fields,
        complications_unmapped=unmapped,
    )


def _number(value: Any) -> int | float | None:
    """A number among a decision's inputs; decisions saved from the web form before numbers
    were stored as numbers hold them as text ("7.21"), read the same way."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None

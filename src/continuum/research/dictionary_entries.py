"""The data dictionary's hand-written part: for every table.column of the record, its label
where the column name does not say it, and its place in each standard we export to, or why
it has none. Pure data (no database): ``data_dictionary`` joins it with the ORM metadata.

Standards and the versions targeted (docs/data-dictionary.md explains the choices):

- ELSO: the registry run record as hospitals receive it (``patient_run``, ``complications``,
  ``cannula``, ``memblung``/``pump``, ``rundetail`` …), ELSO Registry Data Definitions
  2018 with the April 2022 change document; table.field names as in that record.
- REDCap: our own project's data dictionary (one instrument per table, repeating where a
  run has many rows); the field name and type are derived, so an entry only says when a
  column is kept out of it.
- FHIR R4 (4.0.1): resource.element; the LOINC code comes from ``vocabulary.CODES``.
- OMOP CDM 5.4 with the ECLS-CDM extension v0.2.0: table.column (and concept ids).
- CLIF 2.1 ``ecmo_mcs``: the column.

A standard left ``None`` is "not mapped" with the entry's ``why`` (else the table's).
A test (tests/research/test_data_dictionary.py) fails for every table.column without an
entry here and for every entry whose column no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from continuum import vocabulary
from continuum.core.vocab import COMPONENT_STOP_REASONS, DISCIPLINES, MODES
from continuum.initiation.models import REFERRAL_STATUSES

STANDARDS: tuple[str, ...] = ("elso", "redcap", "fhir", "omop", "clif")
STANDARD_LABELS: dict[str, str] = {
    "elso": "ELSO registry",
    "redcap": "REDCap",
    "fhir": "FHIR R4",
    "omop": "OMOP CDM 5.4 / ECLS-CDM",
    "clif": "CLIF 2.1 ecmo_mcs",
}
STANDARD_VERSIONS: dict[str, str] = {
    "elso": "ELSO Registry Data Definitions 2018, change document of 3 April 2022",
    "redcap": "REDCap data dictionary (18 columns) and repeating instruments",
    "fhir": "FHIR R4 (4.0.1)",
    "omop": "OMOP CDM 5.4 with ECLS-CDM v0.2.0",
    "clif": "CLIF 2.1 ecmo_mcs",
}


@dataclass(frozen=True)
class Mapping:
    """One column's (or one observation code's) place in each standard."""

    elso: str | None = None
    fhir: str | None = None
    omop: str | None = None
    clif: str | None = None
    label: str | None = None
    unit: str | None = None
    allowed: tuple[str, ...] = ()
    why: str = ""  # why the standards left None have no place for it
    no_redcap: str = ""  # why it is kept out of the REDCap project ("" = exported)


@dataclass(frozen=True)
class Table:
    label: str
    form: str  # REDCap instrument
    repeating: bool  # a run has many rows: a repeating instrument
    why: str  # the default reason a column of this table has no place in a standard
    columns: dict[str, Mapping] = field(default_factory=dict)


M = Mapping
NO_CLIF_ENTITY = "CLIF ecmo_mcs is one row per device reading; it has no such entity"
STAFF_WHY = "a staff id: who did it is not part of any registry record"
STAFF = M(why=STAFF_WHY, no_redcap="staff ids are not exported")
NAME = M(why="a person's name is an identifier", no_redcap="a name is an identifier")
WRITTEN = M(
    label="Recorded at (when the row was written)",
    why="bookkeeping time; the standards carry the clinical time",
    no_redcap="bookkeeping time",
)
VERSION = M(
    label="Edit version",
    why="an edit counter for concurrent saves",
    no_redcap="an edit counter",
)
TEXT = M(
    why="typed free text: withheld from de-identified data unless a reviewer releases it",
    no_redcap="free text is withheld from de-identified exports",
)
ROW_ID = M(label="Row id", why="a row id of this database; exports number rows afresh")
RUN_REF = M(
    label="Run",
    elso="patient_run.runid",
    fhir="Procedure.id (the run) as a reference",
    omop="ecls_run.run_id",
    why=NO_CLIF_ENTITY,
)
PATIENT_REF = M(
    label="Patient",
    elso="patient_run.patientid",
    fhir="Patient.id (pseudonymised)",
    omop="person.person_id",
    clif="hospitalization_id (through the patient's stay)",
)
CODES = tuple(vocabulary.CODES)
INTERNAL = "a working record of this platform with no counterpart in registry or research standards"
GOVERNANCE = "programme governance (M&M, audit), not a patient-level research variable"

TABLES: dict[str, Table] = {
    "patient": Table(
        "Patient (clinical facts)",
        "patient",
        False,
        NO_CLIF_ENTITY,
        {
            "id": M(
                label="Patient",
                elso="patient_run.patientid",
                fhir="Patient.id (pseudonymised)",
                omop="person.person_id",
                clif="hospitalization_id (through the patient's stay)",
            ),
            "sex": M(
                elso="patient_run.sex",
                fhir="Patient.gender",
                omop="person.gender_concept_id",
                why="CLIF keeps sex in its patient table, not in ecmo_mcs",
            ),
            "height_cm": M(
                label="Height",
                unit="cm",
                elso="patient_run.height",
                fhir="Observation.valueQuantity (LOINC 8302-2 body height)",
                omop="measurement (concept 3036277 height)",
                why="CLIF keeps height in vitals, not in ecmo_mcs",
            ),
            "weight_kg": M(
                label="Weight",
                unit="kg",
                elso="patient_run.weight",
                fhir="Observation.valueQuantity (LOINC 29463-7 body weight)",
                omop="measurement (concept 3025315 weight)",
                why="CLIF keeps weight in vitals, not in ecmo_mcs",
            ),
            "created_at": WRITTEN,
        },
    ),
    "patient_identity": Table(
        "Patient identifiers (restricted)",
        "patient",
        False,
        "a direct identifier: registries and research data carry none",
        {
            "patient_id": M(label="Patient", no_redcap="the record id is the pseudonym"),
            "mrn": M(
                label="Medical record number",
                fhir="Patient.identifier (identified exports only)",
                no_redcap="an identifier",
            ),
            "name": M(
                label="Patient name",
                fhir="Patient.name (identified exports only)",
                no_redcap="an identifier",
            ),
            "birth_date": M(
                elso="patient_run.birthdate (ELSO derives agedays / ageyears)",
                fhir="Patient.birthDate (shifted per patient when de-identified)",
                omop="person.year_of_birth, month_of_birth, day_of_birth",
                why=NO_CLIF_ENTITY,
                no_redcap="exported as age at the run's start (over 89 grouped)",
            ),
        },
    ),
    "run": Table(
        "ECMO run",
        "run",
        True,
        NO_CLIF_ENTITY,
        {
            "id": RUN_REF,
            "patient_id": PATIENT_REF,
            "support_type": M(
                elso="patient_run.supporttype",
                fhir="Procedure.reasonCode",
                omop="ecls_run.start_reason_concept_id (320136 respiratory, "
                "134057 cardiovascular, 4205502 resuscitation for ECPR)",
            ),
            "status": M(
                label="Run status",
                fhir="Procedure.status (in-progress / completed)",
                why="a registry holds ended runs; the state is implied by the stop time",
            ),
            "indication": TEXT,
            "is_training": M(
                label="Simulation-training run (never exported: training runs are left out)",
                why="a simulated patient: every export, cohort and registry leaves it out",
            ),
            "diagnosis": M(
                elso="diagnoses (ICD-10, primary flag), coded from this text",
                fhir="Procedure.reasonCode.text",
                omop="condition_occurrence (after coding)",
                why="free text until coded; CLIF has no diagnoses in ecmo_mcs",
                no_redcap="free text is withheld from de-identified exports",
            ),
            "location": M(
                label="Where ECMO was started",
                elso="patient_run.icuwhereeclsreceived",
                fhir="Procedure.location",
                omop="visit_detail.care_site_id",
            ),
            "started_at": M(
                label="Start of ECMO (time on)",
                elso="patient_run.timeon",
                fhir="Procedure.performedPeriod.start",
                omop="ecls_run.start_datetime",
                clif="recorded_dttm of the run's first row",
            ),
            "ended_at": M(
                label="End of ECMO (time off)",
                elso="patient_run.timeoff",
                fhir="Procedure.performedPeriod.end",
                omop="ecls_run.stop_datetime",
                clif="recorded_dttm of the run's last row",
            ),
            "outcome": M(
                label="Outcome of the run",
                elso="patient_run.discontinuation",
                fhir="Procedure.outcome",
                omop="ecls_run.stop_reason_concept_id (4149524 improved, 434489 dead, "
                "4337306 VAD, 4137127 / 4337138 transplant …)",
            ),
            "stop_reason": TEXT,
            "created_by": STAFF,
            "created_at": WRITTEN,
        },
    ),
    "circuit": Table(
        "Circuit",
        "circuit",
        True,
        NO_CLIF_ENTITY,
        {
            "id": M(
                label="Circuit",
                fhir="Device.id (the system)",
                omop="ecls_circuit.circuit_id",
                why="ELSO records equipment, not circuits; " + NO_CLIF_ENTITY,
            ),
            "run_id": RUN_REF,
            "started_at": M(
                label="Circuit in service from",
                fhir="Device.property (start)",
                omop="ecls_circuit.start_datetime",
                why="ELSO dates each device, not the circuit; " + NO_CLIF_ENTITY,
            ),
            "ended_at": M(
                label="Circuit in service until",
                fhir="Device.property (stop)",
                omop="ecls_circuit.stop_datetime",
                why="ELSO dates each device, not the circuit; " + NO_CLIF_ENTITY,
            ),
            "tubing_size_in": M(
                label="Tubing size",
                unit="inch",
                omop="ecls_circuit.tubing_size_in_inches",
                fhir="Device.property (tubing size)",
                allowed=("0.1875", "0.25", "0.375", "0.5"),
                why="not in the ELSO run record; " + NO_CLIF_ENTITY,
            ),
            "priming_solution": M(
                omop="ecls_circuit.priming_solution_concept_id (4162581 crystalloid, "
                "4226865 blood, 37311619 albumin)",
                why="not in the ELSO run record; FHIR Device has no priming element; "
                + NO_CLIF_ENTITY,
            ),
            "stop_reason": M(
                label="Why the circuit stopped",
                elso="patient_run (circuit change: complication 132)",
                omop="ecls_circuit.stop_reason_concept_id",
                allowed=COMPONENT_STOP_REASONS,
                why="FHIR Device has no stop reason; " + NO_CLIF_ENTITY,
            ),
        },
    ),
    "mode_segment": Table(
        "Mode period",
        "mode_period",
        True,
        "",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "circuit_id": M(
                label="Circuit",
                omop="ecls_mode.circuit_id",
                why="ELSO and CLIF have no circuit; FHIR links through partOf",
            ),
            "mode": M(
                label="ECMO mode",
                elso="rundetail.abbreviation (and patient_run.mode)",
                fhir="Procedure.code (sub-procedure partOf the run)",
                omop="ecls_mode.mode_concept_id (37206603 VV, 37206601 VA, 36717790 VVA, "
                "36717792 VAV, 36717791 V-P …)",
                clif="ecmo_configuration_category (v_v, v_a, v_av, vv_a, v_p)",
            ),
            "started_at": M(
                label="Mode from",
                elso="rundetail.starttime",
                fhir="Procedure.performedPeriod.start",
                omop="ecls_mode.start_datetime",
                clif="recorded_dttm (rows from this time carry the mode)",
            ),
            "ended_at": M(
                label="Mode until",
                elso="rundetail.endtime",
                fhir="Procedure.performedPeriod.end",
                omop="ecls_mode.stop_datetime",
                clif="recorded_dttm (rows until this time carry the mode)",
            ),
            "reason": TEXT,
            "recorded_by": STAFF,
        },
    ),
    "cannula": Table(
        "Cannula",
        "cannula",
        True,
        NO_CLIF_ENTITY,
        {
            "id": M(
                label="Cannula",
                elso="cannula.cannulaid",
                fhir="Device.id",
                omop="ecls_cannula.cannula_id",
            ),
            "run_id": RUN_REF,
            "role": M(
                label="Flow direction",
                elso="cannula_purpose.purposereason",
                fhir="Device.type",
                omop="ecls_cannula.flow_direction_concept_id (36717809 drainage, 36717810 "
                "return, 36717811 both, 36717812 distal perfusion)",
            ),
            "site": M(
                label="Cannulation site",
                elso="cannula.site",
                fhir="Procedure.bodySite (cannulation)",
                omop="ecls_cannula.location_concept_id",
            ),
            "side": M(
                elso="cannula.site (side is part of the site)",
                fhir="Procedure.bodySite (laterality qualifier)",
                omop="ecls_cannula.laterality_concept_id (4300877 left, 4080761 right)",
            ),
            "french": M(
                label="Size",
                unit="Fr",
                elso="cannula.size",
                fhir="Device.property (size, Fr)",
                omop="ecls_cannula_material.diameter_in_french",
            ),
            "length_cm": M(
                label="Length",
                unit="cm",
                elso="cannula.length",
                fhir="Device.property (length)",
                omop="ecls_cannula_material.length_in_centimeters",
            ),
            "insertion_depth_cm": M(
                label="Insertion depth",
                unit="cm",
                fhir="Device.property (insertion depth)",
                omop="ecls_cannula.insertion_length_in_centimeters",
                why="the ELSO run record has no insertion depth; " + NO_CLIF_ENTITY,
            ),
            "tip_position": M(
                fhir="Device.property (tip position)",
                omop="ecls_cannula.tip_position_concept_id",
                why="the ELSO run record has no tip position; " + NO_CLIF_ENTITY,
            ),
            "make": M(
                label="Manufacturer",
                elso="cannula.manufacturer",
                fhir="Device.manufacturer",
                omop="ecls_cannula_material.manufacturer",
            ),
            "model": M(
                elso="cannula.modelnumber", fhir="Device.modelNumber", omop="ecls_cannula.ref"
            ),
            "serial": M(
                label="Serial number",
                fhir="Device.serialNumber",
                omop="ecls_cannula.sn",
                why="ELSO does not collect serial numbers; " + NO_CLIF_ENTITY,
            ),
            "lot": M(
                label="Lot",
                fhir="Device.lotNumber",
                omop="ecls_cannula.lot",
                why="ELSO does not collect lots; " + NO_CLIF_ENTITY,
            ),
            "udi": M(
                label="UDI",
                fhir="Device.udiCarrier.carrierHRF",
                omop="ecls_cannula.udi",
                why="ELSO does not collect UDIs; " + NO_CLIF_ENTITY,
            ),
            "inserted_at": M(
                label="Inserted at",
                elso="cannula.starttime",
                fhir="Procedure.performedDateTime (cannulation)",
                omop="ecls_cannula.start_datetime",
            ),
            "removed_at": M(
                label="Removed at",
                elso="cannula.endtime",
                fhir="Device.status (inactive) with the removal time",
                omop="ecls_cannula.stop_datetime",
            ),
            "stop_reason": M(
                label="Why it was removed",
                elso="cannula.replacereasonid",
                omop="ecls_cannula.stop_reason_concept_id",
                allowed=COMPONENT_STOP_REASONS,
                why="FHIR Device has no stop reason; " + NO_CLIF_ENTITY,
            ),
            "recorded_by": STAFF,
        },
    ),
    "component": Table(
        "Circuit component (console, pump, membrane lung, heater, tubing)",
        "component",
        True,
        NO_CLIF_ENTITY,
        {
            "id": M(
                label="Component",
                fhir="Device.id",
                omop="ecls_<kind>.<kind>_id (ecls_membrane_lung.membrane_lung_id …)",
                elso="memblung / pump deviceorder",
                why="CLIF names the device, not the item in service",
            ),
            "run_id": RUN_REF,
            "circuit_id": M(
                label="Circuit",
                fhir="Device.parent",
                omop="ecls_circuit_component.circuit_id",
                why="ELSO and CLIF have no circuit",
            ),
            "kind": M(
                label="Component kind",
                elso="memblung / pump / equipment (the table)",
                fhir="Device.type",
                omop="ecls_circuit_component.component_type",
                clif="device_category (console) / mcs_group",
            ),
            "make": M(
                label="Manufacturer",
                elso="memblung.manufacturer / pump.manufacturer",
                fhir="Device.manufacturer",
                omop="ecls_<kind>_material.manufacturer",
                clif="device_name (console make and model)",
            ),
            "model": M(
                elso="memblung.name / pump.name",
                fhir="Device.modelNumber",
                omop="ecls_<kind>.ref",
                clif="device_name",
            ),
            "serial": M(
                label="Serial number",
                fhir="Device.serialNumber",
                omop="ecls_<kind>.sn",
                why="ELSO does not collect serial numbers; " + NO_CLIF_ENTITY,
            ),
            "lot": M(
                label="Lot",
                fhir="Device.lotNumber",
                omop="ecls_<kind>.lot",
                why="ELSO does not collect lots; " + NO_CLIF_ENTITY,
            ),
            "udi": M(
                label="UDI",
                fhir="Device.udiCarrier.carrierHRF",
                omop="ecls_<kind>.udi",
                why="ELSO does not collect UDIs; " + NO_CLIF_ENTITY,
            ),
            "rated_flow_l_min": M(
                label="Rated blood flow",
                unit="L/min",
                fhir="Device.property (rated flow)",
                why="a catalogue property: no registry field; ECLS-CDM catalogues have none; "
                + NO_CLIF_ENTITY,
            ),
            "started_at": M(
                label="In service from",
                elso="memblung.devicestarttime / pump.devicestarttime",
                fhir="Device.property (start)",
                omop="ecls_<kind>.start_datetime",
            ),
            "stopped_at": M(
                label="In service until",
                elso="memblung.deviceendtime / pump.deviceendtime",
                fhir="Device.status (inactive)",
                omop="ecls_<kind>.stop_datetime",
            ),
            "stop_reason": M(
                label="Why it was stopped",
                elso="memblung.replacereason / pump.replacereason",
                omop="ecls_<kind>.stop_reason_concept_id",
                allowed=COMPONENT_STOP_REASONS,
                why="FHIR Device has no stop reason; " + NO_CLIF_ENTITY,
            ),
            "stop_note": TEXT,
            "replaces_id": M(
                label="Replaces component",
                elso="memblung.addedreplaced / pump.addedreplaced",
                why="FHIR and OMOP express a replacement by stop and start times; "
                + NO_CLIF_ENTITY,
            ),
            "recorded_by": STAFF,
        },
    ),
    "observation": Table(
        "Observation (one value of one code at one time)",
        "observation",
        True,
        "",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "code": M(
                label="What was measured (vocabulary code)",
                elso="the snapshot field the code fills (see each code)",
                fhir="Observation.code (LOINC where the vocabulary has one)",
                omop="measurement.measurement_concept_id",
                clif="the ecmo_mcs column the code fills (see each code)",
                allowed=CODES,
            ),
            "time": M(
                label="Time of the value",
                elso="bgdate / bgdate24 (blood gases), else the snapshot window",
                fhir="Observation.effectiveDateTime",
                omop="measurement.measurement_datetime",
                clif="recorded_dttm",
            ),
            "value": M(
                label="Value (in the code's unit; one entry per code below)",
                elso="see each code",
                fhir="Observation.valueQuantity.value",
                omop="measurement.value_as_number",
                clif="see each code",
            ),
            "unit": M(
                fhir="Observation.valueQuantity.unit (UCUM code in .code)",
                omop="measurement.unit_concept_id",
                why="ELSO fixes each field's unit; CLIF fixes each column's unit",
            ),
            "source": M(
                label="Where the value came from",
                omop="measurement.measurement_type_concept_id",
                fhir="Observation.device / Observation.performer",
                why="ELSO and CLIF do not record provenance",
            ),
            "status": M(
                label="Value status",
                fhir="Observation.status (final / amended / entered-in-error)",
                why="exports carry final values only; ELSO, OMOP and CLIF hold no status",
            ),
            "entered_by": STAFF,
            "recorded_at": WRITTEN,
            "amends_id": M(
                label="Amends value",
                why="exports carry the value in force only",
                no_redcap="exports carry the value in force only",
            ),
            "ingest_ref": M(
                label="Message reference",
                why="which message or file brought it: kept for tracing only",
                no_redcap="tracing only",
            ),
            "result_status": M(
                label="Device result status (HL7 OBX-11)",
                why="as the feed sent it; ``status`` says which value counts",
                no_redcap="as the feed sent it",
            ),
            "entered_value": M(
                label="Value as entered (other unit)",
                why="exports carry the value in the code's unit",
                no_redcap="exports carry the value in the code's unit",
            ),
            "entered_unit": M(
                label="Unit as entered",
                why="exports carry the value in the code's unit",
                no_redcap="exports carry the value in the code's unit",
            ),
        },
    ),
    "observation_amendment": Table(
        "Amendment of a value",
        "observation",
        True,
        "exports carry the value in force; corrections stay in the audit trail",
        {
            "id": ROW_ID,
            "original_id": M(label="Original value"),
            "replacement_id": M(label="Replacement value"),
            "reason": TEXT,
            "amended_by": STAFF,
            "amended_at": WRITTEN,
        },
    ),
    "participation": Table(
        "Who took part (participation)",
        "participation",
        True,
        "registries do not record who took part; it is our own research variable "
        "(discipline involvement), exported to REDCap",
        {
            "id": ROW_ID,
            "record_type": M(label="Record kind"),
            "record_id": M(label="Record"),
            "run_id": RUN_REF,
            "staff_id": STAFF,
            "discipline": M(
                fhir="Procedure.performer.function / Provenance.agent.role", allowed=DISCIPLINES
            ),
            "how": M(label="How they took part", fhir="Provenance.agent.type"),
            "contribution": TEXT,
            "at": M(label="When", fhir="Provenance.recorded"),
            "entered_by": STAFF,
        },
    ),
    "run_target": Table(
        "Run target (goal range for a code)",
        "run_target",
        True,
        "a care goal, not a measured value: no registry field",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "code": M(label="Target for code", fhir="Goal.target.measure", allowed=CODES),
            "low": M(label="Target from", fhir="Goal.target.detailRange.low"),
            "high": M(label="Target up to", fhir="Goal.target.detailRange.high"),
            "unit": M(fhir="Goal.target.detailRange (UCUM unit)"),
            "set_at": M(label="Set at", fhir="Goal.startDate"),
            "set_by": STAFF,
            "source": M(
                label="Set by which record",
                why="an internal record reference",
                no_redcap="an internal record reference",
            ),
        },
    ),
    "clinical_event": Table(
        "Clinical timeline event",
        "clinical_event",
        True,
        "the timeline retells records described in their own tables",
        {
            "id": ROW_ID,
            "patient_id": PATIENT_REF,
            "run_id": RUN_REF,
            "kind": M(label="Event kind", fhir="Provenance.activity"),
            "clinical_time": M(label="Clinical time", fhir="Provenance.occurredDateTime"),
            "recorded_at": WRITTEN,
            "staff_id": STAFF,
            "by_name": NAME,
            "discipline": M(fhir="Provenance.agent.role", allowed=DISCIPLINES),
            "record_type": M(label="Record kind"),
            "record_id": M(label="Record"),
            "summary": TEXT,
            "details": M(
                label="Details (structured)",
                why="structured details of the record",
                no_redcap="structured details of the record",
            ),
        },
    ),
    "adverse_event": Table(
        "Adverse event (complication)",
        "complication",
        True,
        "CLIF ecmo_mcs carries no complications",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "patient_id": PATIENT_REF,
            "code": M(
                label="Event code (our taxonomy)",
                elso="complications.code (the taxonomy's ELSO code; unmapped codes reported)",
                fhir="AdverseEvent.event (Condition.code for patient events)",
                omop="observation / condition_occurrence concept (the taxonomy's ECLS-CDM "
                "complication concept, 367178xx)",
            ),
            "category": M(
                elso="complications (the code's hundreds: category)", fhir="AdverseEvent.category"
            ),
            "event_class": M(
                label="Event class (AHRQ)",
                fhir="AdverseEvent.actuality (actual / potential)",
                why="ELSO and OMOP record complications that happened",
            ),
            "harm": M(
                fhir="AdverseEvent.severity / outcome",
                why="ELSO records the complication, not its harm grade",
            ),
            "preventability": M(
                fhir="AdverseEvent.preventability", why="ELSO and OMOP hold no preventability"
            ),
            "occurred_at": M(
                label="When it happened",
                elso="complications.time",
                fhir="AdverseEvent.date",
                omop="observation.observation_datetime",
            ),
            "time_estimated": M(
                label="Time estimated",
                elso="complications.estimated",
                omop="observation (1340204 history of event when unknown)",
                why="FHIR AdverseEvent has no estimated flag",
            ),
            "component_id": M(
                label="Circuit part",
                fhir="AdverseEvent.suspectEntity.instance",
                omop="ecls_<kind>.stop_reason_concept_id of that component",
                why="ELSO codes the part in the complication code",
            ),
            "cannula_id": M(
                label="Cannula",
                fhir="AdverseEvent.suspectEntity.instance",
                omop="ecls_cannula.stop_reason_concept_id",
                why="ELSO codes the cannula in the complication code (131)",
            ),
            "detected_by": M(
                label="How it was found",
                fhir="AdverseEvent.recorder (context)",
                why="registries do not record how a complication was found",
            ),
            "source_type": M(
                label="Found from (record kind)",
                why="an internal link to the record it was found from",
                no_redcap="an internal link",
            ),
            "source_id": M(
                label="Found from (record)", why="an internal link", no_redcap="an internal link"
            ),
            "description": TEXT,
            "immediate_actions": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
            "version": VERSION,
        },
    ),
    "adverse_event_amendment": Table(
        "Adverse event amendment",
        "complication",
        True,
        "exports carry the values in force; the history stays in the register",
        {
            "id": ROW_ID,
            "event_id": M(label="Event"),
            "field": M(label="Field changed"),
            "value": M(label="New value"),
            "reason": TEXT,
            "kind": M(label="Correction or consensus"),
            "review_id": M(label="M&M review"),
            "by": STAFF,
            "at": WRITTEN,
        },
    ),
    "adverse_event_screen": Table(
        "Possible event set aside",
        "complication",
        True,
        "a screening decision (not an event): no registry meaning",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "source_type": M(label="Record kind"),
            "source_id": M(label="Record"),
            "decision": M(),
            "reason": TEXT,
            "by": STAFF,
            "at": WRITTEN,
        },
    ),
    "rounds_transfusion": Table(
        "Transfusion",
        "transfusion",
        True,
        "CLIF ecmo_mcs carries no transfusions",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "product": M(
                label="Blood product",
                elso="run summary: blood products on ECLS (per product) [U]",
                fhir="Procedure.usedCode (transfusion) / BiologicallyDerivedProduct.productCode",
                omop="drug_exposure / procedure_occurrence (transfusion)",
            ),
            "units": M(
                unit="units",
                fhir="Procedure.usedReference quantity",
                omop="drug_exposure.quantity",
                elso="run summary: units per product [U]",
            ),
            "volume_ml": M(
                label="Volume",
                unit="mL",
                fhir="Procedure.usedReference quantity",
                omop="drug_exposure.quantity",
                why="ELSO counts units",
            ),
            "given_at": M(
                label="Given at",
                fhir="Procedure.performedDateTime",
                omop="drug_exposure.drug_exposure_start_datetime",
                why="ELSO holds totals, not times",
            ),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "referral": Table(
        "Referral",
        "referral",
        True,
        "a referral precedes the run; registries start at time on",
        {
            "id": ROW_ID,
            "patient_id": PATIENT_REF,
            "referring_hospital": M(
                label="Referring hospital",
                why="an identifier of the patient's route: withheld",
                no_redcap="withheld (identifying)",
            ),
            "referring_clinician": NAME,
            "contact": M(
                label="Referrer's contact",
                why="a phone number: an identifier",
                no_redcap="an identifier",
            ),
            "referred_at": M(label="Referred at", fhir="ServiceRequest.authoredOn"),
            "support_type": M(label="Support asked for", fhir="ServiceRequest.reasonCode"),
            "urgency": M(
                fhir="ServiceRequest.priority",
                omop="ecls_run.urgency_concept_id (4093606 emergency, 4013731 elective)",
            ),
            "clinical_picture": TEXT,
            "status": M(label="Referral status", fhir="ServiceRequest.status"),
            "created_by": STAFF,
            "created_at": WRITTEN,
        },
    ),
    "referral_status_change": Table(
        "Referral status change",
        "referral",
        True,
        "the referral's history: the standards keep its current state only",
        {
            "id": ROW_ID,
            "referral_id": M(label="Referral"),
            "from_status": M(allowed=REFERRAL_STATUSES),
            "to_status": M(),
            "reason": TEXT,
            "at": M(label="When"),
            "changed_by": STAFF,
        },
    ),
    "initiation_decision": Table(
        "Initiation decision record",
        "initiation",
        True,
        "the candidacy and planning record before time on; registries start at time on",
        {
            "id": ROW_ID,
            "referral_id": M(label="Referral"),
            "sequence": M(label="Decision number (reassessments)"),
            "supersedes_id": M(label="Supersedes decision"),
            "reassessment_reason": TEXT,
            "checklist": M(
                label="Candidacy checklist (structured)",
                elso="pre_support / pre-ECLS status (selected items) [U]",
            ),
            "checklist_note": TEXT,
            "score_inputs": M(
                label="Score inputs (structured)",
                elso="pre-ECLS snapshot fields the inputs match (ph, pco2, po2, fio2, peep …)",
            ),
            "trial_inputs": M(label="Trial criteria inputs (structured)"),
            "score_reason": TEXT,
            "physiology": M(label="Physiology (structured)"),
            "recommended_mode": M(label="Recommended mode", allowed=MODES),
            "chosen_mode": M(label="Chosen mode", elso="patient_run.mode (initial)"),
            "choice_reason": TEXT,
            "plan": M(
                label="Configuration plan (structured)",
                elso="cannula (planned; the placed cannulas are the record)",
            ),
            "plan_by": STAFF,
            "plan_at": M(label="Plan made at"),
            "outcome": M(label="Decision"),
            "reasons": M(label="Decision reasons (structured)"),
            "override_reason": TEXT,
            "decided_at": M(label="Decided at"),
            "decided_by": STAFF,
            "physician_signed_by": STAFF,
            "physician_signed_at": M(label="Physician signed at"),
            "perfusionist_signed_by": STAFF,
            "perfusionist_signed_at": M(label="Perfusionist signed at"),
            "missing_signoff_reason": TEXT,
            "run_id": RUN_REF,
            "updated_at": WRITTEN,
            "version": VERSION,
            "updated_by": STAFF,
        },
    ),
    "initiation_amendment": Table(
        "Initiation decision amendment",
        "initiation",
        True,
        "the decision's history; exports carry the signed record",
        {
            "id": ROW_ID,
            "decision_id": M(label="Decision"),
            "note": TEXT,
            "by": STAFF,
            "at": WRITTEN,
        },
    ),
    "weaning_review": Table(
        "Weaning readiness review",
        "weaning",
        True,
        "a bedside readiness judgement: no registry field",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "family": M(label="Support family (VV / VA)"),
            "reviewed_at": M(label="Reviewed at"),
            "reviewed_by": STAFF,
            "reviewer": NAME,
            "criteria": M(label="Criteria (structured)"),
            "met": M(label="Criteria met"),
            "not_met": M(label="Criteria not met"),
            "unknown": M(label="Criteria unknown"),
            "note": TEXT,
        },
    ),
    "weaning_trial": Table(
        "Weaning trial",
        "weaning",
        True,
        "CLIF ecmo_mcs shows a trial only through its settings",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "kind": M(
                label="Trial kind",
                fhir="Procedure.code (ECLS discontinuation trial)",
                omop="procedure_occurrence (36717921 ECLS discontinuation trial)",
                why="ELSO records the outcome, not trials",
            ),
            "status": M(
                label="Trial result",
                fhir="Procedure.outcome",
                omop="procedure_occurrence (no result column)",
                why="ELSO records the outcome, not trials",
            ),
            "started_at": M(
                fhir="Procedure.performedPeriod.start",
                omop="procedure_occurrence.procedure_datetime",
                why="ELSO records the outcome, not trials",
            ),
            "ended_at": M(
                fhir="Procedure.performedPeriod.end",
                omop="procedure_occurrence.procedure_end_datetime",
                why="ELSO records the outcome, not trials",
            ),
            "started_by": STAFF,
            "planned_minutes": M(label="Planned duration", unit="min"),
            "baseline_flow": M(label="Blood flow before the trial", unit="L/min"),
            "outcome_reason": TEXT,
            "ended_by": STAFF,
            "perfusion_assessment": TEXT,
            "perfusion_flow_safe": M(label="Perfusion: flow safe for the trial"),
            "perfusion_anticoagulation_ok": M(label="Perfusion: anticoagulation fit for trial"),
            "perfusion_by": STAFF,
            "perfusion_name": NAME,
            "perfusion_at": M(label="Perfusion assessment at"),
        },
    ),
    "weaning_step": Table(
        "Weaning trial step",
        "weaning_step",
        True,
        "a trial's steps; the values are also observations",
        {
            "id": ROW_ID,
            "trial_id": M(label="Trial"),
            "seq": M(label="Step number"),
            "stage": M(),
            "at": M(label="When"),
            "measurements": M(label="Values at the step (structured)"),
            "judged": M(label="Criteria judged (structured)"),
            "note": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "decannulation": Table(
        "Decannulation",
        "decannulation",
        True,
        "the decannulation checklist; the run's end is in run",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "trial_id": M(label="Weaning trial"),
            "no_trial_reason": TEXT,
            "decannulated_at": M(
                label="Last cannula out",
                elso="patient_run.timeoff",
                fhir="Procedure.performedPeriod.end",
                omop="ecls_run.stop_datetime",
            ),
            "anticoagulation_stopped_at": M(
                label="Anticoagulation stopped at",
                omop="drug_exposure.drug_exposure_end_datetime (heparin)",
                fhir="MedicationAdministration.effectivePeriod.end",
            ),
            "anticoagulation_note": TEXT,
            "coagulation": M(
                label="Coagulation values (structured)",
                why="the values are observations, mapped there",
            ),
            "blood_products_available": M(label="Blood products available"),
            "positioning": TEXT,
            "closure_technique": M(
                omop="ecls_cannula.removal_concept_id (4006179 suture repair, 44789807 "
                "closure device, 36717904 compression device)",
                fhir="Procedure.code (vessel repair / closure)",
            ),
            "haemostasis_minutes": M(label="Time to haemostasis", unit="min"),
            "limb_perfusion": TEXT,
            "doppler": TEXT,
            "outcome": M(
                label="Outcome",
                elso="patient_run.discontinuation",
                fhir="Procedure.outcome",
                omop="ecls_run.stop_reason_concept_id",
            ),
            "stop_reason": TEXT,
            "note": TEXT,
            "created_by": STAFF,
            "created_at": WRITTEN,
            "physician_id": STAFF,
            "physician_name": NAME,
            "physician_signed_at": M(label="Physician signed at"),
            "perfusionist_id": STAFF,
            "perfusionist_name": NAME,
            "perfusionist_signed_at": M(label="Perfusionist signed at"),
        },
    ),
    "weaning_follow_up": Table(
        "Follow-up after decannulation",
        "follow_up",
        True,
        "post-decannulation checks: no registry field",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "decannulation_id": M(label="Decannulation"),
            "item": M(label="Follow-up item"),
            "due_at": M(label="Due at"),
            "done_at": M(label="Done at"),
            "done_by": STAFF,
            "result": TEXT,
        },
    ),
    "alert": Table(
        "Circuit-surveillance alert",
        "alert",
        True,
        "an alert is a surveillance finding, not a complication; registries hold "
        "complications (recorded from an alert as an adverse event)",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "detector": M(fhir="DetectedIssue.code"),
            "severity": M(fhir="DetectedIssue.severity"),
            "peak_severity": M(label="Highest severity reached"),
            "status": M(label="Alert status", fhir="DetectedIssue.status"),
            "raised_at": M(label="Raised at", fhir="DetectedIssue.identifiedDateTime"),
            "cleared_at": M(label="Condition ended at"),
            "summary": M(label="Summary (generated)", fhir="DetectedIssue.detail"),
            "evidence": M(label="Evidence (structured)", fhir="DetectedIssue.evidence"),
            "created_at": WRITTEN,
            "updated_at": WRITTEN,
            "acknowledged_by": STAFF,
            "acknowledged_at": M(label="Acknowledged at"),
            "acknowledge_comment": TEXT,
            "resolved_by": STAFF,
            "resolved_at": M(label="Resolved at"),
            "resolve_note": TEXT,
        },
    ),
    "alert_event": Table(
        "Alert history",
        "alert",
        True,
        "an alert's lifecycle: no registry meaning",
        {
            "id": ROW_ID,
            "alert_id": M(label="Alert"),
            "run_id": RUN_REF,
            "kind": M(label="What happened"),
            "severity": M(),
            "at": M(label="When"),
            "by_id": STAFF,
            "by_name": NAME,
            "comment": TEXT,
            "detail": M(label="Detail (structured)"),
        },
    ),
    "rounds_round": Table(
        "Round record",
        "round",
        True,
        INTERNAL,
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "round_date": M(label="Round date"),
            "held_at": M(label="Held at"),
            "status": M(label="Round status"),
            "problems": M(
                label="Problems (structured, typed text inside)", no_redcap="typed text inside"
            ),
            "alerts_reviewed": M(label="Alerts reviewed (structured)"),
            "therapy_review": M(
                label="Therapy review (structured, typed text inside)",
                no_redcap="typed text inside",
            ),
            "goals": M(label="Goals (structured)", fhir="Goal (one per goal)"),
            "created_by": STAFF,
            "created_at": WRITTEN,
            "signed_by": STAFF,
            "signed_at": M(label="Signed at"),
            "version": VERSION,
            "updated_by": STAFF,
            "updated_at": WRITTEN,
        },
    ),
    "rounds_circuit_check": Table(
        "Perfusion circuit check",
        "circuit_check",
        True,
        INTERNAL,
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "checked_at": M(label="Checked at", omop="observation.observation_datetime"),
            "shift": M(),
            "inspection": M(
                label="Inspection grades by site (structured)",
                omop="observation (36717832 blood clot in circuit, when graded)",
            ),
            "readings": M(label="Readings (structured; also observations)"),
            "o2_transfer": M(
                label="Membrane-lung O2 transfer (structured)",
                omop="measurement (36717893 post-ML O2 tension …)",
            ),
            "heater": M(label="Heater check (structured)"),
            "transfusions": M(label="Transfusions at the check (structured)"),
            "findings": TEXT,
            "checked_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "rounds_action": Table(
        "Round action",
        "round",
        True,
        INTERNAL,
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "round_id": M(label="Round"),
            "circuit_check_id": M(label="Circuit check"),
            "text": TEXT,
            "owner_discipline": M(label="Owner (discipline)"),
            "due_at": M(label="Due at"),
            "created_by": STAFF,
            "created_at": WRITTEN,
            "completed_at": M(label="Completed at"),
            "completed_by": STAFF,
            "completion_note": TEXT,
        },
    ),
    "rounds_amendment": Table(
        "Round or check amendment",
        "round",
        True,
        INTERNAL,
        {
            "id": ROW_ID,
            "record_type": M(label="Record kind"),
            "record_id": M(label="Record"),
            "section": M(),
            "text": TEXT,
            "amended_by": STAFF,
            "amended_at": WRITTEN,
        },
    ),
    "review": Table(
        "M&M case review",
        "review",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "meeting_id": M(label="Meeting"),
            "run_id": RUN_REF,
            "adverse_event_id": M(label="Adverse event"),
            "status": M(label="Review status"),
            "summary": TEXT,
            "voting_open": M(label="Voting open"),
            "cause_class": M(label="Cause class (consensus)"),
            "harm": M(label="Harm (consensus)"),
            "preventability": M(label="Preventability (consensus)"),
            "lessons": TEXT,
            "created_by": STAFF,
            "created_at": WRITTEN,
            "signed_by": STAFF,
            "signed_at": M(label="Signed at"),
            "version": VERSION,
        },
    ),
    "review_action": Table(
        "M&M action (PDSA)",
        "review",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "review_id": M(label="Review"),
            "text": TEXT,
            "owner_id": STAFF,
            "due_on": M(label="Due on"),
            "status": M(label="Action status"),
            "pdsa_plan": TEXT,
            "measure_name": M(label="PDSA measure"),
            "measure_unit": M(label="PDSA measure unit"),
            "created_by": STAFF,
            "created_at": WRITTEN,
            "done_at": M(label="Done at"),
            "done_by": STAFF,
            "done_note": TEXT,
        },
    ),
    "review_amendment": Table(
        "M&M review amendment",
        "review",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "review_id": M(label="Review"),
            "field": M(label="Field changed"),
            "value": TEXT,
            "reason": TEXT,
            "by": STAFF,
            "at": WRITTEN,
        },
    ),
    "review_attendance": Table(
        "M&M attendance",
        "review_meeting",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "meeting_id": M(label="Meeting"),
            "staff_id": STAFF,
            "guest_name": NAME,
            "discipline": M(),
            "present": M(),
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "review_factor": Table(
        "Contributory factor",
        "review",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "problem_id": M(label="Care delivery problem"),
            "factor_group": M(label="Factor group (London Protocol)"),
            "note": TEXT,
        },
    ),
    "review_meeting": Table(
        "M&M meeting",
        "review_meeting",
        False,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "held_on": M(label="Held on"),
            "title": TEXT,
            "chair_id": STAFF,
            "created_by": STAFF,
            "created_at": WRITTEN,
        },
    ),
    "review_problem": Table(
        "Care delivery problem",
        "review",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "review_id": M(label="Review"),
            "description": TEXT,
            "created_by": STAFF,
            "created_at": WRITTEN,
        },
    ),
    "review_vote_tally": Table(
        "Anonymous cause vote (tally)",
        "review",
        True,
        GOVERNANCE,
        {
            "review_id": M(label="Review"),
            "cause_class": M(label="Cause class"),
            "votes": M(),
        },
    ),
    "quality_audit": Table(
        "Clinical audit",
        "quality_audit",
        False,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "title": TEXT,
            "criterion": M(),
            "standard_pct": M(label="Standard", unit="%"),
            "period_start": M(label="Period from"),
            "period_end": M(label="Period until (exclusive)"),
            "note": TEXT,
            "created_by": STAFF,
            "created_at": WRITTEN,
        },
    ),
    "pdsa_measurement": Table(
        "PDSA measurement",
        "review",
        True,
        GOVERNANCE,
        {
            "id": ROW_ID,
            "action_id": M(label="Action"),
            "measured_on": M(label="Measured on"),
            "value": M(label="Value (in the action's measure unit)"),
            "note": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "hospital_outcome": Table(
        "Hospital outcome",
        "outcome",
        True,
        "the record's correction trail; the standards carry the outcome in force",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "patient_id": PATIENT_REF,
            "status": M(
                label="Hospital outcome",
                elso="patient_run.dischargedalive (discharged or transferred alive vs died)",
                fhir="Encounter.hospitalization.dischargeDisposition",
                omop="visit_occurrence.discharged_to_concept_id; death.death_date when died",
                why="CLIF ecmo_mcs holds device settings and flow only",
            ),
            "at": M(
                label="Discharge, transfer or death (time)",
                elso="patient_run.dischargedate",
                fhir="Encounter.period.end",
                omop="visit_occurrence.visit_end_datetime",
                why="CLIF ecmo_mcs holds device settings and flow only",
            ),
            "destination": M(
                label="Discharged to",
                elso="patient_run.dischargelocation",
                fhir="Encounter.hospitalization.dischargeDisposition",
                omop="visit_occurrence.discharged_to_concept_id",
                why="CLIF ecmo_mcs holds device settings and flow only",
            ),
            "note": TEXT,
            "corrects_id": M(label="Corrects row", why="the correction trail of this record"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "ecpr_times": Table(
        "ECPR times",
        "pre_ecls",
        True,
        "the record's correction trail; the standards carry the times in force",
        {
            "id": ROW_ID,
            "run_id": RUN_REF,
            "cpr_started_at": M(
                label="Arrest / CPR start",
                elso="patient_run.arrestdate (ECPR: time of arrest)",
                fhir="Procedure (CPR).performedPeriod.start",
                omop="procedure_occurrence.procedure_datetime (CPR)",
                why="CLIF ecmo_mcs holds device settings and flow only",
            ),
            "full_flow_at": M(
                label="Full ECMO flow reached",
                elso="patient_run.timeon (ECPR: low-flow time ends at full flow)",
                fhir="Procedure.performedPeriod.start",
                omop="ecls_run.start_datetime",
                why="CLIF ecmo_mcs holds device settings and flow only",
            ),
            "corrects_id": M(label="Corrects row", why="the correction trail of this record"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "exchange_plan": Table(
        "Planned exchange (membrane lung, pump or circuit), one row per version",
        "exchange_plan",
        True,
        "a planned exchange is this programme's procedure record; no standard has one",
        {
            "id": ROW_ID,
            "plan_id": M(label="Exchange number (first row of the plan)"),
            "follows_id": M(label="Follows row", why="the version trail of this record"),
            "run_id": RUN_REF,
            "target": M(label="Part exchanged", allowed=("membrane_lung", "pump", "circuit")),
            "status": M(label="Status", allowed=("planned", "done", "cancelled")),
            "planned_at": M(label="Planned time"),
            "perfusionist_id": STAFF,
            "physician_id": STAFF,
            "equipment_ready": M(label="Equipment ready"),
            "prime_ready": M(label="Prime ready"),
            "blood_products": TEXT,
            "anticoagulation_plan": TEXT,
            "checklist": M(label="Checklist items ticked (who, when)"),
            "clamp_s": M(label="Clamp time", unit="s"),
            "values_before": M(label="Post-oxygenator pO2, ΔP and flow before"),
            "values_after": M(label="Post-oxygenator pO2, ΔP and flow after"),
            "alert_id": M(label="Alert it came from"),
            "forecast": M(label="Forecast criterion it came from"),
            "replaced_id": M(label="Component replaced"),
            "component_id": M(label="New component"),
            "done_at": M(label="Done at"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "ambulation_session": Table(
        "Ambulation / physiotherapy session on ECMO, one row per version",
        "ambulation_session",
        True,
        "a mobilisation session is this programme's record; the ELSO registry fields we could "
        "read have no mobility data [U], and CLIF ecmo_mcs is one row per device reading",
        {
            "id": ROW_ID,
            "session_no": M(label="Session number (first row of the session)"),
            "follows_id": M(label="Follows row", why="the version trail of this record"),
            "run_id": RUN_REF,
            "started_at": M(label="Session start", fhir="Procedure.performedPeriod.start"),
            "ended_at": M(label="Session end", fhir="Procedure.performedPeriod.end"),
            "ims_level": M(
                label="ICU Mobility Scale level reached (Hodgson 2014)",
                unit="IMS 0–10",
                elso="none; the highest level per run is exported as the registry record's "
                "run.highest_ims, our own field beside ELSO's (mapping note there) [U]; the "
                "cohort export's runs table carries it too (column highest_ims, integer)",
                fhir="Observation.valueInteger (ICU Mobility Scale; no LOINC code found)",
            ),
            "safety": M(label="Pre-session safety check, item → pass or fail"),
            "safety_reason": TEXT,
            "events": M(label="Events during the session (kind, time, note)"),
            "stopped_early": M(label="Session stopped early"),
            "stop_reason": TEXT,
            "note": TEXT,
            "amend_reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "transport_mission": Table(
        "Transport mission (retrieval or transfer on ECMO), one row per version",
        "transport_mission",
        True,
        "a transport mission is this programme's record; ELSO's run record has no mission",
        {
            "id": ROW_ID,
            "mission_id": M(label="Mission number (first row of the mission)"),
            "follows_id": M(label="Follows row", why="the version trail of this record"),
            "patient_id": PATIENT_REF,
            "referral_id": M(label="Referral", why="a referral is not part of the run record"),
            "run_id": RUN_REF,
            "mission_type": M(
                label="Mission type (primary: cannulated at the referring hospital; "
                "secondary: arrived on ECMO)",
                allowed=("primary", "secondary"),
            ),
            "vehicle": M(label="Vehicle", allowed=("road", "rotor", "fixed_wing")),
            "referring_hospital": M(
                why="a hospital's name can identify a patient",
                no_redcap="the referring hospital can identify a patient",
            ),
            "expected_min": M(label="Expected duration of the transfer", unit="min"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "transport_milestone": Table(
        "Transport milestone time (a correction is a new row)",
        "transport_milestone",
        True,
        "a mission's milestone; no standard has one",
        {
            "id": ROW_ID,
            "mission_id": M(label="Mission number"),
            "milestone": M(
                label="Milestone",
                allowed=(
                    "call",
                    "activation",
                    "team_departure",
                    "arrival_referring",
                    "cannulation",
                    "departure_patient",
                    "arrival_base",
                    "handover",
                ),
            ),
            "at": M(label="Milestone time"),
            "corrects_id": M(label="Corrects row", why="the correction trail of this record"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "transport_checklist": Table(
        "Transport pre-departure checklist, one row per signing",
        "transport_checklist",
        True,
        "a mission's checklist; no standard has one",
        {
            "id": ROW_ID,
            "mission_id": M(label="Mission number"),
            "inputs": M(label="Cylinder, sweep, ventilator, battery and duration figures"),
            "items": M(label="Checklist items: passed, how decided, reason if failed"),
            "all_passed": M(label="Every item passed"),
            "signed_by": STAFF,
            "signed_at": M(label="Signed at"),
        },
    ),
    "transport_event": Table(
        "Event in transit",
        "transport_event",
        True,
        "an event in transit; no standard has one (complications go to adverse events)",
        {
            "id": ROW_ID,
            "mission_id": M(label="Mission number"),
            "at": M(label="Event time"),
            "kind": M(
                label="Event",
                allowed=("desaturation", "flow_drop", "power_loss", "circuit_issue", "other"),
            ),
            "text": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "transport_handover": Table(
        "Transport handover (a correction is a new row)",
        "transport_handover",
        True,
        "a mission's handover; no standard has one",
        {
            "id": ROW_ID,
            "mission_id": M(label="Mission number"),
            "at": M(label="Handover time"),
            "to_name": NAME,
            "to_discipline": M(label="Discipline handed over to"),
            "summary": TEXT,
            "corrects_id": M(label="Corrects row", why="the correction trail of this record"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "mcs_device": Table(
        "Mechanical circulatory support device beside ECMO (IABP, Impella, VAD), one row "
        "per version",
        "mcs_device",
        True,
        "CLIF ecmo_mcs holds device readings, not the device record; ELSO records the "
        "additional support only as yes/no",
        {
            "id": ROW_ID,
            "device_id": M(label="Device number (first row of the device)"),
            "follows_id": M(label="Follows row", why="the version trail of this record"),
            "run_id": RUN_REF,
            "kind": M(
                label="Device",
                allowed=("iabp", "impella", "temporary_vad", "durable_vad"),
                clif="mcs_group (iabp, impella_lvad, temporary_lvad / temporary_rvad, "
                "durable_lvad; with side)",
                omop="device_exposure (OMOP ECMO extension concepts, e.g. 36717905 Impella CP)",
            ),
            "model": M(
                label="Model (Impella 2.5, CP, 5.0, 5.5, RP; make and model otherwise)",
                clif="device_name / device_category",
            ),
            "side": M(label="Ventricle supported", allowed=("left", "right")),
            "site": M(label="Access site"),
            "inserted_at": M(label="Inserted", omop="device_exposure_start_datetime"),
            "removed_at": M(label="Removed", omop="device_exposure_end_datetime"),
            "removal_reason": TEXT,
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
    "mcs_check": Table(
        "Position or IABP timing check of a circulatory support device",
        "mcs_check",
        True,
        "a bedside check of a device; no registry or research standard records it",
        {
            "id": ROW_ID,
            "device_id": M(label="Device number"),
            "run_id": RUN_REF,
            "kind": M(label="Check", allowed=("position", "timing")),
            "at": M(label="Checked at"),
            "method": M(
                label="Method",
                allowed=("echo", "fluoroscopy", "chest_xray", "placement_signal", "waveform_1_2"),
            ),
            "result": M(
                label="Result",
                allowed=(
                    "correct",
                    "too_deep",
                    "too_shallow",
                    "malpositioned",
                    "early_inflation",
                    "late_inflation",
                    "early_deflation",
                    "late_deflation",
                ),
            ),
            "note": TEXT,
            "corrects_id": M(label="Corrects check", why="the correction trail of this record"),
            "reason": TEXT,
            "recorded_by": STAFF,
            "recorded_at": WRITTEN,
        },
    ),
}

# Operational tables: how the platform runs, not what happened to a patient. Listed in the
# dictionary as excluded, with the reason; none of their columns is exported.
EXCLUDED: dict[str, str] = {
    "api_token": "API tokens (hashes): access control",
    "audit_log": "the audit log of reads and changes: governance of the platform itself",
    "login_attempt": "login attempts: security",
    "login_throttle": "failed-login counters: security",
    "staff_session": "browser sessions: security",
    "staff": "staff accounts (names, usernames, password hashes); a contribution's discipline "
    "is exported from participation",
    "programme_setting": "the programme's settings (thresholds …); exports name the settings "
    "in force in their manifest",
    "ingest_message": "the device-message log (kept 90 days): interface tracing",
    "ingest_code_mapping": "the interface's code mappings: configuration",
    "ingest_unit_alias": "the interface's unit spellings: configuration",
    "ingest_console_preset": "console-export presets: configuration",
    "ingest_console_assignment": "which console feeds which run: interface routing",
    "surveillance_baseline": "the detectors' working baselines: recomputed from observations",
    "observation_count": "final values per run and code, kept by triggers for the run page: "
    "derived from observations",
    "observation_bin": "count and sum of final values per run, code and 10 minutes, kept by "
    "triggers for the rounds board: derived from observations",
    "surveillance_due": "the evaluator's work queue",
    "surveillance_sample": "the evaluator's per-minute working samples: derived from observations",
    "surveillance_progress": "how far the evaluator's samples are complete: its working state",
    "review_vote_cast": "who has voted (never how): keeps the M&M vote anonymous",
    "registry_amendment": "the registry reviewer's confirmations and corrections: the review "
    "trail behind a submitted record (its values are exported in the ELSO bundle)",
    "registry_submission": "when a run's registry record was marked ready: review governance",
    "research_cohort": "saved cohort definitions: named in each export's manifest",
    "research_export": "the export job log (who, cohort, purpose, status): research governance",
    "research_study": "the study register (protocol, approval): research governance",
    "research_data_request": "a study's data requests (cohort, export issued): governance",
    "research_publication": "publications of studies: research governance, not patient data",
    "research_publication_author": "authorship and CRediT roles of staff: not patient data",
    "research_analysis": "saved outcome analyses of cohorts (aggregates): not patient data",
    "research_text_release": "a reviewer's release of a cohort's free-text field into its "
    "de-identified exports: research governance",
    "competency_record": "staff competencies (training records): about staff, not patients",
    "training_session": "simulation-training sessions: simulated patients, never exported",
    "training_fault": "faults injected into simulation training: simulated, never exported",
    "research_author_list": "corrections of a publication's author list (who, when, why): "
    "research governance, not patient data",
}

# Observation codes (``vocabulary.CODES``): each is a field of its own, ``observation.value``
# where ``code`` is it. The unit and LOINC code come from the vocabulary.
_ELSO_24 = "patient_run.{0} (pre-ECLS) and {0}24 (24 h on ECLS)"
_NOT_CLIF = "CLIF ecmo_mcs holds device settings and flow only"
_NOT_ELSO = "not in the ELSO run record"
_OMOP_LAB = "measurement (LOINC concept)"


def _snap(field_name: str) -> str:
    return _ELSO_24.format(field_name)


CODE_ENTRIES: dict[str, Mapping] = {
    "blood_flow": M(
        elso="patient_run.pumpflow4 / pumpflow24 (flow at 4 h and 24 h)",
        fhir="Observation (SNOMED 251288004 extracorporeal gas exchange flow rate)",
        omop="measurement (36717869 ECLS pump flow rate)",
        clif="flow",
    ),
    "pump_speed": M(
        fhir="Observation (device metric: pump speed)",
        omop="measurement (36717870 ECLS pump rotational speed)",
        clif="control_parameter_value (control_parameter_category = rpm)",
        why="the ELSO run record holds flow, not speed",
    ),
    "p_access": M(
        fhir="Observation (drainage pressure)",
        omop="measurement (36717896 pump inlet pressure)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "p_preoxy": M(
        fhir="Observation (pre-membrane-lung pressure)",
        omop="measurement (36717890 pre-membrane lung pressure)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "p_postoxy": M(
        fhir="Observation (post-membrane-lung pressure)",
        omop="measurement (36717894 post-membrane lung pressure)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "oxy_delta_p": M(
        fhir="Observation (membrane-lung pressure drop)",
        omop="measurement (36717897 membrane lung pressure drop)",
        why="ELSO's deltap is the ventilator's; " + _NOT_CLIF,
    ),
    "sweep_flow": M(
        fhir="Observation (SNOMED 79063001 gas flow rate; LOINC 19941-4 O2 gas flow)",
        omop="measurement (36717881 sweep gas flow rate)",
        clif="sweep_set",
        why="the ELSO run record holds no sweep",
    ),
    "sweep_fio2": M(
        fhir="Observation (sweep gas O2 fraction)",
        omop="measurement (36717883 sweep gas inlet O2 fraction)",
        clif="fdO2_set",
        why="the ELSO run record holds no FdO2",
    ),
    "post_oxy_po2": M(
        fhir="Observation + Specimen (post-membrane lung)",
        omop="measurement (36717893 post-membrane lung O2 tension)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "post_oxy_pco2": M(
        fhir="Observation + Specimen (post-membrane lung)",
        omop="measurement (36717892 post-membrane lung CO2 tension)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "pre_oxy_po2": M(
        fhir="Observation + Specimen (pre-membrane lung)",
        omop="measurement (36717889 pre-membrane lung O2 tension)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "pre_oxy_pco2": M(
        fhir="Observation + Specimen (pre-membrane lung)",
        omop="measurement (36717888 pre-membrane lung CO2 tension)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "pre_oxy_so2": M(
        fhir="Observation + Specimen (pre-membrane lung)",
        omop="measurement (36717891 pre-membrane lung O2 saturation)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "post_oxy_so2": M(
        fhir="Observation + Specimen (post-membrane lung)",
        omop="measurement (36717895 post-membrane lung O2 saturation)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "blood_temp": M(
        fhir="Observation (circuit blood temperature)",
        omop="measurement (36717871 ECLS temperature regulation device "
        "temperature, the closest concept)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "hr": M(
        fhir="Observation (vital signs)",
        omop="measurement (3027018 heart rate)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "map": M(
        elso=_snap("mean_bp"),
        fhir="Observation (vital signs)",
        omop="measurement (21490852 invasive mean blood pressure)",
        why=_NOT_CLIF,
    ),
    "map_nibp": M(
        elso=_snap("mean_bp") + " when there is no arterial line",
        fhir="Observation (LOINC 76536-2 mean blood pressure, non-invasive)",
        omop="measurement (3027598 mean blood pressure)",
        why=_NOT_CLIF,
    ),
    "cvp": M(fhir="Observation", omop=_OMOP_LAB, why=_NOT_ELSO + "; " + _NOT_CLIF),
    "spo2": M(
        elso=_snap("spo2"),
        fhir="Observation (vital signs: oxygen saturation)",
        omop="measurement (4196147 peripheral oxygen saturation)",
        why=_NOT_CLIF,
    ),
    "spo2_right": M(
        fhir="Observation (pulse oximetry, right hand body site)",
        omop="measurement (4196147, anatomic site right hand)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "sao2": M(elso=_snap("sao2"), fhir="Observation", omop=_OMOP_LAB, why=_NOT_CLIF),
    "pao2": M(elso=_snap("po2"), fhir="Observation", omop=_OMOP_LAB, why=_NOT_CLIF),
    "paco2": M(elso=_snap("pco2"), fhir="Observation", omop=_OMOP_LAB, why=_NOT_CLIF),
    "ph": M(elso=_snap("ph"), fhir="Observation", omop=_OMOP_LAB, why=_NOT_CLIF),
    "pao2_right_radial": M(
        fhir="Observation + Specimen (right radial artery)",
        omop="measurement (LOINC 2703-7, anatomic site 4276858 right radial artery)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "svo2": M(elso=_snap("svo2"), fhir="Observation", omop=_OMOP_LAB, why=_NOT_CLIF),
    "lactate": M(elso=_snap("lactate"), fhir="Observation", omop=_OMOP_LAB, why=_NOT_CLIF),
    "act": M(
        fhir="Observation (no LOINC confirmed)",
        omop="measurement (3016948 ACT)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "fluid_balance_24h": M(
        fhir="Observation (24 h fluid balance)",
        omop="measurement (fluid balance)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "vent_fio2": M(
        elso=_snap("fio2"),
        fhir="Observation (ventilator FiO2)",
        omop="measurement (FiO2)",
        why=_NOT_CLIF,
    ),
    "peep": M(
        elso=_snap("peep"), fhir="Observation (PEEP)", omop="measurement (PEEP)", why=_NOT_CLIF
    ),
    "plateau_pressure": M(
        fhir="Observation (plateau pressure)",
        omop="measurement (plateau pressure)",
        why="ELSO records PIP and mean airway pressure; " + _NOT_CLIF,
    ),
    "peak_pressure": M(
        elso=_snap("pip"),
        fhir="Observation (peak inspiratory pressure)",
        omop="measurement (peak inspiratory pressure)",
        why=_NOT_CLIF,
    ),
    "tidal_volume": M(
        fhir="Observation (tidal volume)",
        omop="measurement (tidal volume)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "resp_rate": M(
        elso=_snap("rate"),
        fhir="Observation (ventilator rate)",
        omop="measurement (respiratory rate)",
        why=_NOT_CLIF,
    ),
    "impella_flow": M(
        fhir="Observation (Impella flow)",
        omop="measurement (device flow)",
        clif="flow (device_category impella_*, mcs_group impella_lvad)",
        why=_NOT_ELSO,
    ),
    "impella_p_level": M(
        fhir="Observation (Impella performance level)",
        omop="observation (device setting)",
        clif="control_parameter_value (category impella_performance)",
        why=_NOT_ELSO,
    ),
    "impella_purge_pressure": M(
        fhir="Observation (Impella purge pressure)",
        omop="measurement (device pressure)",
        why=_NOT_ELSO + "; CLIF 2.1 has no purge pressure",
    ),
    "iabp_ratio": M(
        fhir="Observation (IABP assist ratio)",
        omop="observation (device setting)",
        clif="control_parameter_value (category iabp_ratio; CLIF writes 1:2 where we store 0.5)",
        why=_NOT_ELSO,
    ),
    "impella_purge_flow": M(
        fhir="Observation (Impella purge flow)",
        omop="measurement (device flow)",
        why=_NOT_ELSO + "; CLIF 2.1 has no purge flow",
    ),
    "iabp_augmentation": M(
        fhir="Observation (IABP augmented diastolic pressure)",
        omop="measurement (device pressure)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "vad_speed": M(
        fhir="Observation (VAD pump speed)",
        omop="measurement (device speed)",
        clif="control_parameter_value (category rpm; mcs_group temporary_lvad, "
        "temporary_rvad or durable_lvad)",
        why=_NOT_ELSO,
    ),
    "vad_flow": M(
        fhir="Observation (VAD flow)",
        omop="measurement (device flow)",
        clif="flow (mcs_group temporary_lvad, temporary_rvad or durable_lvad)",
        why=_NOT_ELSO,
    ),
    "vad_power": M(
        fhir="Observation (VAD power)",
        omop="measurement (device power)",
        why=_NOT_ELSO + "; CLIF 2.1 has no device power (3.0 drafts a 'power' setting)",
    ),
    "vad_pulsatility_index": M(
        fhir="Observation (VAD pulsatility index)",
        omop="measurement (device index)",
        why=_NOT_ELSO + "; CLIF 2.1 has no pulsatility index (3.0 drafts one)",
    ),
    "sbp": M(
        fhir="Observation (systolic blood pressure, LOINC 8480-6)",
        omop="measurement (invasive systolic blood pressure)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
    "dbp": M(
        fhir="Observation (diastolic blood pressure, LOINC 8462-4)",
        omop="measurement (invasive diastolic blood pressure)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    ),
}
_DRUG = M(
    elso="pre_support (vasoactive drugs before ECLS: yes / no)",
    fhir="MedicationAdministration.dosage.rateQuantity",
    omop="drug_exposure (dose rate)",
    why=_NOT_CLIF,
)
for _code in ("norepinephrine", "epinephrine", "dopamine", "dobutamine", "milrinone",
              "vasopressin"):  # fmt: skip
    CODE_ENTRIES[_code] = _DRUG
CODE_ENTRIES["heparin"] = M(
    fhir="MedicationAdministration.dosage.rateQuantity",
    omop="drug_exposure (heparin, dose rate)",
    why=_NOT_ELSO + "; " + _NOT_CLIF,
)
for _code in ("hb", "hct", "platelets", "fibrinogen", "pfhb", "ldh", "bilirubin", "aptt",
              "anti_xa", "antithrombin", "d_dimer", "inr", "creatinine"):  # fmt: skip
    CODE_ENTRIES[_code] = M(
        fhir="Observation (laboratory)",
        omop=_OMOP_LAB,
        why="the ELSO run record keeps these as complications (haemolysis, renal), not values; "
        + _NOT_CLIF,
    )
for _code in ("lvef", "lvot_vti", "mitral_s_prime"):
    CODE_ENTRIES[_code] = M(
        fhir="Observation (imaging: echocardiography)",
        omop="measurement (echocardiography)",
        why=_NOT_ELSO + "; " + _NOT_CLIF,
    )

# Response models whose names do not say which table they show.
API_TABLES: dict[str, str] = {
    "RunSummaryOut": "run",
    "RunListItem": "run",
    "DecisionOut": "initiation_decision",
    "ReadinessOut": "weaning_review",
    "StepOut": "weaning_step",
    "TrialStepOut": "weaning_step",
    "MeetingOut": "review_meeting",
    "AttendanceOut": "review_attendance",
    "ProblemOut": "review_problem",
    "FactorOut": "review_factor",
    "MeasurementOut": "pdsa_measurement",
    "FollowUpOut": "weaning_follow_up",
}

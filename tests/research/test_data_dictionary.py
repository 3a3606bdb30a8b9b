"""The data dictionary: every table.column of the record (and every observation code) has an
entry, and no entry outlives its column; each field's mapping to ELSO, REDCap, FHIR, OMOP
/ECLS-CDM and CLIF is a place or a reasoned "not mapped"; the CSV, JSON and page."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import Column, Integer, MetaData, String
from sqlalchemy import Table as SqlTable

from continuum import vocabulary
from continuum.research import data_dictionary as dd
from continuum.research.dictionary_entries import EXCLUDED, STANDARDS, TABLES
from tests.conftest import Web


def by_key(fields: list[dd.DictionaryField]) -> dict[str, dd.DictionaryField]:
    return {f.key: f for f in fields}


# ---- coverage ---------------------------------------------------------------------------


def test_every_column_of_the_record_has_an_entry() -> None:
    missing = dd.missing_entries()
    assert missing == [], (
        "describe these in src/continuum/research/dictionary_entries.py (TABLES, "
        "CODE_ENTRIES) or list their table in EXCLUDED with a reason: " + ", ".join(missing)
    )


def test_no_entry_outlives_its_column() -> None:
    stale = dd.stale_entries()
    assert stale == [], "these entries name columns that no longer exist: " + ", ".join(stale)


def test_the_coverage_check_names_a_new_table_column_and_a_gone_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = dd.metadata_tables()
    extra = SqlTable("ecmo_transport", MetaData(), Column("id", Integer), Column("leg", String))
    shrunk = SqlTable(
        "circuit",
        MetaData(),
        *(Column(c.name, c.type) for c in real["circuit"].columns if c.name != "priming_solution"),
    )
    grown = SqlTable(
        "run",
        MetaData(),
        *(Column(c.name, c.type) for c in real["run"].columns),
        Column("ecpr_low_flow_minutes", Integer),
    )
    fake = {**real, "ecmo_transport": extra, "circuit": shrunk, "run": grown}
    monkeypatch.setattr(dd, "metadata_tables", lambda: fake)
    missing = dd.missing_entries()
    assert {"ecmo_transport.id", "ecmo_transport.leg", "run.ecpr_low_flow_minutes"} <= set(missing)
    assert "circuit.priming_solution" in dd.stale_entries()


def test_every_vocabulary_code_is_a_field_with_its_unit_and_range() -> None:
    fields = by_key(dd.build())
    for code, spec in vocabulary.CODES.items():
        f = fields[f"observation.value[{code}]"]
        assert (f.unit, f.code, f.type) == (spec.unit, code, "number")
        assert f.allowed == spec.range_text
        assert f.loinc == spec.loinc


def test_operational_tables_are_listed_as_excluded_with_their_reason() -> None:
    fields = dd.build()
    excluded = {f.table: f.excluded for f in fields if f.excluded}
    assert set(excluded) == set(EXCLUDED) >= {"staff_session", "audit_log", "ingest_message"}
    audit = by_key(fields)["audit_log.actor"]
    assert all(audit.mappings[s].startswith("not mapped: excluded: ") for s in STANDARDS)
    assert not set(TABLES) & set(EXCLUDED)


def test_each_mapping_is_a_place_or_not_mapped_with_a_reason() -> None:
    for f in dd.build():
        assert f.label and f.type and f.table_label, f.key
        for standard in STANDARDS:
            value = f.mappings[standard]
            assert value.strip(), f"{f.key}: {standard} is empty"
            if value.startswith(dd.NOT_MAPPED):
                assert len(value) > len(dd.NOT_MAPPED) + 5, f"{f.key}: {standard} has no reason"


# ---- spot checks ------------------------------------------------------------------------


def test_blood_flow_maps_to_clif_flow_fhir_snomed_and_ecls_cdm_pump_flow() -> None:
    f = by_key(dd.build())["observation.value[blood_flow]"]
    assert f.unit == "L/min"
    assert f.mappings["clif"] == "flow"
    assert "251288004" in f.mappings["fhir"]  # SNOMED extracorporeal gas exchange flow rate
    assert "36717869" in f.mappings["omop"]  # ECLS pump flow rate
    assert "pumpflow4" in f.mappings["elso"] and "pumpflow24" in f.mappings["elso"]
    assert f.loinc is None  # the vocabulary has no LOINC for ECMO blood flow: none invented


def test_sweep_and_fdo2_map_to_their_clif_settings_and_a_lab_carries_its_loinc() -> None:
    fields = by_key(dd.build())
    assert fields["observation.value[sweep_flow]"].mappings["clif"] == "sweep_set"
    assert fields["observation.value[sweep_fio2]"].mappings["clif"] == "fdO2_set"
    hb = fields["observation.value[hb]"]
    assert (hb.loinc, hb.unit) == ("718-7", "g/dL")
    assert "LOINC 718-7" in hb.mappings["fhir"]
    assert hb.mappings["clif"].startswith("not mapped: ")
    assert "pre_support" in fields["observation.value[norepinephrine]"].mappings["elso"]


def test_run_mode_and_cannula_map_to_elso_and_ecls_cdm() -> None:
    fields = by_key(dd.build())
    start = fields["run.started_at"]
    assert start.mappings["elso"] == "patient_run.timeon"
    assert start.mappings["omop"] == "ecls_run.start_datetime"
    assert start.mappings["fhir"] == "Procedure.performedPeriod.start"
    assert (start.type, start.nullable) == ("date-time (UTC)", False)
    mode = fields["mode_segment.mode"]
    assert "VV" in (mode.allowed or "").split(" | ")
    assert mode.mappings["clif"].startswith("ecmo_configuration_category")
    french = fields["cannula.french"]
    assert (french.unit, french.allowed) == ("Fr", "≥ 6, ≤ 40")
    assert (
        french.mappings["redcap"] == "cannula.cannula_french (text, integer; repeating instrument)"
    )
    assert (
        fields["run.support_type"].mappings["redcap"].startswith("run.run_support_type (dropdown")
    )
    assert fields["patient.height_cm"].unit == "cm"
    # a closed list held in code (not a CHECK) still shows its values
    assert "oxygenator_failure" in (fields["component.stop_reason"].allowed or "")


def test_identifiers_and_free_text_stay_out_of_redcap() -> None:
    fields = by_key(dd.build())
    for key in ("patient_identity.mrn", "patient_identity.name", "run.indication",
                "referral.contact", "adverse_event.description"):  # fmt: skip
        assert fields[key].mappings["redcap"].startswith("not mapped: "), key
    assert (
        fields["patient_identity.birth_date"].mappings["elso"].startswith("patient_run.birthdate")
    )


def test_select_filters_by_table_standard_and_every_word() -> None:
    fields = dd.build()
    cannula = dd.select(fields, table="cannula")
    assert cannula and {f.table for f in cannula} == {"cannula"}
    clif = dd.select(fields, standard="clif")
    assert clif and all(not f.mappings["clif"].startswith("not mapped") for f in clif)
    assert "observation.value[blood_flow]" in {f.key for f in clif}
    gaps = dd.select(fields, standard="clif", mapped=False)
    assert gaps and all(f.mappings["clif"].startswith("not mapped") for f in gaps)
    assert all(f.excluded is None for f in gaps)  # an operational table is no gap
    assert {f.key for f in gaps} | {f.key for f in clif} == {
        f.key for f in fields if f.excluded is None
    }
    found = {f.key for f in dd.select(fields, q="ecls pump flow")}
    assert "observation.value[blood_flow]" in found
    assert "observation.value[hb]" not in found


# ---- CSV, JSON, page --------------------------------------------------------------------


def test_csv_has_one_row_per_field_with_every_standard(web: Web) -> None:
    web.login("researcher")
    r = web.client.get("/research/dictionary.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "data-dictionary.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(rows[0].keys()) == dd.CSV_COLUMNS
    assert len(rows) == len(dd.build())
    flow = next(row for row in rows if row["key"] == "observation.value[blood_flow]")
    assert (flow["unit"], flow["clif"], flow["table"]) == ("L/min", "flow", "observation")
    only = list(csv.DictReader(io.StringIO(web.client.get(
        "/research/dictionary.csv", params={"table": "cannula"}).text)))  # fmt: skip
    assert only and {row["table"] for row in only} == {"cannula"}


def test_json_answers_every_field_with_standards_and_api_fields(web: Web) -> None:
    web.login("perfusionist")
    body = web.client.get("/api/v1/research/dictionary").json()
    assert set(body) == {"standards", "count", "total", "fields"}
    assert body["count"] == body["total"] == len(body["fields"]) > 500
    assert [s["key"] for s in body["standards"]] == list(STANDARDS)
    assert any("4" in s["version"] for s in body["standards"] if s["key"] == "omop")
    fields = {f["key"]: f for f in body["fields"]}
    flow = fields["observation.value[blood_flow]"]
    assert flow["mappings"]["clif"] == "flow" and flow["unit"] == "L/min"
    # generated from the API's response shapes too: which answer carries the column
    assert "CannulaOut.french" in fields["cannula.french"]["api_fields"]
    assert fields["patient.height_cm"]["description"] == "Height, cm"
    narrowed = web.client.get(
        "/api/v1/research/dictionary", params={"table": "run", "standard": "elso"}
    ).json()
    assert narrowed["count"] == len(narrowed["fields"]) < body["total"]
    assert {f["table"] for f in narrowed["fields"]} == {"run"}
    assert "run.started_at" in {f["key"] for f in narrowed["fields"]}
    assert "run.created_by" not in {f["key"] for f in narrowed["fields"]}
    gaps = web.client.get(
        "/api/v1/research/dictionary", params={"standard": "clif", "mapped": "no"}
    ).json()
    assert "observation.value[hb]" in {f["key"] for f in gaps["fields"]}
    assert "observation.value[blood_flow]" not in {f["key"] for f in gaps["fields"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"table": "runs"}, "table"),
        ({"standard": "snomed"}, "standard"),
        ({"mapped": "x"}, "mapped"),
    ],
)
def test_json_refuses_an_unknown_filter_naming_it(
    web: Web, params: dict[str, str], field: str
) -> None:
    web.login("researcher")
    r = web.client.get("/api/v1/research/dictionary", params=params)
    assert r.status_code == 422
    problem = r.json()["fields"][0]
    assert problem["field"] == field and problem["value"] == params[field]
    assert "allowed" in problem["message"]


def test_page_lists_fields_filters_and_says_why_a_field_is_not_mapped(web: Web) -> None:
    web.login("researcher")
    page = web.client.get("/research/dictionary")
    assert page.status_code == 200
    text = page.text
    assert "Data dictionary" in text and "ECMO blood flow" in text
    assert "observation.value[blood_flow]" in text
    assert "Excluded tables (operational)" in text and "staff_session" in text
    assert "OMOP CDM 5.4 with ECLS-CDM v0.2.0" in text
    assert 'href="/research/dictionary.csv"' in text
    filtered = web.client.get("/research/dictionary", params={"table": "cannula", "q": "size"})
    assert filtered.status_code == 200
    assert "cannula.french" in filtered.text and "run.started_at" not in filtered.text
    assert "/research/dictionary.csv?table=cannula&amp;q=size" in filtered.text
    gaps = web.client.get("/research/dictionary", params={"standard": "clif", "mapped": "no"})
    assert 'id="observation.value[hb]"' in gaps.text
    assert 'id="observation.value[blood_flow]"' not in gaps.text
    assert '<option value="no" selected>' in gaps.text
    bad = web.client.get("/research/dictionary", params={"standard": "snomed"})
    assert bad.status_code == 422
    assert "standard &#39;snomed&#39; is unknown" in bad.text
    assert "cannula.french" in bad.text  # the page still shows, unfiltered


def test_the_dictionary_is_not_for_administrators_or_interfaces(web: Web) -> None:
    web.login("admin")
    assert web.client.get("/research/dictionary").status_code == 403
    assert web.client.get("/api/v1/research/dictionary").status_code == 403

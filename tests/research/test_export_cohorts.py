"""Cohorts and de-identified exports on the hand-worked cohort (tests/quality/metrics_cohort):
counts as a definition is refined, a zero-run cohort refused, an export with no identifier of
any patient, the same date shift in two exports, manifests with checksums, refusals by role."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from continuum.core.people import PatientIdentity
from continuum.core.record import AuditEntry
from continuum.db import unit_of_work
from continuum.errors import ValidationFailed
from continuum.initiation.models import Referral
from continuum.research import cohort, export
from continuum.research.cohort_record import ExportJob
from continuum.research.deidentify import Policy
from continuum.research.export_tables import sha256_of
from tests.quality import metrics_cohort as hand

UTC = ZoneInfo("UTC")
KEY = b"k" * 32


@pytest.fixture
def built(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = hand.build(db)
    return sessions, ids


def _people(db):  # type: ignore[no-untyped-def]
    return hand.staff(db)


def test_counts_follow_the_definition(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    with unit_of_work(sessions) as db:
        r = _people(db)["researcher"]
        jan = {"started_from": "2025-01-01", "started_to": "2025-01-31"}
        n = lambda **d: cohort.count(db, r, cohort.parse({**jan, **d}), UTC)  # noqa: E731
        assert n() == 3
        assert n(support_types=["pulmonary"]) == 2
        assert n(support_types=["pulmonary"], age_groups=["paediatric"]) == 1
        assert n(modes=["VA"]) == 1
        assert n(outcomes=["died_on_ecmo"]) == 1
        assert n(complications="any") == 2  # runs A and B have adverse events
        assert n(complications="none") == 1
        assert n(started_to="2025-01-12") == 1
        assert cohort.run_ids(db, cohort.parse({**jan, "modes": ["VA"]}), UTC) == [ids["B"]]


def test_diagnosis_and_risk_class_filters_read_the_initiation_scores(built) -> None:  # type: ignore[no-untyped-def]
    """Run A's RESP inputs name viral pneumonia, run B's SAVE inputs myocarditis; each run's
    risk class is the one its score gives (the initiation domain's score provider)."""
    from continuum.core import outcome_scores
    from continuum.core.run_record import Run
    from continuum.initiation.models import InitiationDecision

    sessions, ids = built
    resp = {"age_years": 44, "mechanical_ventilation_hours": 40, "diagnosis": "viral_pneumonia",
            "paco2_mmhg": 68, "peak_inspiratory_pressure_cmh2o": 36,
            "neuromuscular_blockade": True}  # fmt: skip
    save = {"age_years": 55, "weight_kg": 80, "diagnoses": ["myocarditis"],
            "cardiac_arrest": False, "intubation_hours": 4,
            "peak_inspiratory_pressure_cmh2o": 22, "diastolic_bp_mmhg": 40,
            "pulse_pressure_mmhg": 20, "bicarbonate_mmol_l": 17}  # fmt: skip
    with unit_of_work(sessions) as db:
        for run, inputs in ((ids["A"], {"resp": resp}), (ids["B"], {"save": save})):
            decision = db.scalars(
                select(InitiationDecision).where(InitiationDecision.run_id == run)
            ).one()
            decision.score_inputs = inputs
    with unit_of_work(sessions) as db:
        r = _people(db)["researcher"]
        ids_of = lambda **d: cohort.run_ids(db, cohort.parse(d), UTC)  # noqa: E731
        assert ids_of(diagnoses=["viral_pneumonia"]) == [ids["A"]]
        assert ids_of(diagnoses=["myocarditis", "asthma"]) == [ids["B"]]
        assert ids_of(diagnoses=["asthma"]) == []
        scores = outcome_scores.scores_for(
            db, [db.get_one(Run, ids["A"]), db.get_one(Run, ids["B"])]
        )
        a, b = scores[ids["A"]], scores[ids["B"]]
        assert isinstance(a, outcome_scores.RunScore) and isinstance(b, outcome_scores.RunScore)
        assert ids_of(risk_classes=[f"RESP {a.risk_class}"]) == [ids["A"]]
        assert ids_of(risk_classes=[f"SAVE {b.risk_class}"], support_types=["cardiac"]) == [
            ids["B"]
        ]
        definition = cohort.parse({"diagnoses": ["viral_pneumonia"]})
        assert "diagnosis viral pneumonia (RESP)" in definition.summary()
        assert cohort.count(db, r, definition, UTC) == 1
    with pytest.raises(ValidationFailed) as bad:
        cohort.parse({"diagnoses": ["gout"], "risk_classes": ["RESP IX"]})
    assert {p.field.split(".")[0] for p in bad.value.problems} == {"diagnoses", "risk_classes"}


def test_bad_definitions_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as bad:
        cohort.parse({"support_types": ["lunar"]})
    assert bad.value.problems[0].field.startswith("support_types")
    assert bad.value.problems[0].value == "lunar"
    with pytest.raises(ValidationFailed, match="before started_from"):
        cohort.parse({"started_from": "2025-02-01", "started_to": "2025-01-01"})
    with pytest.raises(ValidationFailed):
        cohort.parse({"colour": "blue"})


def _save(db, name: str, definition: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    r = _people(db)["researcher"]
    cohort.save(db, r, name, cohort.parse(definition), UTC)


def _export(
    sessions,
    tmp: Path,
    name: str | None,
    fmt: str = "csv",
    role: str = "researcher",
    identified: bool = False,
    purpose: str | None = None,
):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        actor = _people(db)[role]
        p = export.plan(db, actor, UTC, fmt=fmt, cohort_name=name, all_runs=name is None,
                        identified=identified, purpose=purpose)  # fmt: skip
        policy = Policy(key=KEY, identified=identified)
        job = export.create_job(db, actor, p, policy)
        return export.write_export(db, actor, p, policy, tmp, UTC, job.id)


def test_zero_run_cohort_is_refused_for_export(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        _save(db, "nobody", {"started_from": "1990-01-01", "started_to": "1990-01-02"})
    with pytest.raises(ValidationFailed, match="cohort 'nobody' holds no runs"):
        _export(sessions, tmp_path / "x", "nobody")
    assert not (tmp_path / "x").exists()
    with unit_of_work(sessions) as db:
        assert db.scalars(select(ExportJob)).all() == []


def test_deidentified_export_holds_no_identifier(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        db.add(Referral(patient_id=db.scalars(select(PatientIdentity.patient_id)).first(),
                        referring_hospital="St Elsewhere Infirmary",
                        referring_clinician="Dr Quintus Referrer", contact="+44 20 7946 0991",
                        referred_at=datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC")),
                        support_type="pulmonary",
                        clinical_picture="Severe ARDS, Mr Smith"))  # fmt: skip
        identities = db.scalars(select(PatientIdentity)).all()
        secrets = ["St Elsewhere", "Quintus", "7946 0991", "Severe ARDS"]
        for i in identities:
            secrets += [i.mrn, i.name]
            if i.birth_date:
                secrets.append(i.birth_date.isoformat())
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        m = _export(sessions, out, None, fmt)
        assert m["cohort"]["runs"] >= 3
        assert {f["table"] for f in m["files"]} == {
            "runs", "observations_long", "observations_wide_hourly"
        }  # fmt: skip
        for f in out.iterdir():
            text = (
                f.read_text() if f.suffix != ".parquet"
                else pq.read_table(f).to_pandas().to_csv()
            )  # fmt: skip
            assert [s for s in secrets if s and s.lower() in text.lower()] == [], f.name


def test_two_exports_shift_a_patients_dates_identically(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        _save(db, "January", {"started_from": "2025-01-01", "started_to": "2025-01-31"})
    one = _export(sessions, tmp_path / "one", "January")
    two = _export(sessions, tmp_path / "two", None)  # another export, more runs

    def starts(d: Path) -> dict[str, str]:
        with (d / "runs.csv").open() as f:
            return {r["run_key"]: r["started_at"] for r in csv.DictReader(f)}

    a, b = starts(tmp_path / "one"), starts(tmp_path / "two")
    assert a and all(b[k] == v for k, v in a.items())
    real = {"2025-01-10", "2025-01-15", "2025-01-20"}
    assert not {v[:10] for v in a.values()} & real  # shifted, never the true day
    assert one["deidentification"]["identified"] is False
    assert two["cohort"]["name"] == export.ALL_RUNS


def test_manifest_counts_rows_and_checksums_each_file(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    m = _export(sessions, tmp_path, None, "parquet")
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk["files"] == m["files"]
    for f in m["files"]:
        path = tmp_path / f["file"]
        assert sha256_of(path) == f["sha256"]
        assert pq.read_table(path).num_rows == f["rows"]
        assert [c["name"] for c in f["fields"]] == pq.read_table(path).column_names
    assert m["software"]["version"]
    long = pq.read_table(tmp_path / "observations_long.parquet")
    assert long.num_rows > 0 and "mrn" not in long.column_names


def test_identified_export_needs_the_permission_and_a_purpose(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with pytest.raises(export.ExportRefused, match="researcher role may not export identified"):
        _export(sessions, tmp_path / "a", None, role="researcher", identified=True,
                purpose="ELSO registry submission 2025")  # fmt: skip
    with pytest.raises(ValidationFailed, match="purpose"):
        _export(sessions, tmp_path / "b", None, role="qa_lead", identified=True)
    with pytest.raises(export.ExportRefused):
        _export(sessions, tmp_path / "c", None, role="nurse")
    with pytest.raises(ValidationFailed, match="unknown format 'xlsx'"):
        _export(sessions, tmp_path / "d", None, fmt="xlsx")
    m = _export(sessions, tmp_path / "e", None, role="qa_lead", identified=True,
                purpose="ELSO registry submission 2025")  # fmt: skip
    assert "HXT-A" in (tmp_path / "e" / "runs.csv").read_text()
    with unit_of_work(sessions) as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action.like("export.%"))).all()
        assert [r.action for r in rows] == ["export.identified"]
        assert rows[0].detail["purpose"] == "ELSO registry submission 2025"
        assert "mrn" in rows[0].detail["fields"]["runs"]
    assert m["purpose"] == "ELSO registry submission 2025"


def test_ages_over_89_are_grouped() -> None:
    from continuum.research import deidentify as d

    assert d.age_shown(89) == 89 and d.age_shown(90) == "90+" and d.age_shown(104) == "90+"
    assert d.age_years(date(1930, 6, 1), date(2025, 5, 31)) == 94
    assert d.small_cells({"ecpr": 2, "pulmonary": 40, "none": 0}, 5) == ["ecpr"]
    shifts = {d.shift_days(KEY, pid, 30) for pid in range(500)}
    assert 0 not in shifts and min(shifts) == -30 and max(shifts) == 30
    assert d.shift_days(KEY, 7, 30) == d.shift_days(KEY, 7, 30)


def test_redcap_instances_are_numbered_by_ecmo_day(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    m = _export(sessions, tmp_path / "r1", None, "redcap")
    _export(sessions, tmp_path / "r2", None, "redcap")
    with (tmp_path / "r1" / "redcap_import.csv").open() as f:
        rows = list(csv.DictReader(f))
    runs = [r for r in rows if not r["redcap_repeat_instrument"]]
    days = [r for r in rows if r["redcap_repeat_instrument"] == "ecmo_day"]
    assert len(runs) == m["cohort"]["runs"] and days
    assert all(r["redcap_repeat_instance"] == "" for r in runs)
    assert all(r["redcap_repeat_instance"] == r["ecmo_day"] for r in days)
    per_run: dict[str, list[int]] = {}
    for r in days:
        per_run.setdefault(r["record_id"], []).append(int(r["redcap_repeat_instance"]))
    assert all(v == sorted(set(v)) and v[0] >= 1 for v in per_run.values())  # unique, by day
    # a second export numbers the same days the same (a re-import never lands on another day)
    with (tmp_path / "r2" / "redcap_import.csv").open() as f:
        again = [r for r in csv.DictReader(f) if r["redcap_repeat_instrument"]]
    assert again == days
    with (tmp_path / "r1" / "redcap_data_dictionary.csv").open() as f:
        dictionary = list(csv.DictReader(f))
    names = {d["Variable / Field Name"] for d in dictionary}
    header = (tmp_path / "r1" / "redcap_import.csv").read_text().splitlines()[0].split(",")
    assert set(header) - {"redcap_repeat_instrument", "redcap_repeat_instance"} <= names


def test_fhir_bundle_validates_and_is_pseudonymised(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from fhir.resources.R4B.bundle import Bundle

    sessions, _ = built
    m = _export(sessions, tmp_path, None, "fhir")
    text = (tmp_path / "bundle.json").read_text()
    bundle = Bundle.model_validate_json(text)
    kinds = {e.resource.get_resource_type() for e in bundle.entry or []}
    assert kinds >= {"Patient", "Encounter", "Procedure", "Device", "Observation"}
    assert m["files"][0]["rows"] == len(bundle.entry or [])
    for mrn in ("HXT-A", "HXT-B", "HXT-C", "Run A", "1980-05-01"):
        assert mrn not in text
    procedures = [e.resource for e in bundle.entry or []
                  if e.resource.get_resource_type() == "Procedure"]  # fmt: skip
    assert {p.code.coding[0].code for p in procedures} == {"233573008"}


def test_wide_rows_hold_each_run_hours_mean_of_the_long_rows(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    _export(sessions, tmp_path, None, "parquet")
    long = pq.read_table(tmp_path / "observations_long.parquet").to_pandas()
    wide = pq.read_table(tmp_path / "observations_wide_hourly.parquet").to_pandas()
    long["ecmo_hour"] = (long["minutes_on_ecmo"] // 60).astype(int)
    expected = long[long["ecmo_hour"] >= 0].groupby(["run_key", "ecmo_hour", "code"])["value"]
    means = expected.mean()
    assert len(wide) == long[long["ecmo_hour"] >= 0].groupby(["run_key", "ecmo_hour"]).ngroups
    checked = 0
    for (run_key, hour, code), mean in means.items():
        row = wide[(wide["run_key"] == run_key) & (wide["ecmo_hour"] == hour)]
        assert row[code].iloc[0] == pytest.approx(mean)
        checked += 1
    assert checked >= 5

"""The ECLS-CDM tables beyond ecls_run (circuit, mode, the component tables, cannula,
circuit ↔ component links, materials): every file loads into the v0.2.0 DDL on PostgreSQL
(tests/research/omop_cdm54_ecls_ddl.sql: NOT NULL, keys between the ECLS tables, the
tubing-size CHECK); rows follow the record (run A's circuit with its tubing size and
priming, its two membrane lungs, the dual-lumen cannula); what the record cannot fill is
left out and counted (circuits of runs B and C have no tubing size); device identifiers only
when identified."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from continuum.core.run_record import Cannula, Circuit, Component, ModeSegment
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.research import export_ecls
from tests.research import standards_cohort as cohort
from tests.research.test_export_cohorts import _export
from tests.research.test_export_omop import _load

PRIMING = "crystalloid (Plasma-Lyte 148)"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _build(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids = cohort.build(db)
    circuit = db.scalars(select(Circuit).where(Circuit.run_id == ids["A"])).one()
    circuit.tubing_size_in, circuit.priming_solution = 0.375, PRIMING
    cannula = db.scalars(select(Cannula).where(Cannula.run_id == ids["A"])).one()
    cannula.length_cm, cannula.insertion_depth_cm = 38, 14.6
    db.flush()
    return ids


@pytest.fixture
def pg_built(pg_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as db:
        ids = _build(db)
    yield sessions, ids, pg_url
    engine.dispose()


@pytest.mark.parametrize("identified", [False, True])
def test_ecls_tables_load_and_follow_the_record(pg_built, tmp_path: Path, identified: bool) -> None:  # type: ignore[no-untyped-def]
    sessions, ids, pg_url = pg_built
    m = _export(sessions, tmp_path, None, "omop", role="physician_lead" if identified
                else "researcher", identified=identified,
                purpose="ECLS-CDM load test, study 19" if identified else None)  # fmt: skip
    counts = _load(pg_url, tmp_path)  # raises on any column, type, NULL, key or CHECK misfit
    files = {f["table"]: f for f in m["files"]}
    assert set(export_ecls.TABLES) <= set(files)
    for table in export_ecls.TABLES:
        assert files[table]["rows"] == counts[table], table
    assert "ecls_circuit" in m["standard"]["name"]
    with unit_of_work(sessions) as db:
        circuits = db.scalar(select(func.count()).select_from(Circuit)) or 0
        a_modes = db.scalar(select(func.count()).select_from(ModeSegment)
                            .where(ModeSegment.run_id == ids["A"])) or 0  # fmt: skip
        a_parts = {
            kind: n
            for kind, n in db.execute(
                select(Component.kind, func.count())
                .where(Component.run_id == ids["A"])
                .group_by(Component.kind)
            )
        }
        parts = {
            kind: n
            for kind, n in db.execute(select(Component.kind, func.count()).group_by(Component.kind))
        }
    # run A's circuit only (B and C have no tubing size): left out and counted
    assert counts["ecls_circuit"] == 1
    left = m["standard"]["not_exported"]["ecls_rows_left_out"]
    assert left["circuits_without_tubing_size"] == circuits - 1
    circuit = _rows(tmp_path / "ecls_circuit.csv")[0]
    assert circuit["tubing_size_in_inches"] == "0.375"
    assert circuit["priming_solution_concept_id"] == "4162581"  # crystalloid
    run = next(r for r in _rows(tmp_path / "ecls_run.csv") if r["run_id"] == circuit["run_id"])
    assert circuit["start_datetime"] == run["start_datetime"]
    assert counts["ecls_mode"] == a_modes >= 1
    assert {r["mode_concept_id"] for r in _rows(tmp_path / "ecls_mode.csv")} == {"37206603"}
    # every component of every run is in its table; materials once per make and model
    assert counts["ecls_membrane_lung"] == parts.get("membrane_lung", 0)
    assert counts["ecls_blood_pump"] == parts.get("pump", 0)
    assert counts["ecls_console"] == parts.get("console", 0)
    assert counts["ecls_temperature_regulation_device"] == parts.get("heater", 0)
    assert a_parts.get("membrane_lung", 0) == 2  # the change at 40 h
    lungs = _rows(tmp_path / "ecls_membrane_lung.csv")
    assert "36717820" in {r["stop_reason_concept_id"] for r in lungs}  # oxygenator failure
    consoles = _rows(tmp_path / "ecls_console_material.csv")
    assert {"name": "Cardiohelp", "manufacturer": "Getinge"}.items() <= next(
        c for c in consoles if c["name"] == "Cardiohelp"
    ).items()
    # run A's components and its cannula linked to its circuit (distinct per type)
    links = _rows(tmp_path / "ecls_circuit_component.csv")
    assert {r["circuit_id"] for r in links} == {circuit["circuit_id"]}
    linked = {r["component_type_concept_id"] for r in links}
    assert {"4180582", "36717850", "45768426"} <= linked
    assert len(links) == sum(a_parts.get(k, 0) for k in export_ecls.KIND_TABLE) + 1
    [cannula] = _rows(tmp_path / "ecls_cannula.csv")
    assert cannula["flow_direction_concept_id"] == "36717811"  # drainage and return
    assert cannula["location_concept_id"] == "4006845"  # internal jugular vein
    assert cannula["laterality_concept_id"] == "4080761"  # right
    assert cannula["insertion_length_in_centimeters"] == "15"
    assert cannula["insertion_concept_id"] == "0"  # the record holds no technique
    [material] = _rows(tmp_path / "ecls_cannula_material.csv")
    assert (material["diameter_in_french"], material["length_in_centimeters"]) == ("27", "38")
    assert material["type_concept_id"] == "36717852"  # dual lumen
    # device identifiers only when identified
    text = "".join((tmp_path / f"{t}.csv").read_text(encoding="utf-8")
                   for t in export_ecls.TABLES)  # fmt: skip
    secrets = [cohort.SERIAL, cohort.LOT, cohort.UDI]
    if identified:
        assert (cannula["sn"], cannula["lot"], cannula["udi"]) == (cohort.SERIAL, cohort.LOT,
                                                                  cohort.UDI)  # fmt: skip
    else:
        assert [s for s in secrets if s in text] == []


def test_a_cannula_without_its_insertion_depth_is_left_out(built_plain, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions = built_plain
    m = _export(sessions, tmp_path, None, "omop")
    left = m["standard"]["not_exported"]["ecls_rows_left_out"]
    with unit_of_work(sessions) as db:
        cannulas = db.scalar(select(func.count()).select_from(Cannula)) or 0
    assert left["cannulas_without_size_length_or_insertion_depth"] == cannulas >= 1
    assert left["circuits_without_tubing_size"] >= 3
    assert _rows(tmp_path / "ecls_cannula.csv") == []
    assert _rows(tmp_path / "ecls_mode.csv") == []  # no exported circuit to hold them
    assert left["modes_without_exported_circuit"] >= 3


@pytest.fixture
def built_plain(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        cohort.build(db)
    return sessions


def test_concept_maps() -> None:
    assert export_ecls.tubing_size(0.375) == 0.375 and export_ecls.tubing_size(0.3) is None
    assert export_ecls.priming_concept("5% albumin") == 37311619
    assert export_ecls.priming_concept("packed red blood cells") == 4226865
    assert export_ecls.priming_concept("gelofusine") == 0
    assert export_ecls.site_concept("right femoral vein") == 4308414
    assert export_ecls.site_concept("superficial femoral artery") == 4111596
    assert export_ecls.site_concept("somewhere") == 0

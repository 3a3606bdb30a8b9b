"""A cohort as the CLIF 2.1 ``ecmo_mcs`` table (one wide row per device reading), written as
``ecmo_mcs.csv`` and ``ecmo_mcs.parquet``.

A reading is every circuit value of a run recorded at the same time: ECMO blood flow
(``flow``), pump speed (``control_parameter_value``, category ``rpm``), sweep gas flow
(``sweep_set``) and its O2 fraction (``fdO2_set``, 0–1). Impella flow and performance level
and the IABP assist ratio recorded at that time make rows of their own (``mcs_group``
``impella_lvad`` / ``iabp``). The columns and their mapping are those of the data
dictionary (``research.dictionary_entries.CODE_ENTRIES``, ``clif=``); every other
observation has no place in ``ecmo_mcs`` (CLIF keeps labs and vitals in tables of its own).

``hospitalization_id`` is the run's key (our stay on ECMO; the keyed pseudonym when
de-identified), ``recorded_dttm`` is UTC (shifted when de-identified) written
``YYYY-MM-DD HH:MM:SS+00:00`` in the CSV. ``device_category`` and ``mcs_group`` use the
mCIDE spellings; ``ecmo_configuration_category`` the mCIDE list (``v_v``, ``v_a``,
``v_av``, ``vv_a``, ``v_p``, ``other_unspecified``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.run_record import Component, ModeSegment
from continuum.research.export import RunData
from continuum.research.export_tables import Column, CsvWriter, ParquetWriter

VERSION = "CLIF 2.1 ecmo_mcs"
COLUMNS = [
    Column("hospitalization_id", "str", None, "the run's key (our stay on ECMO)"),
    Column("recorded_dttm", "time", "UTC", "time of the reading"),
    Column("device_name", "str", None, "console make and model as recorded"),
    Column("device_category", "str", None, "mCIDE device category"),
    Column("mcs_group", "str", None, "ecmo, impella_lvad, iabp"),
    Column("ecmo_configuration_category", "str", None, "mode at the time (mCIDE)"),
    Column("control_parameter_name", "str", None, "pump speed, P-level, assist ratio"),
    Column("control_parameter_category", "str", None, "rpm, impella_performance, iabp_ratio"),
    Column("control_parameter_value", "float", None, "its value"),
    Column("flow", "float", "L/min", "blood flow"),
    Column("sweep_set", "float", "L/min", "sweep gas flow"),
    Column("fdO2_set", "float", "1", "fraction of delivered O2 in the sweep gas, 0–1"),
]
NAMES = [c.name for c in COLUMNS]
CONFIGURATION = {
    "VV": "v_v", "VA": "v_a", "VAV": "v_av", "VVA": "vv_a", "V-PA": "v_p",
    "VA+Impella": "v_a", "VA+IABP": "v_a", "VV+IABP": "v_v", "VV+RVAD": "v_v",
    "VV-ECCO2R": "v_v",
}  # fmt: skip
ECMO_CATEGORY = (
    ("cardiohelp", "cardiohelp_ecmo"), ("centrimag", "centrimag_ecmo"),
    ("novalung", "novalung_ecmo"), ("rotaflow", "rotaflow_ecmo"),
)  # fmt: skip
READING_CODES = frozenset(
    {"blood_flow", "pump_speed", "sweep_flow", "sweep_fio2", "impella_flow", "impella_p_level",
     "iabp_ratio"}
)  # fmt: skip


def device_category(name: str) -> str:
    lowered = name.lower()
    for needle, category in ECMO_CATEGORY:
        if needle in lowered:
            return category
    return "ecmo_other_unspec"


def csv_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S+00:00")


def _rows(
    run: RunData, console: str, modes: list[tuple[datetime, str]]
) -> Iterable[dict[str, Any]]:
    """The run's readings as ecmo_mcs rows (observations come in time order)."""
    hosp = run.keys.run_key
    delta = run.keys.shift.delta
    category = device_category(console)

    def config(at: datetime) -> str | None:
        current = None
        for start, mode in modes:
            if start <= at:
                current = mode
        return None if current is None else CONFIGURATION.get(current, "other_unspecified")

    def emit(at: datetime, v: dict[str, float]) -> Iterable[dict[str, Any]]:
        shifted = at + delta
        cfg = config(at)
        if {"blood_flow", "pump_speed", "sweep_flow", "sweep_fio2"} & v.keys():
            speed = v.get("pump_speed")
            yield {"hospitalization_id": hosp, "recorded_dttm": shifted,
                   "device_name": console or None, "device_category": category,
                   "mcs_group": "ecmo", "ecmo_configuration_category": cfg,
                   "control_parameter_name": "pump speed" if speed is not None else None,
                   "control_parameter_category": "rpm" if speed is not None else None,
                   "control_parameter_value": speed, "flow": v.get("blood_flow"),
                   "sweep_set": v.get("sweep_flow"), "fdO2_set": v.get("sweep_fio2")}  # fmt: skip
        if {"impella_flow", "impella_p_level"} & v.keys():
            level = v.get("impella_p_level")
            yield {"hospitalization_id": hosp, "recorded_dttm": shifted,
                   "device_name": "Impella", "device_category": "impella_lv_other_unspec",
                   "mcs_group": "impella_lvad",
                   "control_parameter_name": "P-level" if level is not None else None,
                   "control_parameter_category": "impella_performance"
                   if level is not None else None,
                   "control_parameter_value": level, "flow": v.get("impella_flow")}  # fmt: skip
        if "iabp_ratio" in v:
            yield {"hospitalization_id": hosp, "recorded_dttm": shifted, "device_name": "IABP",
                   "device_category": "iabp", "mcs_group": "iabp",
                   "control_parameter_name": "assist ratio (1:n as 1/n)",
                   "control_parameter_category": "iabp_ratio",
                   "control_parameter_value": v["iabp_ratio"]}  # fmt: skip

    at: datetime | None = None
    values: dict[str, float] = {}
    for code, time, value, _unit, _source in run.observations:
        if code not in READING_CODES:
            continue
        if time != at:
            if at is not None:
                yield from emit(at, values)
            at, values = time, {}
        values[code] = value
    if at is not None:
        yield from emit(at, values)


def write(db: Session, runs: Iterable[RunData], out_dir: Path) -> list[tuple[str, str, int]]:
    """Write ecmo_mcs.csv and ecmo_mcs.parquet; (file, layout, rows)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text_cols = [Column(c.name, "str" if c.type == "time" else c.type) for c in COLUMNS]
    csv_w = CsvWriter(out_dir / "ecmo_mcs.csv", text_cols)
    pq_w = ParquetWriter(out_dir / "ecmo_mcs.parquet", COLUMNS)
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if not batch:
            return
        cols = {n: [r.get(n) for r in batch] for n in NAMES}
        pq_w.write(cols)
        csv_w.write({**cols, "recorded_dttm": [csv_time(t) for t in cols["recorded_dttm"]]})
        batch.clear()

    try:
        for run in runs:
            rid = run.keys.run_id
            console = db.scalar(
                select(Component).where(Component.run_id == rid, Component.kind == "console")
                .order_by(Component.started_at).limit(1)
            )  # fmt: skip
            name = " ".join(x for x in (console.make, console.model) if x) if console else ""
            modes = [
                (s, m)
                for s, m in db.execute(
                    select(ModeSegment.started_at, ModeSegment.mode)
                    .where(ModeSegment.run_id == rid)
                    .order_by(ModeSegment.started_at, ModeSegment.id)
                )
            ]
            for row in _rows(run, name, modes):
                batch.append(row)
                if len(batch) >= 10_000:
                    flush()
        flush()
    finally:
        csv_w.close()
        pq_w.close()
    layout = "one row per device reading (CLIF 2.1 ecmo_mcs)"
    return [("ecmo_mcs.csv", layout, csv_w.rows), ("ecmo_mcs.parquet", layout, pq_w.rows)]

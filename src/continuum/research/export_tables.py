"""Column-batch writers for research exports: CSV and Parquet, one file per table, written
batch by batch (never the whole table in memory), with row counts and SHA-256 checksums."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

# Column types of the export schema: "str", "float", "int", "time" (UTC timestamp).
TYPES = ("str", "float", "int", "time")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    unit: str | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "unit": self.unit,
            "description": self.description,
        }


class TableWriter(Protocol):
    path: Path
    rows: int

    def write(self, batch: dict[str, list[Any]]) -> None: ...

    def write_arrow(self, table: Any) -> None: ...

    def close(self) -> None: ...


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _csv_values(column: Any) -> list[Any]:
    """An Arrow column as the values ``_cell`` writes: UTC times as ``isoformat()`` text
    (``…T12:00:00+00:00``, microseconds only when there are some), made column-wise."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_timestamp(column.type) or column.null_count:
        return column.to_pylist()  # type: ignore[no-any-return]
    us = column.to_numpy().astype("datetime64[us]")
    whole = np.datetime_as_string(us, unit="s")
    fraction = us.astype(np.int64) % 1_000_000 != 0
    if fraction.any():
        whole = np.where(fraction, np.datetime_as_string(us, unit="us"), whole)
    return np.char.add(whole.astype(str), "+00:00").tolist()  # type: ignore[no-any-return]


class CsvWriter:
    def __init__(self, path: Path, columns: list[Column]) -> None:
        self.path = path
        self.columns = columns
        self.rows = 0
        self._file = path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow([c.name for c in columns])

    def write(self, batch: dict[str, list[Any]]) -> None:
        cols = [batch[c.name] for c in self.columns]
        n = len(cols[0]) if cols else 0
        self._csv.writerows([_cell(v) for v in row] for row in zip(*cols, strict=True))
        self.rows += n

    def write_arrow(self, table: Any) -> None:
        """A ``pyarrow.Table`` of these columns (the PostgreSQL fast path): the same text
        as ``write`` gives for its values."""
        self.write({name: _csv_values(table.column(name)) for name in table.column_names})

    def close(self) -> None:
        self._file.close()


def arrow_schema(columns: list[Column]) -> Any:
    """The Parquet (Arrow) schema of these columns, each field's unit in its metadata."""
    import pyarrow as pa

    kinds = {
        "str": pa.string(),
        "float": pa.float64(),
        "int": pa.int64(),
        "time": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema(
        [pa.field(c.name, kinds[c.type], metadata={"unit": c.unit or ""}) for c in columns]
    )


class ParquetWriter:
    def __init__(self, path: Path, columns: list[Column]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = path
        self.columns = columns
        self.rows = 0
        self._pa = pa
        self.schema = arrow_schema(columns)
        self._writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")

    def write(self, batch: dict[str, list[Any]]) -> None:
        table = self._pa.Table.from_pydict(
            {c.name: batch[c.name] for c in self.columns}, schema=self.schema
        )
        self._writer.write_table(table)
        self.rows += table.num_rows

    def write_arrow(self, table: Any) -> None:
        """A ``pyarrow.Table`` with this writer's schema (the PostgreSQL fast path)."""
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def open_writer(fmt: str, path: Path, columns: list[Column]) -> TableWriter:
    return ParquetWriter(path, columns) if fmt == "parquet" else CsvWriter(path, columns)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""The PostgreSQL fast path of the CSV and Parquet exports' observation tables.

The plain path (``export._write_observations``) reads every observation as a Python tuple
through a server-side cursor and builds both tables row by row. Here PostgreSQL hands over
each run's final observations as one row of tab-separated text (``AGG_SQL``: ``string_agg``
ordered by time and id, grouped by run over the ``(run_id, code, time)`` index, so there is
no large sort and one message per run rather than one per observation). Reader threads with
connections of their own fetch alternate groups of runs; the export's thread parses each
group with pyarrow's CSV reader, in run order, and de-identifies whole columns:

- the run's and patient's keyed pseudonyms are looked up by run id (one ``take``);
- times are shifted by the patient's offset in integer microseconds;
- ``minutes_on_ecmo`` is ``(time - started)`` in microseconds ÷ 10⁶ ÷ 60, the same float
  operations ``timedelta.total_seconds() / 60`` does, so the values are bit-for-bit equal;
- hourly means are sums in arrival order (``numpy.bincount`` adds its weights in input
  order from 0.0, as the plain loop does) divided by counts, again bit-for-bit equal.

Batches go to the writers in slices of exactly ``BATCH_ROWS`` rows, as the plain path's do,
so a Parquet file is the same file (same row groups, same checksum) whichever path wrote it.
Memory is a few groups of ``GROUP_RUNS`` runs as text and one block of their columns.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.orm import Session

from continuum.research.export_tables import TableWriter

BLOCK_BYTES = 8 << 20
US_PER_HOUR = 3_600_000_000
TIME_TYPE = pa.timestamp("us", tz="UTC")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# One row per final observation, in export order; the time as integer microseconds since
# the epoch (exact: ``extract`` returns numeric on PostgreSQL 14+).
COPY_SQL = (
    "COPY (SELECT run_id, code, (extract(epoch from time) * 1000000)::bigint, value, unit, "
    "source FROM observation WHERE status = 'final' AND run_id = ANY('{{{ids}}}'::integer[]) "
    "ORDER BY run_id, time, id) TO STDOUT (FORMAT csv)"
)
CONVERT = pa_csv.ConvertOptions(
    column_types={
        "run_id": pa.int64(),
        "code": pa.string(),
        "t_us": pa.int64(),
        "value": pa.float64(),
        "unit": pa.string(),
        "source": pa.string(),
    },
    null_values=[""],
    strings_can_be_null=False,
    quoted_strings_can_be_null=False,
)
# For the sorts (a run's observations by time; a small database's whole group by run).
SORT_MEMORY = "64MB"
# Runs read by one statement (at 1-minute data, 24 h of a run is ~0.5 MB of text), and
# the connections reading groups in parallel with the thread that parses and writes.
GROUP_RUNS = 8
READERS = 2
AGG_SQL = (
    "SELECT run_id, count(*), convert_to(string_agg(concat_ws(E'\\t', code, "
    "(extract(epoch from time) * 1000000)::bigint, value, unit, source), E'\\n' "
    "ORDER BY time, id), 'UTF8') FROM observation WHERE status = 'final' "
    "AND run_id = ANY('{{{ids}}}'::integer[]) GROUP BY run_id ORDER BY run_id"
)
COPY_COLUMNS = ["run_id", "code", "t_us", "value", "unit", "source"]
EMPTY = pa.table(
    {
        "run_id": pa.array([], pa.int64()),
        "code": pa.array([], pa.string()),
        "t_us": pa.array([], pa.int64()),
        "value": pa.array([], pa.float64()),
        "unit": pa.array([], pa.string()),
        "source": pa.array([], pa.string()),
    }
)


def available(db: Session, fmt: str) -> bool:
    """The fast path serves CSV and Parquet on PostgreSQL (through psycopg's COPY)."""
    return fmt in ("csv", "parquet") and db.get_bind().dialect.name == "postgresql"


class ArrowBatch:
    """Arrow tables gathered and written in slices of exactly ``size`` rows (the plain
    path's ``_Batch`` boundaries), the rest at ``flush``."""

    def __init__(self, writer: TableWriter, schema: pa.Schema, size: int) -> None:
        self.writer = writer
        self.schema = schema
        self.size = size
        self.pending: list[pa.Table] = []
        self.n = 0

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.pending.append(table)
        self.n += table.num_rows
        while self.n >= self.size:
            whole = pa.concat_tables(self.pending)
            self._write(whole.slice(0, self.size))
            rest = whole.slice(self.size)
            self.pending = [rest] if rest.num_rows else []
            self.n = rest.num_rows

    def flush(self) -> None:
        if self.n:
            self._write(pa.concat_tables(self.pending))
            self.pending, self.n = [], 0

    def _write(self, table: pa.Table) -> None:
        self.writer.write_arrow(table.combine_chunks())


class RunArrays:
    """The chunk's runs as columns, looked up by run id (sorted)."""

    def __init__(self, runs: Sequence[Any], identified: bool) -> None:
        runs = sorted(runs, key=lambda r: r.run_id)
        self.ids = np.array([r.run_id for r in runs], dtype=np.int64)
        self.run_keys = pa.array([r.run_key for r in runs], pa.string())
        self.patient_keys = pa.array([r.patient_key for r in runs], pa.string())
        self.started_us = np.array([_us(r.started) for r in runs], dtype=np.int64)
        self.shift_us = np.array(
            [r.shift.delta // timedelta(microseconds=1) for r in runs], dtype=np.int64
        )
        self.identified = identified

    def positions(self, run_id: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.ids, run_id)
        if len(pos) and (pos.max() >= len(self.ids) or (self.ids[pos] != run_id).any()):
            raise RuntimeError("an observation of a run outside the chunk")  # pragma: no cover
        return pos

    def keys(self, pos: np.ndarray) -> list[pa.Array]:
        take = pa.array(pos)
        keys = [self.run_keys.take(take), self.patient_keys.take(take)]
        if self.identified:
            keys.insert(0, pa.array(self.ids[pos]))
        return keys


def _us(value: datetime) -> int:
    return (value - EPOCH) // timedelta(microseconds=1)


class _Wide:
    """Hourly means of one chunk, built from complete (run, hour) segments; the rows of the
    segment still open at the end of a block wait for the next block."""

    def __init__(self, runs: RunArrays, codes: Sequence[str], out: ArrowBatch) -> None:
        self.runs = runs
        self.codes = pa.array(list(codes), pa.string())
        self.width = len(codes)
        self.out = out
        self.carry: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, pos: np.ndarray, hour: np.ndarray, code_i: np.ndarray, value: np.ndarray,
            final: bool) -> None:  # fmt: skip
        if self.carry is not None:
            pos, hour, code_i, value = (
                np.concatenate((c, x)) for c, x in zip(self.carry, (pos, hour, code_i, value),
                                                       strict=True)
            )  # fmt: skip
            self.carry = None
        if not len(pos):
            return
        if not final:  # hold back the last (run, hour): it may go on in the next block
            last = (pos == pos[-1]) & (hour == hour[-1])
            cut = int(np.argmax(last))
            self.carry = (pos[cut:], hour[cut:], code_i[cut:], value[cut:])
            pos, hour, code_i, value = pos[:cut], hour[:cut], code_i[:cut], value[:cut]
            if not len(pos):
                return
        keep = hour >= 0  # hours before the start are not rows of the wide table
        pos, hour, code_i, value = pos[keep], hour[keep], code_i[keep], value[keep]
        if not len(pos):
            return
        change = np.empty(len(pos), dtype=bool)
        change[0] = True
        change[1:] = (pos[1:] != pos[:-1]) | (hour[1:] != hour[:-1])
        segment = np.cumsum(change) - 1
        n = int(segment[-1]) + 1
        known = code_i >= 0
        cell = segment[known] * self.width + code_i[known]
        sums = np.bincount(cell, weights=value[known], minlength=n * self.width)
        counts = np.bincount(cell, minlength=n * self.width)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = (sums / np.where(counts == 0, 1, counts)).reshape(n, self.width)
        empty = (counts == 0).reshape(n, self.width)
        first = np.flatnonzero(change)
        seg_pos, seg_hour = pos[first], hour[first]
        start = self.runs.started_us[seg_pos] + seg_hour * US_PER_HOUR + self.runs.shift_us[seg_pos]
        columns = [
            *self.runs.keys(seg_pos),
            pa.array(seg_hour, pa.int64()),
            pa.array(start, pa.int64()).cast(TIME_TYPE),
            *(pa.array(means[:, j], pa.float64(), mask=empty[:, j]) for j in range(self.width)),
        ]
        self.out.add(pa.Table.from_arrays(columns, schema=self.out.schema))


def write_observations(
    db: Session,
    chunk: list[int],
    runs: Sequence[Any],
    identified: bool,
    codes: Sequence[str],
    long_b: ArrowBatch,
    wide_b: ArrowBatch,
) -> None:
    """The chunk's final observations into the long and hourly wide tables (see the module
    docstring); ``runs``: the chunk's ``export._RunKeys``.

    ``READERS`` threads, each with a connection of its own, read alternate groups of
    ``GROUP_RUNS`` runs while this thread parses and writes the groups in run order: the
    database's work runs in parallel with ours and with itself (2 cores), the files' order
    stays that of the runs. Each group is one statement (read committed, as the plain path's
    statements are)."""
    arrays = RunArrays(runs, identified)
    wide = _Wide(arrays, codes, wide_b)
    code_set = pa.array(list(codes), pa.string())
    raw = db.connection().connection.driver_connection
    ordered = sorted(chunk)
    groups = [ordered[i : i + GROUP_RUNS] for i in range(0, len(ordered), GROUP_RUNS)]
    readers = min(READERS, len(groups))
    queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=1) for _ in range(readers)]
    stop = threading.Event()
    engine = db.get_bind()
    threads = [
        threading.Thread(
            target=_reader, args=(engine, groups[k::readers], queues[k], stop), daemon=True
        )
        for k in range(readers)
    ]
    for t in threads:
        t.start()
    try:
        for g in range(len(groups)):
            item = queues[g % readers].get()
            if isinstance(item, BaseException):
                raise item
            for batch in _parse(raw, *item).to_batches():
                _write_batch(batch, arrays, wide, code_set, long_b)
        wide.add(*_empty(), final=True)
    finally:
        stop.set()
        for t in threads:
            t.join()


Fetched = tuple[list[int], list[int], list[bytes]]


def _reader(engine: Any, groups: list[list[int]], out: queue.Queue[Any], stop: threading.Event
            ) -> None:  # fmt: skip
    """Read these groups of runs (``AGG_SQL``) on a connection of its own, in order, into
    ``out``; an error goes into ``out`` for the writing thread to raise."""

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        pooled = engine.raw_connection()
    except Exception as e:
        put(e)
        return
    try:
        conn = pooled.driver_connection
        conn.execute(
            "SELECT set_config('work_mem', %s, true), set_config('extra_float_digits', '1', true)",
            (SORT_MEMORY,),
        )
        for ids in groups:
            if stop.is_set():
                return
            rows = conn.execute(
                AGG_SQL.format(ids=",".join(str(int(r)) for r in ids)), binary=True
            ).fetchall()
            if not put(([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])):
                return
    except BaseException as e:
        put(e)
    finally:
        try:
            pooled.driver_connection.rollback()
        finally:
            pooled.close()


def _parse(raw: Any, run_ids: list[int], counts: list[int], blobs: list[bytes]) -> pa.Table:
    if not run_ids:  # no final observation in the whole group
        return EMPTY
    try:
        table = pa_csv.read_csv(
            io.BytesIO(b"\n".join(blobs)),
            read_options=pa_csv.ReadOptions(
                column_names=COPY_COLUMNS[1:], block_size=BLOCK_BYTES, use_threads=False
            ),
            parse_options=pa_csv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=CONVERT,
        )
    except pa.ArrowInvalid:
        table = None
    if table is None or table.num_rows != sum(counts):
        return _copy_csv(raw, run_ids)
    run_id = pa.array(np.repeat(np.array(run_ids, dtype=np.int64), counts), pa.int64())
    return table.add_column(0, "run_id", run_id)


def _copy_csv(raw: Any, run_ids: list[int]) -> pa.Table:
    """The slow, always-exact reading: COPY … TO STDOUT (FORMAT csv), quoted as needed."""
    buf = bytearray()
    with raw.cursor() as cur:
        sql = COPY_SQL.format(ids=",".join(str(int(r)) for r in run_ids))
        with cur.copy(sql) as copy:
            for block in copy:
                buf += block
    if not buf:
        return EMPTY
    return pa_csv.read_csv(
        io.BytesIO(bytes(buf)),
        read_options=pa_csv.ReadOptions(column_names=COPY_COLUMNS, use_threads=False),
        convert_options=CONVERT,
    )


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    i = np.empty(0, dtype=np.int64)
    return i, i, i, np.empty(0, dtype=np.float64)


def _write_batch(
    batch: pa.RecordBatch, runs: RunArrays, wide: _Wide, code_set: pa.Array, long_b: ArrowBatch
) -> None:
    import pyarrow.compute as pc

    run_id = batch.column(0).to_numpy()
    t_us = batch.column(2).to_numpy()
    value = batch.column(3).to_numpy()
    pos = runs.positions(run_id)
    minutes = (t_us - runs.started_us[pos]).astype(np.float64) / 1e6 / 60
    columns = [
        *runs.keys(pos),
        batch.column(1),
        pa.array(t_us + runs.shift_us[pos], pa.int64()).cast(TIME_TYPE),
        pa.array(minutes, pa.float64()),
        batch.column(3),
        batch.column(4),
        batch.column(5),
    ]
    long_b.add(pa.Table.from_arrays(columns, schema=long_b.schema))
    hour = np.floor_divide(minutes, 60.0).astype(np.int64)
    code_i = pc.index_in(batch.column(1), value_set=code_set).fill_null(-1).to_numpy()
    wide.add(pos, hour, code_i.astype(np.int64), value, final=False)

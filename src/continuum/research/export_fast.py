"""The PostgreSQL fast path of the CSV and Parquet exports' observation tables.

The plain path (``export._write_observations``) reads every observation as a Python tuple
through a server-side cursor and builds both tables row by row. Here PostgreSQL hands over a
group of runs' final observations as a few binary arrays per run and code (``GROUP_SQL``:
``array_agg`` of times, values and ids, sent with ``array_send``, grouped in index order;
per unit and source too where a run's code has several, ``MIXED_SQL``), so nothing is
formatted as text and there is one message per run and code rather than one per
observation. Reader threads with connections of their own fetch alternate groups of runs and
turn them into numpy columns (the arrays' elements are fixed-width: a ``frombuffer`` view),
sorted into export order (run, time, id) with ``numpy.lexsort``; the export's thread takes
the groups in run order and de-identifies whole columns:

- the run's and patient's keyed pseudonyms are looked up by run id (one ``take``);
- times are shifted by the patient's offset in integer microseconds;
- ``minutes_on_ecmo`` is ``(time - started)`` in microseconds ÷ 10⁶ ÷ 60, the same float
  operations ``timedelta.total_seconds() / 60`` does, so the values are bit-for-bit equal;
- hourly means are sums in arrival order (``numpy.bincount`` adds its weights in input
  order from 0.0, as the plain loop does) divided by counts, again bit-for-bit equal.

Batches go to the writers in slices of exactly ``BATCH_ROWS`` rows, as the plain path's do,
so a Parquet file is the same file (same row groups, same checksum) whichever path wrote it;
a writer thread encodes them (Parquet's encoding and compression run outside the GIL) while
this thread builds the next. Memory is a few groups of ``GROUP_RUNS`` runs and a few batches.
"""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from psycopg import sql
from sqlalchemy.orm import Session

from continuum.research.export_tables import TableWriter

US_PER_HOUR = 3_600_000_000
TIME_TYPE = pa.timestamp("us", tz="UTC")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# PostgreSQL's binary timestamps count microseconds from 2000-01-01.
PG_EPOCH_US = (datetime(2000, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
# For the aggregate of a group of runs.
SORT_MEMORY = "64MB"
# Runs read by one statement (at 1-minute data, 24 h of a run is ~0.4 MB of arrays: a statement's
# planning is a small part of its work), and
# the connections reading groups in parallel with the thread that writes.
GROUP_RUNS = 16
READERS = 2
# Planner methods the readers turn off (for their own transaction): a group is read in the
# order of the (run_id, code, time) index, an index-only scan where the visibility map is
# current (the index covers value, id, unit and source: migration 0042). Left to itself the
# planner may prefer a bitmap scan of a 16-run group's ~180,000 rows and then sort or hash
# them for the GROUP BY, about a third more of PostgreSQL's time than reading them in order.
INDEX_ORDER = ("enable_bitmapscan", "enable_hashagg", "enable_sort")
# One row per run and code (grouped in the order of the (run_id, code, time) index, which
# covers the columns read: an index-only scan, no sort, no hash): its final observations'
# times, values and ids as binary arrays (in any order: the reader sorts), and the smallest
# and largest unit and source (byte order).
GROUP_SQL = (
    'SELECT run_id, code, min(unit COLLATE "C"), max(unit COLLATE "C"), '
    'min(source COLLATE "C"), max(source COLLATE "C"), count(*), '
    "array_send(array_agg(time)), array_send(array_agg(value)), array_send(array_agg(id)) "
    "FROM observation WHERE status = 'final' AND run_id = ANY('{{{ids}}}'::integer[]) "
    "GROUP BY run_id, code"
)
# A run's code with more than one unit or source (rare: a manual value among a console's)
# is read again one row per run, code, unit and source.
MIXED_SQL = (
    "SELECT run_id, code, unit, source, count(*), array_send(array_agg(time)), "
    "array_send(array_agg(value)), array_send(array_agg(id)) FROM observation "
    "WHERE status = 'final' AND run_id = %s AND code = %s GROUP BY run_id, code, unit, source"
)
# A one-dimensional binary array without nulls: ndim, flags, element type, size, lower
# bound; then each element as its length (8) and its big-endian value.
ARRAY_HEADER = struct.Struct(">iiiii")
INT8_ITEMS = np.dtype([("n", ">i4"), ("v", ">i8")])
FLOAT8_ITEMS = np.dtype([("n", ">i4"), ("v", ">f8")])


def available(db: Session, fmt: str) -> bool:
    """The fast path serves CSV and Parquet on PostgreSQL (through psycopg's COPY)."""
    return fmt in ("csv", "parquet") and db.get_bind().dialect.name == "postgresql"


class ArrowBatch:
    """Arrow tables gathered and written in slices of exactly ``size`` rows (the plain
    path's ``_Batch`` boundaries), the rest at ``flush``; a thread of its own hands the
    slices to the writer, in order, while the caller goes on."""

    def __init__(self, writer: TableWriter, schema: pa.Schema, size: int) -> None:
        self.writer = writer
        self.schema = schema
        self.size = size
        self.pending: list[pa.Table] = []
        self.n = 0
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

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
        """Write the rest and wait until the writer has every slice (its error raised)."""
        if self.n:
            self._write(pa.concat_tables(self.pending))
            self.pending, self.n = [], 0
        self.close()

    def close(self, raise_error: bool = True) -> None:
        """Wait for the slices handed over so far; then the writer may be closed."""
        if self._thread is not None:
            self._queue.put(None)  # the thread takes every item, even after an error
            self._thread.join()
            self._thread = None
        if raise_error and self._error is not None:
            raise self._error

    def _write(self, table: pa.Table) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(table, timeout=0.2)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._error is None:
                try:
                    # one chunk per column: the plain path's layout (pages cut alike)
                    self.writer.write_arrow(table.combine_chunks())
                except BaseException as e:  # raised in the caller's thread
                    self._error = e


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
    """Hourly means of one chunk, a block at a time (a block holds whole runs)."""

    def __init__(self, runs: RunArrays, codes: Sequence[str], out: ArrowBatch) -> None:
        self.runs = runs
        self.codes = pa.array(list(codes), pa.string())
        self.width = len(codes)
        self.out = out

    def add(self, pos: np.ndarray, hour: np.ndarray, code_i: np.ndarray, value: np.ndarray
            ) -> None:  # fmt: skip
        """Whole runs' observations in export order: run positions, ECMO hours, wide
        columns (-1: none) and values."""
        keep = hour >= 0  # hours before the start are not rows of the wide table
        if not keep.all():
            pos, hour, code_i, value = pos[keep], hour[keep], code_i[keep], value[keep]
        if not len(pos):
            return
        change = np.empty(len(pos), dtype=bool)
        change[0] = True
        change[1:] = (pos[1:] != pos[:-1]) | (hour[1:] != hour[:-1])
        segment = np.cumsum(change) - 1
        n = int(segment[-1]) + 1
        known = code_i >= 0
        if not known.all():
            segment, code_i, value = segment[known], code_i[known], value[known]
        cell = segment * self.width + code_i
        sums = np.bincount(cell, weights=value, minlength=n * self.width)
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


@dataclass
class Block:
    """A group of runs' final observations as columns in export order (run, time, id);
    code, unit and source as indexes (``group``) into per-(run, code, unit, source) arrays."""

    run_id: np.ndarray
    t_us: np.ndarray
    value: np.ndarray
    group: np.ndarray
    code: pa.Array
    unit: pa.Array
    source: pa.Array
    code_i: np.ndarray  # per group: the code's column in the wide table, -1 for none


class Readers:
    """``READERS`` threads, each with a connection of its own, reading alternate groups of
    ``GROUP_RUNS`` runs of the whole export, in order, a group or so ahead of the export's
    thread (which takes them chunk by chunk, ``blocks``): the database's work runs in
    parallel with ours, with itself, and on across the export's chunks. Every reader
    imports the export transaction's snapshot (``pg_export_snapshot``): the whole export
    reads one state of the database's observations."""

    def __init__(self, db: Session, chunks: Sequence[Sequence[int]], codes: Sequence[str]
                 ) -> None:  # fmt: skip
        self.groups: list[list[int]] = []
        for chunk in chunks:  # a group never spans two chunks
            ordered = sorted(chunk)
            self.groups += [ordered[i : i + GROUP_RUNS] for i in range(0, len(ordered), GROUP_RUNS)]
        self.next = 0
        n = max(1, min(READERS, len(self.groups)))
        self.queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=1) for _ in range(n)]
        self.stop = threading.Event()
        raw = db.connection().connection.driver_connection
        snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
        code_index = {code: i for i, code in enumerate(codes)}
        bind = db.get_bind()
        self.threads = [
            threading.Thread(
                target=_reader,
                args=(bind, self.groups[k::n], self.queues[k], self.stop, code_index, snapshot),
                daemon=True,
            )
            for k in range(n)
        ]
        for t in self.threads:
            t.start()

    def blocks(self, chunk: Sequence[int]) -> Iterator[Block | None]:
        """The blocks of this chunk's groups, in run order (None: a group without any final
        observation); the chunks must come in the order given."""
        ordered = sorted(chunk)
        while ordered:
            g = self.next
            if g >= len(self.groups) or self.groups[g] != ordered[: len(self.groups[g])]:
                raise RuntimeError("export chunks out of the readers' order")  # pragma: no cover
            ordered = ordered[len(self.groups[g]) :]
            item = self.queues[g % len(self.queues)].get()
            self.next += 1
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def write_observations(
    readers: Readers,
    chunk: list[int],
    runs: Sequence[Any],
    identified: bool,
    codes: Sequence[str],
    long_b: ArrowBatch,
    wide_b: ArrowBatch,
) -> None:
    """The chunk's final observations (from ``readers``) into the long and hourly wide
    tables (see the module docstring); ``runs``: the chunk's ``export._RunKeys``."""
    arrays = RunArrays(runs, identified)
    wide = _Wide(arrays, codes, wide_b)
    for block in readers.blocks(chunk):
        if block is not None:
            _write_block(block, arrays, wide, long_b)


def _reader(engine: Any, groups: list[list[int]], out: queue.Queue[Any], stop: threading.Event,
            code_index: Mapping[str, int], snapshot: str) -> None:  # fmt: skip
    """Read these groups of runs (``GROUP_SQL``) on a connection of its own, in the
    exported ``snapshot`` (``pg_export_snapshot``), in order, into
    ``out`` as ``Block``s (None: no final observation); an error goes into ``out`` for the
    writing thread to raise."""

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
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        conn.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)",
            (SORT_MEMORY,),
        )
        # the index's order, never a sort or hash of the group (see INDEX_ORDER)
        conn.execute(
            "SELECT " + ", ".join(f"set_config('{name}', 'off', true)" for name in INDEX_ORDER)
        )
        for ids in groups:
            if stop.is_set():
                return
            rows = []
            sql_ = GROUP_SQL.format(ids=",".join(str(int(r)) for r in ids))
            for r in conn.execute(sql_, binary=True).fetchall():
                if r[2] == r[3] and r[4] == r[5]:  # one unit, one source
                    rows.append((r[0], r[1], r[2], r[4], *r[6:]))
                else:
                    rows += conn.execute(MIXED_SQL, (r[0], r[1]), binary=True).fetchall()
            if not put(_block(rows, code_index)):
                return
    except BaseException as e:
        put(e)
    finally:
        try:
            pooled.driver_connection.rollback()
        finally:
            pooled.close()


def _items(blobs: list[bytes], counts: list[int], dtype: np.dtype[Any]) -> np.ndarray:
    """The elements of binary arrays (``array_send``), one after another, as native values."""
    parts = []
    for blob, count in zip(blobs, counts, strict=True):
        ndim, flags, _, size, _ = ARRAY_HEADER.unpack_from(blob)
        body = memoryview(blob)[ARRAY_HEADER.size :]
        if ndim != 1 or flags != 0 or size != count or len(body) != count * dtype.itemsize:
            raise RuntimeError("an observation array PostgreSQL sent is not as asked")
        parts.append(body)
    # the bodies joined as bytes, read as one structured array (concatenating structured
    # arrays costs numpy a type promotion per array)
    items = np.frombuffer(b"".join(parts), dtype)
    if (items["n"] != 8).any():
        raise RuntimeError("an observation array PostgreSQL sent is not as asked")
    return items["v"].astype(dtype["v"].newbyteorder("="))


def _block(rows: list[Any], code_index: Mapping[str, int]) -> Block | None:
    """Rows of run, code, unit, source, count and the three arrays as one sorted
    ``Block``."""
    if not rows:  # no final observation in the whole group
        return None
    counts = [r[4] for r in rows]
    n = np.array(counts, dtype=np.int64)
    run_id = np.repeat(np.array([r[0] for r in rows], dtype=np.int64), n)
    group = np.repeat(np.arange(len(rows), dtype=np.int64), n)
    t_us = _items([r[5] for r in rows], counts, INT8_ITEMS) + PG_EPOCH_US
    value = _items([r[6] for r in rows], counts, FLOAT8_ITEMS)
    ids = _items([r[7] for r in rows], counts, INT8_ITEMS)
    order = np.lexsort((ids, t_us, run_id))
    return Block(
        run_id[order],
        t_us[order],
        value[order],
        group[order],
        pa.array([r[1] for r in rows], pa.string()),
        pa.array([r[2] for r in rows], pa.string()),
        pa.array([r[3] for r in rows], pa.string()),
        np.array([code_index.get(r[1], -1) for r in rows], dtype=np.int64),
    )


def _write_block(block: Block, runs: RunArrays, wide: _Wide, long_b: ArrowBatch) -> None:
    pos = runs.positions(block.run_id)
    minutes = (block.t_us - runs.started_us[pos]).astype(np.float64) / 1e6 / 60
    take = pa.array(block.group)
    columns = [
        *runs.keys(pos),
        block.code.take(take),
        pa.array(block.t_us + runs.shift_us[pos], pa.int64()).cast(TIME_TYPE),
        pa.array(minutes, pa.float64()),
        pa.array(block.value, pa.float64()),
        block.unit.take(take),
        block.source.take(take),
    ]
    long_b.add(pa.Table.from_arrays(columns, schema=long_b.schema))
    hour = np.floor_divide(minutes, 60.0).astype(np.int64)
    wide.add(pos, hour, block.code_i[block.group], block.value)

"""The garbage collector in a long-running process (web app, ingest receivers and workers).

CPython's cyclic collector runs a young collection every 700 container allocations (its
default) and, every 10 of those, one of the middle generation; every 10 of those a full
collection may scan every container the process holds. A started app holds about 400,000
(modules, the ORM's mappings, templates, the vocabulary), so a full collection took 110 to
190 ms of CPU with every thread of the process waiting, several times a minute under load;
a page allocates tens of thousands of objects, so it paid for ~14 young collections.

Measured (benchmarks/bench_page_cost.py on a device feed's density, a gc callback summing
each collection's CPU, ~80 requests; session 11):

| thresholds | young | middle | full | max pause | run page app CPU |
| --- | --- | --- | --- | --- | --- |
| (700, 10, 10), Python's | 1,103: 129 ms | 101: 105 ms | 6: 553 ms | 189 ms | 69 ms |
| (50,000, 20, 20) | 12: 159 ms | 1: 1 ms | 0 | 20 ms | 55 ms |

Objects that die young (a request's rows, strings, dicts) are freed by their reference
counts before a collection sees them, so fewer, larger young collections do less work in
all. ``gc.freeze()`` after start-up, the usual advice for forking servers, made every young
collection cost ~20 ms here (Python 3.11) and is not used.
"""

from __future__ import annotations

import gc

MIDDLE = 20  # young collections per middle-generation collection
OLDEST = 20  # middle collections before a full one may run


def tune_collector(young: int) -> tuple[int, int, int]:
    """Container allocations between young collections (``young``; 0 keeps Python's
    thresholds); the thresholds now in force."""
    if young > 0:
        gc.set_threshold(young, MIDDLE, OLDEST)
    return gc.get_threshold()

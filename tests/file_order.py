"""The order in which a parallel run hands out test files (tests/conftest.py applies it).

Two facts about the suite decide it (tests/file_durations.json holds both per file, as
measured by a run with CONTINUUM_FILE_TIMES; scripts/file_durations.py writes it):

- **seconds**: a long file that starts last keeps one worker busy after the others have
  finished, so long files go first (longest-processing-time first);
- **CPU seconds** (the worker's and every process it started: servers, Chromium): some
  files mostly wait (for a started server, a broker's redelivery, a graceful shutdown).
  The suite runs one more worker than there are cores, so one waiting file at a time
  costs nothing: the other workers use the cores. Two at once leave a core idle. Ordered
  by length alone, the longest files — most of them waiting ones — all started together
  and a core stood idle for the first minute (measured: 29 of the run's 36 idle
  core-seconds fell in its first two minutes).

``run_order`` simulates the run (each worker takes the next file when it is free, as
xdist's file scheduler does) and, whenever a worker takes a file, gives it the longest
waiting file if fewer than ``workers - cores`` are waiting at that moment, and otherwise
the longest busy file. Pure: no pytest, no clock.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

# A file that keeps less than this share of one core busy over its run mostly waits. Under
# a full run each of 3 workers gets about 2/3 of a core, so a file that only computes
# measures about 0.67; the servers, broker and backup files measure 0.2-0.35. (A file's
# PostgreSQL work is not counted: the server's processes are not the worker's.)
WAITING_SHARE = 0.35


@dataclass(frozen=True)
class FileCost:
    seconds: float  # wall-clock seconds of its tests (setup, call and teardown)
    cpu: float  # CPU seconds of the worker and the processes it started, over those tests

    @property
    def waits(self) -> bool:
        return self.seconds > 0 and self.cpu < WAITING_SHARE * self.seconds


def run_order(costs: dict[str, FileCost], workers: int, cores: int) -> list[str]:
    """Every file of ``costs``, in the order to hand them out (see the module docstring).
    Ties keep the order of ``costs``."""
    position = {name: i for i, name in enumerate(costs)}

    def longest_first(names: list[str]) -> list[str]:
        return sorted(names, key=lambda n: (-costs[n].seconds, position[n]))

    waiting = longest_first([n for n, c in costs.items() if c.waits])
    busy = longest_first([n for n, c in costs.items() if not c.waits])
    room_for_waiting = max(workers - cores, 1)
    order: list[str] = []
    running: list[tuple[float, bool]] = []  # (finishes at, waits) of each file running
    free = [(0.0, w) for w in range(max(workers, 1))]  # (free from, worker)
    heapq.heapify(free)
    while waiting or busy:
        now, worker = heapq.heappop(free)
        running = [r for r in running if r[0] > now]
        waiting_now = sum(1 for _, waits in running if waits)
        if waiting and (waiting_now < room_for_waiting or not busy):
            name = waiting.pop(0)
        else:
            name = busy.pop(0)
        order.append(name)
        ends = now + costs[name].seconds
        running.append((ends, costs[name].waits))
        heapq.heappush(free, (ends, worker))
    return order

"""tests/file_durations.json (seconds and CPU seconds per test file, which order the
parallel run) names only test files that exist, with plausible figures; and the order
tests/file_order.py makes from them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.file_order import FileCost, run_order

ROOT = Path(__file__).resolve().parent.parent


def test_the_table_names_existing_test_files() -> None:
    table = json.loads((ROOT / "tests" / "file_durations.json").read_text())
    assert len(table) > 100
    stale = [name for name in table if not (ROOT / name).is_file()]
    assert not stale, f"rewrite it with scripts/file_durations.py: {stale}"
    for name, cost in table.items():
        assert set(cost) == {"seconds", "cpu"}, name
        assert 0 <= cost["seconds"] < 600 and 0 <= cost["cpu"] < 1200, name


def simulate(
    order: list[str], costs: dict[str, FileCost], workers: int
) -> list[tuple[float, float, str]]:
    """(start, end, name) of each file when each of ``workers`` takes the next file as it
    becomes free."""
    free = [0.0] * workers
    spans = []
    for name in order:
        w = free.index(min(free))
        spans.append((free[w], free[w] + costs[name].seconds, name))
        free[w] += costs[name].seconds
    return spans


def most_at_once(spans: list[tuple[float, float, str]], costs: dict[str, FileCost]) -> int:
    waiting = [(s, e) for s, e, n in spans if costs[n].waits]
    return max(sum(1 for s, e in waiting if s <= t < e) for t, _ in waiting)


COSTS = {
    "broker.py": FileCost(55, 10),  # waits for a broker's redelivery
    "service.py": FileCost(36, 6),  # waits for a graceful shutdown
    "serve.py": FileCost(28, 8),
    "matrix.py": FileCost(44, 40),
    "fuzz.py": FileCost(30, 28),
    "bad_input.py": FileCost(26, 24),
    "browser.py": FileCost(28, 30),  # Chromium's CPU counts: a busy file
    **{f"small_{i}.py": FileCost(3, 2.5) for i in range(30)},
}


def test_waiting_files_are_spread_so_the_cores_stay_busy() -> None:
    by_length = sorted(COSTS, key=lambda n: -COSTS[n].seconds)
    assert most_at_once(simulate(by_length, COSTS, 3), COSTS) == 2  # the old order
    order = run_order(COSTS, workers=3, cores=2)
    assert sorted(order) == sorted(COSTS)
    assert most_at_once(simulate(order, COSTS, 3), COSTS) == 1
    # longest first within each kind, and the longest file of all starts at once
    assert order[0] == "broker.py"
    waiting = [n for n in order if COSTS[n].waits]
    assert waiting == ["broker.py", "service.py", "serve.py"]
    busy = [n for n in order if not COSTS[n].waits]
    assert busy == sorted(busy, key=lambda n: -COSTS[n].seconds)


def test_waiting_files_still_run_when_nothing_else_is_left() -> None:
    costs = {"a.py": FileCost(10, 1), "b.py": FileCost(8, 1), "c.py": FileCost(1, 1)}
    assert run_order(costs, workers=2, cores=2) == ["a.py", "c.py", "b.py"]
    assert run_order({}, workers=3, cores=2) == []

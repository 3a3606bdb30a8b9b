"""Simulator throughput: simulated run-hours per second and a 30-day VV run.

Run: .venv/bin/python benchmarks/bench_simulator.py
Prints figures only; nothing is asserted (goal: a 30-day VV run in under 1 s).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from continuum.simulator import list_scenarios, simulate


def _time(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    simulate("control_vv", "VV", 1.0, 0)  # warm-up (imports, caches)
    hours = 30 * 24.0
    t_vv = _time(lambda: simulate("control_vv", "VV", hours, 1))
    print(
        f"30-day VV control run ({int(hours * 60)} minutes): {t_vv:.3f} s "
        f"({hours / t_vv:,.0f} run-hours/s)"
    )
    t_fault = _time(lambda: simulate("oxygenator_clot_consumption", "VV", hours, 1))
    print(f"30-day VV combined-fault run: {t_fault:.3f} s ({hours / t_fault:,.0f} run-hours/s)")
    run = simulate("control_vv", "VV", hours, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.csv"
        t_csv = _time(lambda: run.to_csv(path), repeat=1)
        size = path.stat().st_size
    print(f"30-day CSV write: {t_csv:.3f} s ({size / 1e6:.1f} MB)")
    total_hours = 0.0
    t0 = time.perf_counter()
    for info in list_scenarios():
        for mode in info.modes:
            simulate(info.name, mode, 72.0, 2)
            total_hours += 72.0
    elapsed = time.perf_counter() - t0
    print(
        f"whole library, 72 h each ({total_hours:.0f} run-hours): {elapsed:.3f} s "
        f"({total_hours / elapsed:,.0f} run-hours/s)"
    )


if __name__ == "__main__":
    main()

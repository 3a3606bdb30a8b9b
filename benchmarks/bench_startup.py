"""Start-up time of the `continuum` command against `python -c "import numpy"`.

How it is measured: each command is run as a fresh subprocess (wall time from spawn to
exit, output discarded), ``--runs`` times after one warm-up run (disk cache warm), and the
median is kept. Ratios are against the numpy import, the floor any numerical command pays.
Goal (issue 14): `continuum --help` and `continuum calc bsa …` within 3× of it.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONTINUUM = str(Path(sys.executable).parent / "continuum")
BSA = '{"height_cm": 175, "weight_kg": 70}'
COMMANDS: dict[str, list[str]] = {
    'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
    "continuum --help": [CONTINUUM, "--help"],
    "continuum calc bsa …": [CONTINUUM, "calc", "bsa", "--json", BSA],
    "continuum replay --help": [CONTINUUM, "replay", "--help"],
}
GOAL = 3.0
GOAL_COMMANDS = ("continuum --help", "continuum calc bsa …")


def wall_time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_time(argv: list[str], runs: int) -> float:
    wall_time(argv)  # warm-up
    return statistics.median(wall_time(argv) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    args = parser.parse_args()
    times = {name: median_time(argv, args.runs) for name, argv in COMMANDS.items()}
    base = times['python -c "import numpy"']
    print(f"median of {args.runs} runs (wall time, fresh process each)")
    within = True
    for name, seconds in times.items():
        ratio = seconds / base
        mark = ""
        if name in GOAL_COMMANDS:
            ok = ratio <= GOAL
            within &= ok
            mark = f"  goal ≤ {GOAL:g}×: {'met' if ok else 'MISSED'}"
        print(f"{name:<28} {seconds * 1000:7.0f} ms  {ratio:5.2f}× numpy{mark}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())

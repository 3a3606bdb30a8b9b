"""Risk-adjusted CUSUM run lengths: the Markov-chain ARL speed and its check by simulation.

Risk mix: 200 runs, 60 % VV scored by RESP and 40 % VA scored by SAVE, each run's risk of
death = 1 − its class's published survival (docs/clinical/reference.md §1.2, §1.3), classes
drawn with a plausible spread (fixed seed). Measured: the in-control ARL of a 600-state
chain (median of ``--repeats`` wall times; goal < 1 s, issue 18) for the deterioration
(RA 2, h 4.5) and improvement (RA ½, h 4) charts, the h for 0.2 false alarms a year at
40 runs a year (bisection), and the chain against a Monte-Carlo simulation of ``--charts``
charts at that h (relative difference and the simulation's standard error).

    .venv/bin/python benchmarks/bench_quality.py [--repeats 5] [--charts 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from continuum.control_charts import run_length
from continuum.scores import resp, save

GOAL_SECONDS = 1.0
STATES = 600


def risk_mix(count: int = 200, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vv = [1 - c.cohort_survival for c in resp.CLASSES if c.cohort_survival is not None]
    va = [1 - c.cohort_survival for c in save.CLASSES if c.cohort_survival is not None]
    spread = [0.15, 0.30, 0.30, 0.15, 0.10]  # class I … V
    n_vv = int(count * 0.6)
    return np.concatenate([rng.choice(vv, n_vv, p=spread), rng.choice(va, count - n_vv, p=spread)])


def timed(call: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--charts", type=int, default=20000)
    args = parser.parse_args()
    risks = risk_mix()
    print(f"risk mix: {len(risks)} runs, mean risk {risks.mean():.3f}, "
          f"{len(set(risks.round(4)))} distinct risks")  # fmt: skip
    within = True
    for ra, h in ((2.0, 4.5), (0.5, 4.0)):
        seconds, found = timed(
            lambda ra=ra, h=h: run_length.arl_markov(risks, ra, h, STATES), args.repeats
        )
        assert isinstance(found, run_length.RunLength)
        ok = seconds < GOAL_SECONDS
        within &= ok
        verdict = "ok" if ok else "MISSED"
        print(f"ARL₀ RA {ra:g} h {h:g}, {STATES} states: {found.arl:,.1f} runs in "
              f"{seconds * 1000:.1f} ms (goal < {GOAL_SECONDS:g} s: {verdict})")  # fmt: skip
    seconds, limit = timed(lambda: run_length.choose_h(risks, 2, 40, 0.2, STATES), 1)
    assert isinstance(limit, run_length.ControlLimit)
    print(f"h for 0.2 false alarms/year at 40 runs/year (ARL₀ 200), RA 2: h = {limit.h:.3f} "
          f"(chain ARL₀ {limit.run_length.arl:.1f}) in {seconds * 1000:.0f} ms")  # fmt: skip
    start = time.perf_counter()
    simulated = run_length.arl_simulated(risks, 2, limit.h, charts=args.charts, seed=3)
    seconds = time.perf_counter() - start
    markov = limit.run_length.arl
    diff = markov / simulated.arl - 1
    print(f"Monte-Carlo check, {args.charts} charts: ARL₀ {simulated.arl:.1f} "
          f"± {simulated.standard_error:.1f} (SE) in {seconds:.2f} s; chain {markov:.1f}, "
          f"difference {diff:+.1%}")  # fmt: skip
    within &= abs(diff) < 0.05
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())

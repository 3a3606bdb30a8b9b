"""Exchange-criterion forecasts for 40 active runs: the whole run each time vs the
incremental refresh (last 50 h with the stored baselines). Goal: 40 runs < 1 s in total.

    .venv/bin/python benchmarks/bench_forecast.py [--runs 40] [--hours 168]

Prints figures; asserts nothing about time. Also prints how many forecasts differ between
the two ways (they should agree: same data, same baselines).
"""

from __future__ import annotations

import argparse
import os
import time

from continuum.forecast import forecast_recent, forecast_run, stored_baselines
from continuum.simulator import simulate
from continuum.surveillance import RunSeries

SCENARIOS = ("oxygenator_failure", "pump_thrombosis", "control_vv", "hemolysis")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--hours", type=float, default=168.0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    runs = []
    for i in range(args.runs):
        sim = simulate(SCENARIOS[i % len(SCENARIOS)], "VV", args.hours, 2000 + i)
        runs.append(RunSeries.from_grid(sim.times, sim.signals, "VV"))
    print(f"simulated {args.runs} runs × {args.hours:g} h in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    whole = [forecast_run(r) for r in runs]
    t_whole = time.perf_counter() - t0
    t0 = time.perf_counter()
    baselines = [stored_baselines(r) for r in runs]
    t_base = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    recent = [forecast_recent(r, b) for r, b in zip(runs, baselines, strict=True)]
    t_recent, c_recent = time.perf_counter() - t0, time.process_time() - c0

    differ = sum(
        (a.status, a.reason, a.trend.hours_to_cross) != (b.status, b.reason, b.trend.hours_to_cross)
        for wa, wb in zip(whole, recent, strict=True)
        for a, b in zip(wa, wb, strict=True)
    )
    made = sum(f.made for w in recent for f in w)
    print(
        f"whole run each time:     {t_whole:.3f} s for {args.runs} runs "
        f"({1000 * t_whole / args.runs:.1f} ms/run)"
    )
    print(
        f"incremental (last 50 h): {t_recent:.3f} s for {args.runs} runs "
        f"({1000 * t_recent / args.runs:.1f} ms/run; CPU {c_recent:.3f} s); goal < 1 s"
    )
    print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"stored baselines (once per component change): {t_base:.3f} s for {args.runs} runs")
    print(
        f"forecasts made now: {made}; whole vs incremental differ in {differ} of "
        f"{sum(len(w) for w in whole)}"
    )


if __name__ == "__main__":
    main()

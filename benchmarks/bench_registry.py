"""The ELSO-shaped registry record on the demo programme (issue #19's goal: at least 90 % of
required fields filled without typing). Builds the demo into a throwaway SQLite file (or
reads ``--db URL``), then prints, for all runs and for ended runs (the ones a centre
submits): required fields, the share filled from the captured record without typing, the
fields a reviewer still has to type per run, the required fields most often missing, and
the time to build one run's record.

    .venv/bin/python benchmarks/bench_registry.py [--db sqlite:////tmp/demo.db]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from continuum.config import Settings
from continuum.core.roles import CLI_ACTOR
from continuum.db import make_engine, make_sessionmaker
from continuum.hooks import install_all_hooks
from continuum.research import registry_service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing demo database (default: build one)")
    args = parser.parse_args()
    url = args.db
    if url is None:
        from rich.console import Console

        from continuum import demo

        path = Path(tempfile.mkdtemp(prefix="registry-bench-")) / "demo.db"
        url = f"sqlite:///{path}"
        settings = Settings(demo=True).model_copy(update={"database_url": url})
        demo.build(settings, console=Console(quiet=True))
    install_all_hooks()
    sessions = make_sessionmaker(make_engine(url))
    with sessions() as db:
        for label, ended in (("all runs", False), ("ended runs", True)):
            started = time.perf_counter()
            prog = registry_service.programme(db, CLI_ACTOR, ended_only=ended)
            took = time.perf_counter() - started
            typed = [len(r.missing) for r in prog.runs]
            print(
                f"{label}: {len(prog.runs)} runs, {prog.required} required fields, "
                f"{prog.untyped} filled from the record without typing = "
                f"{prog.untyped_pct:.1f} % (goal >= 90 %); fields left to type per run: "
                f"median {statistics.median(typed) if typed else 0:g}, "
                f"max {max(typed, default=0)}; "
                f"{1000 * took / max(1, len(prog.runs)):.0f} ms per record"
            )
            missing = Counter(key.split(".")[0] + "." + key.split(".")[-1]
                              for r in prog.runs for key in r.missing)  # fmt: skip
            top = ", ".join(f"{k} ({n})" for k, n in missing.most_common(10))
            print(f"  most often missing: {top}")


if __name__ == "__main__":
    main()

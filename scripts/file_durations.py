"""Write tests/file_durations.json from a test run's timings: the seconds each test file
took (its tests' setup, call and teardown), which tests/conftest.py uses to start the
longest files first.

    bash scripts/test.sh --durations=0 > run.log; .venv/bin/python scripts/file_durations.py run.log

Files missing from the table (new ones) are placed as a file of median length."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

LINE = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(tests/\S+?\.py)::")
TABLE = Path(__file__).resolve().parent.parent / "tests" / "file_durations.json"


def main(log: str) -> None:
    seconds: Counter[str] = Counter()
    for line in Path(log).read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if m:
            seconds[m.group(2)] += float(m.group(1))
    if not seconds:
        raise SystemExit(f"{log}: no durations found (run the tests with --durations=0)")
    table = {name: round(s, 1) for name, s in sorted(seconds.items())}
    TABLE.write_text(json.dumps(table, indent=0) + "\n")
    print(f"{TABLE}: {len(table)} files, {sum(seconds.values()):.0f} s in all")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/file_durations.py RUN_LOG")
    main(sys.argv[1])

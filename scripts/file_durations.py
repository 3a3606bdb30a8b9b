"""Write tests/file_durations.json from a measured run: for each test file, the seconds its
tests took (setup, call and teardown) and the CPU seconds spent meanwhile by the worker
and the processes it started. tests/file_order.py orders the parallel run from them.

    CONTINUUM_FILE_TIMES=/tmp/file-times bash scripts/test.sh
    .venv/bin/python scripts/file_durations.py /tmp/file-times

Each worker of that run writes one JSON file into the folder; a file missing from the
table (a new one) is ordered as a busy file of median length."""

from __future__ import annotations

import json
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "tests" / "file_durations.json"


def main(folder: str) -> None:
    measured: dict[str, list[float]] = {}
    for part in sorted(Path(folder).glob("*.json")):
        for name, (seconds, cpu) in json.loads(part.read_text()).items():
            total = measured.setdefault(name, [0.0, 0.0])
            total[0] += seconds
            total[1] += cpu
    if not measured:
        raise SystemExit(f"{folder}: no file times (run the tests with CONTINUUM_FILE_TIMES)")
    table = {
        name: {"seconds": round(seconds, 1), "cpu": round(cpu, 1)}
        for name, (seconds, cpu) in sorted(measured.items())
    }
    TABLE.write_text(json.dumps(table, indent=0) + "\n")
    seconds = sum(t["seconds"] for t in table.values())
    cpu = sum(t["cpu"] for t in table.values())
    print(f"{TABLE}: {len(table)} files, {seconds:.0f} s, {cpu:.0f} CPU s in all")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/file_durations.py FOLDER")
    main(sys.argv[1])

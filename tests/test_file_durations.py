"""tests/file_durations.json (the seconds per test file that order the parallel run,
longest first) names only test files that exist, with plausible seconds."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_table_names_existing_test_files() -> None:
    table = json.loads((ROOT / "tests" / "file_durations.json").read_text())
    assert len(table) > 100
    stale = [name for name in table if not (ROOT / name).is_file()]
    assert not stale, f"rewrite it with scripts/file_durations.py: {stale}"
    assert all(isinstance(s, int | float) and 0 <= s < 600 for s in table.values())

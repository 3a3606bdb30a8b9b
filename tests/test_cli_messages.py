"""The command line says what happened: `db upgrade` names the migrations it applied (or that
there was nothing to apply), `user add` names who was added, with id and role."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from continuum.migrate import MIGRATIONS, current_heads, upgrade_report

CONTINUUM = str(Path(sys.executable).parent / "continuum")


def continuum(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": url}
    return subprocess.run([CONTINUUM, *args], env=env, capture_output=True, text=True, timeout=120)


def revision_files() -> set[str]:
    found = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        match = re.search(r'^revision(?::\s*str)?\s*=\s*"([^"]+)"', path.read_text(), re.M)
        if match:
            found.add(match.group(1))
    return found


def test_db_upgrade_names_what_it_applied_then_that_nothing_was_left(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = continuum(url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    revisions = revision_files()
    heads = current_heads(url)
    line = first.stdout.strip()
    assert line.startswith(f"applied {len(revisions)} migrations: ")
    assert set(line.split(": ", 1)[1].split(";")[0].split()) == revisions
    assert line.endswith(f"database at {', '.join(heads)}")
    assert "up to date" not in line

    again = continuum(url, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"already at {', '.join(heads)}, nothing to apply"


def test_upgrade_report_on_a_migrated_database(db_url: str) -> None:
    report = upgrade_report(db_url)
    assert report.applied == ()
    assert report.before == report.heads == current_heads(db_url)
    assert report.describe() == f"already at {', '.join(report.heads)}, nothing to apply"


def test_upgrade_report_counts_a_partial_upgrade(tmp_path: Path) -> None:
    from continuum.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'partial.db'}"
    upgrade(url, "0001")
    report = upgrade_report(url)
    assert report.before == ("0001",)
    assert "0001" not in report.applied and len(report.applied) == len(revision_files()) - 1
    assert report.describe().startswith(f"applied {len(report.applied)} migrations: ")


def test_user_add_says_who_was_added(sqlite_url: str) -> None:
    url = sqlite_url  # a migrated database (the tests' template copy)
    added = continuum(
        url, "user", "add", "--name", "Pat Perfusionist", "--role", "perfusionist",
        "--discipline", "perfusion", "--username", "pat", "--password", "long-enough-pass-1",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    match = re.fullmatch(
        r"added user Pat Perfusionist \(id (\d+), role perfusionist, login pat\)",
        added.stdout.strip(),
    )
    assert match, added.stdout
    refused = continuum(url, "user", "token", match.group(1))  # a person: only they issue theirs
    assert refused.returncode != 0 and "account page" in refused.stderr, refused.stderr
    gateway = continuum(
        url, "user", "add", "--name", "ICU gateway", "--role", "integration",
        "--discipline", "other",
    )  # fmt: skip
    assert gateway.returncode == 0, gateway.stderr
    service_id = re.search(r"\(id (\d+),", gateway.stdout)
    assert service_id, gateway.stdout
    token = continuum(url, "user", "token", service_id.group(1))
    assert token.returncode == 0, token.stderr  # the id printed is the staff member's id
    nurse = continuum(
        url, "user", "add", "--name", "Noor Nurse", "--role", "nurse",
        "--discipline", "nursing",
    )  # fmt: skip
    assert nurse.returncode == 0, nurse.stderr
    assert re.fullmatch(r"added user Noor Nurse \(id \d+, role nurse\)", nurse.stdout.strip()), (
        nurse.stdout
    )

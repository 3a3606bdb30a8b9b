"""A console file held between the page's preview and the user's confirmation.

The preview stores nothing in the database; the uploaded text waits in a private temporary
directory (mode 0700) under a random token, bound to the run and the person who uploaded
it, until it is imported or is two hours old. A token that is unknown, expired, or
another person's or run's is refused with a message, never read.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import time
from pathlib import Path

from continuum.errors import ValidationFailed

TTL_SECONDS = 2 * 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
GONE = "the previewed file is no longer held (imported already, or older than 2 hours): " \
    "choose the file again"  # fmt: skip


def _dir() -> Path:
    path = Path(tempfile.gettempdir()) / "continuum-console-uploads"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def put(text: str, name: str, run_id: int, staff_id: int | None) -> str:
    """Hold the file; returns its token. Files older than the TTL are removed first."""
    folder = _dir()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.csv").write_text(text, encoding="utf-8")
    meta = {"name": name, "run_id": run_id, "staff_id": staff_id}
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def get(token: str, run_id: int, staff_id: int | None) -> tuple[str, str]:
    """(file name, text) held under ``token`` for this run and person."""
    if not _TOKEN.match(token or ""):
        raise ValidationFailed(GONE, "upload")
    folder = _dir()
    meta_path, text_path = folder / f"{token}.json", folder / f"{token}.csv"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if time.time() - meta_path.stat().st_mtime > TTL_SECONDS:
            raise FileNotFoundError
        text = text_path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        raise ValidationFailed(GONE, "upload") from None
    if meta.get("run_id") != run_id or meta.get("staff_id") != staff_id:
        raise ValidationFailed(GONE, "upload")
    return str(meta.get("name") or "upload.csv"), text


def drop(token: str) -> None:
    if _TOKEN.match(token or ""):
        for suffix in (".csv", ".json"):
            (_dir() / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    cutoff = time.time() - TTL_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue

"""Follow-up items after decannulation on the rounds board, on SQLite and PostgreSQL: an ended
run's open items are listed (page and API) with an overdue badge when past due, done items
are not, a researcher sees no identifiers, and rounds reaches weaning only through core."""

from __future__ import annotations

import ast
import inspect
from datetime import timedelta

from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.rounds import api, board, routes
from continuum.weaning import decannulation
from continuum.weaning.schemas import DecannulationIn, FollowUpDone, SignIn
from tests.conftest import Web
from tests.seed import SECRET_MRNS, SECRET_NAMES
from tests.weaning.test_services import CHECKLIST, PERFUSIONIST, PHYSICIAN

ABG_1H = "Arterial blood gas 1 h after decannulation"
ABG_24H = "Arterial blood gas 24 h after decannulation"
DOPPLER = "Venous Doppler of the cannulated vessels"


def decannulate(sessions, hours_ago: float = 3) -> None:  # type: ignore[no-untyped-def]
    """Decannulate run 1 (VV) ``hours_ago``, both signatures: the run ends, 3 items planned."""
    with sessions.begin() as db:
        run = db.get(Run, 1)
        at = utcnow() - timedelta(hours=hours_ago)
        values = {**CHECKLIST, "no_trial_reason": "test", "decannulated_at": at}
        data = DecannulationIn.model_validate(values)
        row = decannulation.create(db, PHYSICIAN, run, data)
        decannulation.sign(db, PHYSICIAN, row, SignIn())
        assert decannulation.sign(db, PERFUSIONIST, row, SignIn())
        assert run.status == "ended"


def complete(sessions, item: str) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as db:
        row = next(f for f in decannulation.follow_ups(db, 1) if f.item == item)
        decannulation.complete_follow_up(db, PHYSICIAN, row.id, FollowUpDone(result="ok"))


def test_board_lists_open_follow_ups_of_an_ended_run(web_any: Web, sessions) -> None:  # type: ignore[no-untyped-def]
    web = web_any
    web.login("physician")
    page = web.client.get("/rounds").text
    assert "Follow-ups after decannulation" in page and "None open." in page
    decannulate(sessions)
    complete(sessions, ABG_24H)
    page = web.client.get("/rounds").text
    assert "No active runs." in web.client.get("/rounds/rows").text  # the run has ended
    section = page[page.index('id="follow-ups"') :]
    assert ABG_1H in section and DOPPLER in section
    assert ABG_24H not in section  # done
    assert section.index(ABG_1H) < section.index(DOPPLER)  # oldest due first
    assert section.count('class="badge critical">overdue') == 1  # 1 h item: due 2 h ago
    assert 'href="/runs/1/weaning"' in section
    assert SECRET_NAMES[0] in section  # a physician sees who it is

    sheet = web.client.get("/rounds/sheet").text  # the printable sheet lists them too
    printed = sheet[sheet.index('id="sheet-follow-ups"') :]
    assert ABG_1H in printed and DOPPLER in printed and ABG_24H not in printed
    assert printed.count("(overdue)") == 1
    assert 'id="sheet-follow-ups"' not in web.client.get("/rounds/sheet?run_id=2").text

    body = web.client.get("/api/v1/rounds/board").json()
    assert {"day", "as_of", "runs", "follow_ups"} <= body.keys() and body["runs"] == []
    items = body["follow_ups"]
    assert [(x["item"], x["overdue"], x["run_id"]) for x in items] == [
        (ABG_1H, True, 1),
        (DOPPLER, False, 1),
    ]
    assert items[0]["mrn"] == SECRET_MRNS[0] and items[0]["patient_label"] == "P-0001"
    assert items[0]["href"] == "/runs/1/weaning" and items[0]["due_at"].endswith("+00:00")


def test_researcher_is_not_shown_the_live_board(web_any: Web, sessions) -> None:  # type: ignore[no-untyped-def]
    decannulate(sessions)
    web = web_any
    web.login("researcher")
    for path in ("/rounds", "/rounds/sheet", "/api/v1/rounds/board"):
        response = web.client.get(path)
        assert response.status_code == 403, path
        assert ABG_1H not in response.text
        assert not any(s in response.text for s in (*SECRET_NAMES, *SECRET_MRNS))


def test_rounds_does_not_import_weaning() -> None:
    for module in (board, api, routes):
        tree = ast.parse(inspect.getsource(module))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.startswith("continuum.weaning")], module.__name__

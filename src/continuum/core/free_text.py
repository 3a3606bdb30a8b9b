"""Free text (indications, reasons, notes, comments, contributions) only for roles that see
identifiers: typed prose can name people, hospitals and telephone numbers, so a role without
VIEW_IDENTIFIERS (the researcher) reads "hidden for your role" on pages and null in the API.

One place decides it: pages use the ``free_text`` Jinja filter (``core.page_routes``
registers ``for_page`` with the page's actor), API views call ``for_api`` / ``hide_fields``.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from continuum.core.roles import Actor

HIDDEN = "hidden for your role"


def readable(actor: Actor | None) -> bool:
    """Whether this actor may read free text (the same right as reading identifiers)."""
    return actor is not None and actor.sees_identifiers


def for_page(actor: Actor | None, text: Any) -> Any:
    """The text as a page shows it: unchanged for a reader who may see it, and when there is
    nothing to hide; otherwise the words "hidden for your role"."""
    if text is None or text == "" or readable(actor):
        return text
    return HIDDEN


def for_api(actor: Actor | None, text: Any) -> Any:
    """The text in a JSON answer: unchanged, or null for a role that may not read it."""
    return text if readable(actor) else None


def hide_fields(
    actor: Actor | None, record: MutableMapping[str, Any], fields: Iterable[str]
) -> MutableMapping[str, Any]:
    """Set these keys of a JSON record to null (in place) unless the actor may read them."""
    if not readable(actor):
        for name in fields:
            if name in record:
                record[name] = None
    return record

"""Installs every domain's cross-domain hooks (``continuum.domains.HOOK_MODULES``).

Core keeps hook lists (after-store hooks, alert providers, follow-up providers) that domains
fill without core importing them. Each entry point calls :func:`install_all_hooks` (the app
factory, the alerts worker, the ingest listeners, the CLI's database commands; importing
``continuum.models_all`` does too, for migrations and tests). Idempotent.
"""

from __future__ import annotations

import importlib

from continuum.domains import HOOK_MODULES


def install_all_hooks() -> tuple[str, ...]:
    """Install each HOOK_MODULES entry's hooks (again: no effect); returns the modules."""
    for name in HOOK_MODULES:
        importlib.import_module(name).install_hooks()
    return HOOK_MODULES

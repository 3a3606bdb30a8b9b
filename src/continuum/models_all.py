"""Imports every domain's ORM models so the metadata is complete (for Alembic and tests)."""

import importlib

from continuum.domains import MODEL_MODULES

for _module in MODEL_MODULES:
    importlib.import_module(_module)

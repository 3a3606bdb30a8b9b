"""Imports every domain's ORM models so the metadata is complete (for Alembic and tests), and
installs every domain's hooks (continuum.hooks), as each entry point also does itself."""

import importlib

from continuum.domains import MODEL_MODULES
from continuum.hooks import install_all_hooks

for _module in MODEL_MODULES:
    importlib.import_module(_module)
install_all_hooks()

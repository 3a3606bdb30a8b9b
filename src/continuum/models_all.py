"""Imports every domain's ORM models so the metadata is complete (for Alembic and tests)."""

from continuum.core import models as core_models  # noqa: F401

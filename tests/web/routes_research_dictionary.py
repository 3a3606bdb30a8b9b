"""Access rules of the data dictionary (research layer): it describes the record, not a
patient, so every clinical role and the researcher read it; administrators and interface
accounts do not."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

CASES = [
    Case("GET", "/research/dictionary", P.VIEW_QUALITY),
    Case("GET", "/research/dictionary.csv", P.VIEW_QUALITY),
    Case("GET", "/api/v1/research/dictionary", P.VIEW_QUALITY),
]

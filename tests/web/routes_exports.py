"""Routes of the research cohorts and exports (continuum.research.export_routes)."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

CASES = [
    Case("GET", "/research/cohorts", P.EXPORT_DEIDENTIFIED),
    Case(
        "POST", "/research/cohorts", P.EXPORT_DEIDENTIFIED, order=3,
        form={"title": "cohort of {role}", "support_types": "pulmonary"},
    ),
    Case(
        "POST", "/research/exports", P.EXPORT_DEIDENTIFIED, order=3,
        form={"cohort": "all runs", "format": "csv"},
    ),
    Case("GET", "/research/exports/{export_id}", P.EXPORT_DEIDENTIFIED, "/research/exports/1",
         order=5),
    Case("GET", "/research/exports/{export_id}/download", P.EXPORT_DEIDENTIFIED,
         "/research/exports/1/download", order=6),
    Case("POST", "/api/v1/research/cohorts/count", P.EXPORT_DEIDENTIFIED, json={"modes": ["VV"]}),
    Case("GET", "/api/v1/research/cohorts", P.EXPORT_DEIDENTIFIED),
    Case("POST", "/api/v1/research/cohorts", P.EXPORT_DEIDENTIFIED, order=3,
         json={"title": "api cohort", "definition": {"support_types": ["pulmonary"]}}),
    Case("POST", "/api/v1/research/exports", P.EXPORT_DEIDENTIFIED, order=4,
         json={"all_runs": True, "format": "parquet"}),
    Case("POST", "/api/v1/research/exports", P.EXPORT_IDENTIFIED, order=4,
         json={"all_runs": True, "format": "csv", "identified": True,
               "purpose": "ELSO registry submission 2025"}),
    Case("GET", "/api/v1/research/exports/{export_id}", P.EXPORT_DEIDENTIFIED,
         "/api/v1/research/exports/1", order=5),
    # free-text release review (continuum.research.text_release_routes): reviewers only (the
    # route also needs VIEW_IDENTIFIERS, which every role with EXPORT_IDENTIFIED holds)
    Case("GET", "/research/cohorts/{cohort_id}/free-text",
         P.EXPORT_IDENTIFIED, "/research/cohorts/1/free-text"),
    Case("POST", "/research/cohorts/{cohort_id}/free-text",
         P.EXPORT_IDENTIFIED, "/research/cohorts/1/free-text", order=2,
         form={"fields": "location", "reason": "read every value: units only, no names"}),
    Case("GET", "/api/v1/research/cohorts/{cohort_id}/free-text",
         P.EXPORT_IDENTIFIED, "/api/v1/research/cohorts/1/free-text"),
    Case("POST", "/api/v1/research/cohorts/{cohort_id}/free-text",
         P.EXPORT_IDENTIFIED, "/api/v1/research/cohorts/1/free-text",
         order=2, json={"fields": ["location"], "reason": "read every value: units only"}),
]  # fmt: skip

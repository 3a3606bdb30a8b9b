"""Routes of the study register and outcome analyses (continuum.research.study_routes)."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

AUTHOR = {"staff_id": 1, "credit_roles": ["data_curation", "formal_analysis"]}
CASES = [
    Case("GET", "/research/studies", P.EXPORT_DEIDENTIFIED),
    Case("POST", "/research/studies", P.MANAGE_STUDIES, order=3,
         form={"title": "study of {role}", "status": "planned"}),
    Case("GET", "/research/studies/{study_id}", P.EXPORT_DEIDENTIFIED, "/research/studies/1"),
    Case("POST", "/research/studies/{study_id}", P.MANAGE_STUDIES, "/research/studies/1",
         order=4, form={"title": "Seed study", "status": "planned", "version": "1"}),
    Case("POST", "/research/studies/{study_id}/requests", P.MANAGE_STUDIES,
         "/research/studies/1/requests", order=3,
         form={"cohort": "Seed cohort (VV)", "purpose": "pilot"}),
    Case("POST", "/research/studies/{study_id}/publications", P.MANAGE_STUDIES,
         "/research/studies/1/publications", order=3,
         form={"title": "A paper", "a1_staff": "1", "a1_roles": "data_curation"}),
    Case("GET", "/api/v1/research/studies", P.EXPORT_DEIDENTIFIED),
    Case("POST", "/api/v1/research/studies", P.MANAGE_STUDIES, order=3,
         json={"title": "api study", "status": "planned"}),
    Case("GET", "/api/v1/research/studies/{study_id}", P.EXPORT_DEIDENTIFIED,
         "/api/v1/research/studies/1"),
    Case("PUT", "/api/v1/research/studies/{study_id}", P.MANAGE_STUDIES,
         "/api/v1/research/studies/1", order=5,
         json={"title": "Seed study (renamed)", "status": "planned", "version": 2}),
    Case("POST", "/api/v1/research/studies/{study_id}/requests", P.MANAGE_STUDIES,
         "/api/v1/research/studies/1/requests", order=3,
         json={"cohort": "Seed cohort (VV)", "purpose": "pilot"}),
    Case("POST", "/api/v1/research/studies/{study_id}/publications", P.MANAGE_STUDIES,
         "/api/v1/research/studies/1/publications", order=3,
         json={"title": "API paper", "authors": [AUTHOR]}),
    Case("GET", "/api/v1/research/credit", P.EXPORT_DEIDENTIFIED),
]  # fmt: skip

CASES += [
    Case("GET", "/research/analyses", P.EXPORT_DEIDENTIFIED),
    Case("POST", "/research/analyses", P.MANAGE_STUDIES, order=3,
         form={"cohort": "Seed cohort (VV)", "kind": "km_time_on_ecmo"}),
    Case("GET", "/research/analyses/{analysis_id}", P.EXPORT_DEIDENTIFIED,
         "/research/analyses/1"),
    Case("GET", "/research/analyses/{analysis_id}/plot.png", P.EXPORT_DEIDENTIFIED,
         "/research/analyses/1/plot.png"),
    Case("GET", "/api/v1/research/analyses", P.EXPORT_DEIDENTIFIED),
    Case("POST", "/api/v1/research/analyses", P.MANAGE_STUDIES, order=3,
         json={"cohort": "Seed cohort (VV)", "kind": "km_survival"}),
    Case("GET", "/api/v1/research/analyses/{analysis_id}", P.EXPORT_DEIDENTIFIED,
         "/api/v1/research/analyses/1"),
]  # fmt: skip

CASES += [  # author-list corrections (publications 1 and 2 are added at order 3 above)
    Case("POST", "/research/publications/{publication_id}/authors", P.MANAGE_STUDIES,
         "/research/publications/1/authors", order=4,
         form={"version": "1", "reason": "roles corrected", "a1_staff": "1",
               "a1_roles": "formal_analysis"}),
    Case("POST", "/api/v1/research/publications/{publication_id}/authors", P.MANAGE_STUDIES,
         "/api/v1/research/publications/2/authors", order=4,
         json={"version": 1, "reason": "roles corrected",
               "authors": [{"staff_id": 1, "credit_roles": ["software"]}]}),
]  # fmt: skip

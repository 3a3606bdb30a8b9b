"""Candidacy, prognostic and treatment-intensity scores (docs/clinical/reference.md §1, §5.4,
§6.3)."""

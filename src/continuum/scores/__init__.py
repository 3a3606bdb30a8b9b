"""Candidacy, prognostic and treatment-intensity scores (reference §1, §5.4, §6.3)."""

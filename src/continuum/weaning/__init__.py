"""Weaning from ECMO: readiness reviews, step-by-step trials and structured decannulation.
Its follow-up provider for the rounds board lives in ``weaning.hooks`` and is installed by every
entry point from ``continuum.domains.HOOK_MODULES``."""

"""Weaning from ECMO: readiness reviews, step-by-step trials and structured decannulation."""

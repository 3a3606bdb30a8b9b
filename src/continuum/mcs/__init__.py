"""Mechanical circulatory support beside ECMO: IABP, Impella, temporary and durable VADs.

Device records (append-only versions) linked to a run, their position and timing checks,
and their readings, stored as observations of the vocabulary's ``mcs`` codes so that they
also arrive from gateways. The combined configuration a device makes with the run's mode
(VA + Impella = ECPELLA, VA + IABP, VV + RVAD …) is decided by
``continuum.support_configuration``; the expected Impella flow per P-level by
``continuum.surveillance.impella_levels``. docs/clinical/mcs.md.
"""

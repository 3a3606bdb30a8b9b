"""Research and registry: the data dictionary, the ELSO-shaped run record, cohorts and
de-identified exports.

A programme layer, like ``quality``: it reads the whole record to describe and export it.
It may import core and the domains' record modules (their ORM models and closed lists,
tests/test_import_rules.py ``READABLE``) and also quality's record modules (the adverse-event
register is part of a run's registry record, ``READABLE_BY_RESEARCH``), never a domain's or
quality's services or routes. No domain and not quality imports it.

``dictionary_entries`` is hand-written data (each table.column's mapping to ELSO, REDCap,
FHIR R4, OMOP CDM 5.4 / ECLS-CDM and CLIF ``ecmo_mcs``); ``data_dictionary`` joins it with
the ORM metadata and the API response schemas; ``dictionary_routes`` serves it
(docs/data-dictionary.md). ``cohort*`` and ``export*`` build cohorts and write de-identified
exports (``deidentify``; docs/research-exports.md).
"""

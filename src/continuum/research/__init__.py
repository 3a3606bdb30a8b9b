"""Research and registry: cohorts, de-identified exports, data dictionary, registry records."""

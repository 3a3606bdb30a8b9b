"""Research and registry: ELSO-shaped run records, data dictionary, cohorts and exports."""

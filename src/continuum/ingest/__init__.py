"""Getting observations in: console CSV files (``console_csv``); HL7 v2, MQTT and FHIR
feeds live beside it. The readers here are pure; storing is the ingest service's job."""

from continuum.ingest.console_csv import ConsoleFile, ReadReport, read_console_csv

__all__ = ["ConsoleFile", "ReadReport", "read_console_csv"]

"""Intake: importers of CSV/XLSX files and the demo scenario."""

"""Intake: importing CSV and XLSX files of each kind (`importer`), row by row, into the write side."""

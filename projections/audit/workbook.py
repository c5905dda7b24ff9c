"""Reports as XLSX an auditor can file: Rupiah formats, fitted widths, a frozen header, totals as values.

The sheet starts with the report's title and, when given, the as-of time and the chain head; then
the header row (frozen: it stays in view while scrolling) and the rows. Columns ending in `_idr` get
a Rupiah number format, other integers a thousands separator, dates a date format. Widths fit the
longest value as displayed (up to 60 characters). Totals are rows of plain values, never formulas,
and in bold. Text cells go through `salur_cases.sheets`: nothing in the file is ever a formula.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from salur_cases.sheets import text_cell

if TYPE_CHECKING:
    from collections.abc import Sequence

    from salur_cases.projections.audit.provenance import Provenance

RUPIAH = '"Rp"#,##0;-"Rp"#,##0'
COUNT = "#,##0"
DAY = "yyyy-mm-dd"
SHEET_NAME_LIMIT = 31
MAX_WIDTH = 60
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_CONNECTIVES = frozenset(
    {"a", "and", "by", "for", "in", "of", "on", "or", "per", "the", "to", "atau", "dan", "untuk"}
)
"""Words a cut sheet name must not end on."""


def sheet_name(title: str) -> str:
    """A sheet name from a title: at most 31 characters, cut between words, never after "and" and the like."""
    name = _NOT_IN_SHEET_NAMES.sub(" ", title)
    name = " ".join(name.split())
    if len(name) <= SHEET_NAME_LIMIT:
        return name
    words = name[: SHEET_NAME_LIMIT + 1].rsplit(" ", 1)[0].split(" ")
    while len(words) > 1 and (words[-1].lower() in _CONNECTIVES or not words[-1].strip(",;-")):
        words.pop()
    return " ".join(words).rstrip(",;- ") or name[:SHEET_NAME_LIMIT]


def number_format(column: str, value: Any) -> str | None:
    """The display format of a column's value: Rupiah, a count, a date, or the default."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return RUPIAH if column.endswith("_idr") else COUNT
    if isinstance(value, date):
        return DAY
    return None


def _shown(column: str, value: Any) -> str:
    """A value as the sheet displays it, to fit the column's width."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"Rp{value:,}" if column.endswith("_idr") else f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def xlsx(
    title: str,
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    provenance: Provenance | None = None,
    totals: Sequence[dict[str, Any]] = (),
) -> bytes:
    """The report as an XLSX file's bytes (`totals` rows follow the rows, in bold)."""
    workbook = Workbook(write_only=True)  # streams rows: a city's worth of payments in seconds
    sheet = workbook.create_sheet(sheet_name(title))
    preamble = [title, *(provenance.lines() if provenance else [])]
    widths = [len(c) for c in columns]
    for row in (*rows, *totals):
        for i, column in enumerate(columns):
            widths[i] = max(widths[i], len(_shown(column, row.get(column))))
    for i, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(MAX_WIDTH, width + 2)
    sheet.freeze_panes = f"A{len(preamble) + 2}"
    for line in preamble:
        sheet.append([text_cell(sheet, line)])
    sheet.append([_cell(sheet, c, c, bold=True) for c in columns])
    for row in rows:
        sheet.append([_cell(sheet, c, row.get(c)) for c in columns])
    for row in totals:
        sheet.append([_cell(sheet, c, row.get(c), bold=True) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Any, column: str, value: Any, *, bold: bool = False) -> Any:
    cell = text_cell(sheet, value)
    fmt = number_format(column, value)
    if fmt is not None:
        cell.number_format = fmt
    if bold:
        cell.font = _BOLD
    return cell

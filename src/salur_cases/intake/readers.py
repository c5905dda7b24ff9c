"""Reading an import file: a CSV with a header row, or the first sheet of an XLSX workbook.

Every cell becomes text: numbers typed into a spreadsheet (`3271011505800001.0`) become their digits,
dates become ISO text, empty cells become "". Rows whose cells are all empty are skipped. Each row
keeps its spreadsheet row number (the header is row 1), which is what the per-row report cites.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from salur_cases.domain.errors import InvalidCommand

XLSX_MAGIC = b"PK\x03\x04"
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Table:
    """The header row and the data rows (row number, cells as text) of a file."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]


class UnreadableFile(InvalidCommand):
    """The file is neither a readable CSV nor an XLSX workbook (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


def cell_text(value: object) -> str:
    """A spreadsheet cell as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_table(filename: str, data: bytes) -> Table:
    """The file's header and rows, or UnreadableFile."""
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    return _read_csv(data)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the file is not text in UTF-8 or Windows-1252")


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    if "\x00" in text:
        raise UnreadableFile("the file is not a CSV file")
    first_line = text.split("\n", 1)[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first_line, delimiters=_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = _rows(reader)
        headers = next(rows, None)
        if headers is None:
            raise UnreadableFile("the file is empty")
        return Table(headers[1], list(rows))
    except csv.Error as e:
        raise UnreadableFile(f"the CSV cannot be parsed: {e}") from None


def _rows(cells: Iterator[list[str]] | Iterator[tuple[object, ...]]) -> Iterator[tuple[int, list[str]]]:
    """Non-empty rows with their spreadsheet numbers; the first one yielded is the header."""
    for number, raw in enumerate(cells, start=1):
        row = [c.strip() if isinstance(c, str) else cell_text(c) for c in raw]
        if any(row):
            yield number, row


def _read_xlsx(data: bytes) -> Table:
    import openpyxl  # noqa: PLC0415 - only XLSX imports need it
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise UnreadableFile("the file is not a readable XLSX workbook") from None
    try:
        if not workbook.worksheets:
            raise UnreadableFile("the workbook has no sheet")
        rows = _rows(workbook.worksheets[0].iter_rows(values_only=True))
        header = next(rows, None)
        if header is None:
            raise UnreadableFile("the first sheet is empty")
        return Table(header[1], list(rows))
    finally:
        workbook.close()

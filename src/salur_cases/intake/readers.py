"""Reading an import file: a CSV with a header row, or the first sheet of an XLSX workbook, within limits.

Every cell becomes text: numbers typed into a spreadsheet (`3271011505800001.0`) become their digits,
dates become ISO text, empty cells become "". Rows whose cells are all empty are skipped. Each row
keeps its spreadsheet row number (the header is row 1), which is what the per-row report cites.

A file is hostile until read: `open_table` hands out the header before any data row, then streams
the rows, and refuses the whole file (`FileRefused`, with a code) as soon as it passes a limit
(`Limits`: file size, unpacked size of a workbook, rows, characters in a cell) or turns out not to be
what it claims. A workbook's declared sizes are checked before anything is unpacked (Python's
`zipfile` never inflates a member beyond its declared size), an XML declaration of entities or a
DOCTYPE is refused, and openpyxl parses the XML through defusedxml.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from salur_cases.domain.errors import InvalidCommand
from salur_cases.settings import Settings

XLSX_MAGIC = b"PK\x03\x04"
_DELIMITERS = ",;\t|"
SNIFFED_CHARS = 4096
"""The header row's first characters, from which the CSV delimiter is guessed."""
MAX_COLUMNS = 256
"""Columns read from a workbook (a sheet may declare 16,384; the kinds have at most ten)."""
MAX_MEMBERS = 10_000
"""Files inside a workbook (a spreadsheet has a few dozen)."""
XML_PROLOGUE = 4096
"""Bytes of each XML part of a workbook searched for a DOCTYPE or an entity declaration."""

UNREADABLE_FILE = "UNREADABLE_FILE"
FILE_TOO_LARGE = "FILE_TOO_LARGE"
TOO_MANY_ROWS = "TOO_MANY_ROWS"
CELL_TOO_LONG = "CELL_TOO_LONG"

_BROKEN = (
    InvalidFileException,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    KeyError,
    OSError,
    EOFError,
    ValueError,  # defusedxml's refusals and UnicodeDecodeError among them
    TypeError,
    ParseError,
)
"""What openpyxl raises on a damaged workbook: a truncated zip, malformed or forbidden XML."""


@dataclass(frozen=True)
class Limits:
    """How much of an import file is read before it is refused whole."""

    max_bytes: int
    max_unpacked_bytes: int
    max_rows: int
    max_cell_chars: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits configured (`SALUR_IMPORT_MAX_*`)."""
        return cls(
            settings.import_max_bytes,
            settings.import_max_unpacked_bytes,
            settings.import_max_rows,
            settings.import_max_cell_chars,
        )


DEFAULT_LIMITS = Limits.of(Settings())


@dataclass(frozen=True)
class Table:
    """The header row and the data rows (row number, cells as text) of a file."""

    headers: list[str]
    rows: Iterable[tuple[int, list[str]]]


class FileRefused(InvalidCommand):
    """The whole file is refused, before anything is written (exit 2, HTTP 422): a code and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__("file", message)
        self.code = code


class UnreadableFile(FileRefused):
    """The file is neither a readable CSV nor an XLSX workbook."""

    def __init__(self, message: str) -> None:
        super().__init__(UNREADABLE_FILE, message)


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


def read_table(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> Table:
    """The file's header and every row, or FileRefused."""
    with open_table(filename, data, limits) as table:
        return Table(table.headers, list(table.rows))


@contextmanager
def open_table(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> Iterator[Table]:
    """The file's header, then its rows as they are read (FileRefused at the first limit passed)."""
    check_size(len(data), limits)
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        with _open_xlsx(data, limits) as table:
            yield table
    else:
        yield _read_csv(data, limits)


def check_size(size: int, limits: Limits) -> None:
    """FileRefused when a file of `size` bytes is above the limit."""
    if size > limits.max_bytes:
        raise FileRefused(
            FILE_TOO_LARGE,
            f"the file has {size:,} bytes, above the limit of {limits.max_bytes:,} (SALUR_IMPORT_MAX_BYTES)",
        )


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise UnreadableFile("the file holds NUL bytes: it is not a CSV text file (UTF-16 is not read)")
        return text
    raise UnreadableFile("the file is not text in UTF-8 or Windows-1252")


def _read_csv(data: bytes, limits: Limits) -> Table:
    text = _decode(data)
    first_line = text[:SNIFFED_CHARS].split("\n", 1)[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first_line, delimiters=_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = _parsed_csv(_rows(reader, limits))
    header = next(rows, None)
    if header is None:
        raise UnreadableFile("the file is empty")
    return Table(header[1], rows)


def _parsed_csv(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The rows, with a CSV syntax error (or a cell above csv's own limit) refusing the file."""
    try:
        yield from rows
    except csv.Error as e:
        if "field larger than field limit" in str(e):  # csv's own cap, above ours
            raise FileRefused(
                CELL_TOO_LONG,
                f"a cell is longer than {csv.field_size_limit():,} characters (SALUR_IMPORT_MAX_CELL_CHARS)",
            ) from None
        raise UnreadableFile(f"the CSV cannot be parsed: {e}") from None


def _rows(
    cells: Iterator[list[str]] | Iterator[tuple[object, ...]], limits: Limits
) -> Iterator[tuple[int, list[str]]]:
    """Non-empty rows with their spreadsheet numbers; the first one yielded is the header."""
    for number, raw in enumerate(cells, start=1):
        if number > limits.max_rows + 1:
            raise FileRefused(
                TOO_MANY_ROWS,
                f"the file has more than {limits.max_rows:,} data rows (SALUR_IMPORT_MAX_ROWS): split it",
            )
        row = [c.strip() if isinstance(c, str) else cell_text(c) for c in raw]
        if any(len(c) > limits.max_cell_chars for c in row):
            raise FileRefused(
                CELL_TOO_LONG,
                f"row {number} has a cell longer than {limits.max_cell_chars:,} characters "
                "(SALUR_IMPORT_MAX_CELL_CHARS)",
            )
        if any(row):
            yield number, row


@contextmanager
def _open_xlsx(data: bytes, limits: Limits) -> Iterator[Table]:
    _check_archive(data, limits)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _BROKEN:
        raise UnreadableFile("the file is not a readable XLSX workbook") from None
    try:
        if not workbook.worksheets:
            raise UnreadableFile("the workbook has no sheet")
        sheet = workbook.worksheets[0]
        width = min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS)  # as declared, within bounds
        cells = sheet.iter_rows(values_only=True, max_row=limits.max_rows + 2, max_col=width)
        rows = _parsed_xlsx(_rows(cells, limits))
        header = next(rows, None)
        if header is None:
            raise UnreadableFile("the first sheet is empty")
        headers = header[1]
        while headers and not headers[-1]:
            headers.pop()
        yield Table(headers, ((number, row[: len(headers)]) for number, row in rows))
    finally:
        workbook.close()


def _parsed_xlsx(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The rows, with a damaged sheet (truncated, malformed or forbidden XML) refusing the file."""
    try:
        yield from rows
    except FileRefused:  # a limit passed (a ValueError too, like the damage below)
        raise
    except _BROKEN:
        raise UnreadableFile("the workbook's first sheet cannot be read: the file is damaged") from None


def _check_archive(data: bytes, limits: Limits) -> None:
    """Refuse a workbook that would unpack beyond the limit, or whose XML declares entities."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise UnreadableFile(f"the workbook holds more than {MAX_MEMBERS:,} files")
            unpacked = sum(m.file_size for m in members)
            if unpacked > limits.max_unpacked_bytes:
                raise FileRefused(
                    FILE_TOO_LARGE,
                    f"the workbook unpacks to {unpacked:,} bytes, above the limit of "
                    f"{limits.max_unpacked_bytes:,} (SALUR_IMPORT_MAX_UNPACKED_BYTES)",
                )
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    with archive.open(member) as part:
                        prologue = part.read(XML_PROLOGUE)
                    if b"<!DOCTYPE" in prologue or b"<!ENTITY" in prologue:
                        raise UnreadableFile("the workbook's XML declares a DOCTYPE or entities")
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
    ):
        raise UnreadableFile("the file is not a readable XLSX workbook") from None

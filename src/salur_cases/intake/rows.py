"""The rows of an import file, read by canonical column name, each cell parsed or rejected with a code.

A `Sheet` is a file's table with its columns located (`columns.map_headers`); a `Row` parses one cell
at a time into a domain value (NIK, No. KK, date, amount, tahap, kelurahan...) or raises a `RowError`
with the row code the report carries (`BAD_NIK`, `MISSING_VALUE`, ...) and the file's own header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from salur_cases import wilayah
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household import Address
from salur_cases.identifiers import InvalidIdentifier, Nik, NoKK, parse_rupiah
from salur_cases.intake.columns import map_headers
from salur_cases.intake.readers import Table
from salur_cases.intake.report import RowProblem
from salur_cases.intake.values import parse_day, parse_moment, parse_tahap


class RowError(Exception):
    """One cell of a row is wrong."""

    def __init__(self, column: str, code: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.code = code
        self.message = message


class Row:
    """One data row, read by canonical column name; errors name the file's own header."""

    __slots__ = ("cells", "layout", "number")

    def __init__(self, layout: Layout, number: int, cells: list[str]) -> None:
        self.layout = layout
        self.number = number
        self.cells = cells

    def text(self, name: str) -> str:
        """The cell's text ("" when the column or the cell is absent)."""
        index = self.layout.positions.get(name)
        return self.cells[index] if index is not None and index < len(self.cells) else ""  # read stripped

    def header(self, name: str) -> str:
        """The file's header of a column."""
        return self.layout.header(name)

    def fail(self, name: str, code: str, message: str) -> RowError:
        """An error on this row's column."""
        return RowError(self.header(name), code, message)

    def problem(self, error: RowError) -> RowProblem:
        """The report line of an error."""
        return RowProblem(self.number, error.column, error.code, error.message)

    def required(self, name: str) -> str:
        """A non-empty value (runs of white space made one space), or MISSING_VALUE."""
        value = self.optional(name)
        if not value:
            raise self.fail(name, "MISSING_VALUE", "a value is required")
        return value

    def optional(self, name: str) -> str:
        """The value, runs of white space made one space; BAD_VALUE when it holds control or
        text-direction characters (an RTL mark, a zero-width space), which would make it print
        other than it compares."""
        value = self.text(name)
        if value.isprintable() and "  " not in value:
            return value
        value = " ".join(value.split())
        if not value.isprintable():
            raise self.fail(name, "BAD_VALUE", "holds control or text-direction characters")
        return value

    def ascii(self, name: str, code: str, what: str) -> str:
        """A required value written in ASCII (digits 0-9), or `code`."""
        value = self.required(name)
        if not value.isascii():
            raise self.fail(name, code, f"{what} must be written with the digits 0-9")
        return value

    def no_kk(self, name: str = "no_kk") -> str:
        """A valid No. KK, or BAD_NO_KK."""
        value = self.required(name)
        try:
            return str(NoKK.parse(value, name))
        except InvalidIdentifier as e:
            raise self.fail(name, "BAD_NO_KK", e.message) from None

    def nik(self, name: str = "nik") -> str:
        """A valid NIK, or BAD_NIK."""
        value = self.required(name)
        try:
            return str(Nik.parse(value, name))
        except InvalidIdentifier as e:
            raise self.fail(name, "BAD_NIK", e.message) from None

    def day(self, name: str, *, required: bool = True) -> date | None:
        """A date, or BAD_DATE (None when empty and not required)."""
        if not self.text(name):
            if required:
                raise self.fail(name, "MISSING_VALUE", "a date is required")
            return None
        value = self.ascii(name, "BAD_DATE", "a date")
        try:
            return parse_day(value, name)
        except InvalidCommand:
            raise self.fail(name, "BAD_DATE", "must be a date (YYYY-MM-DD or DD/MM/YYYY)") from None

    def moment(self, name: str) -> datetime:
        """A time (WIB without offset), or BAD_DATE."""
        value = self.ascii(name, "BAD_DATE", "a time")
        try:
            return parse_moment(value, name)
        except InvalidCommand:
            raise self.fail(name, "BAD_DATE", "must be a time (ISO 8601 or DD/MM/YYYY HH:MM)") from None

    def amount(self, name: str) -> int:
        """Whole Rupiah, or BAD_AMOUNT."""
        value = self.ascii(name, "BAD_AMOUNT", "an amount")
        try:
            return parse_rupiah(value, name)
        except InvalidIdentifier as e:
            raise self.fail(name, "BAD_AMOUNT", e.message) from None

    def tahap(self, name: str = "tahap") -> int:
        """A tahap number (or Roman numeral), or BAD_VALUE."""
        value = self.ascii(name, "BAD_VALUE", "a tahap")
        try:
            return parse_tahap(value)
        except ValueError as e:
            raise self.fail(name, "BAD_VALUE", str(e)) from None

    def program(self, name: str = "program") -> str:
        """A program code (upper case)."""
        return self.required(name).upper()

    def choice(self, name: str, choices: Mapping[str, str]) -> str:
        """One of a closed set of words (folded), or BAD_VALUE listing them."""
        value = self.required(name)
        key = "_".join(value.upper().replace("-", " ").split())
        if key not in choices:
            allowed = ", ".join(sorted(set(choices)))
            raise self.fail(name, "BAD_VALUE", f"must be one of {allowed}")
        return choices[key]

    def address(self) -> Address:
        """The kecamatan and kelurahan of Kota Bogor, or UNKNOWN_KELURAHAN naming which."""
        place = (self.required("kecamatan"), self.required("kelurahan"))
        kelurahan = self.layout.places.get(place)
        if kelurahan is None:
            try:
                kelurahan = self.layout.places[place] = wilayah.resolve_address(*place)
            except wilayah.OutsideCity as e:
                raise self.fail(e.field, "UNKNOWN_KELURAHAN", e.message) from None
        return Address(kelurahan.kecamatan.code, kelurahan.code, self.optional("rw"), self.optional("rt"))


@dataclass
class Layout:
    """A file's columns located, and the addresses its rows resolved so far."""

    kind: str
    headers: list[str]
    positions: dict[str, int]
    places: dict[tuple[str, str], wilayah.Kelurahan] = field(default_factory=dict)
    """Addresses resolved so far (lists repeat the same few dozen kelurahan)."""

    def header(self, name: str) -> str:
        """The file's header of a column (its canonical name when the file has none)."""
        index = self.positions.get(name)
        return self.headers[index] if index is not None else name


@dataclass
class Sheet:
    """A file's table: its layout and its rows.

    Rows point to the layout, never back to the sheet: a finished import's rows are freed as soon
    as they are dropped, without a garbage cycle left for the cyclic collector (which bulk work
    pauses, `salur_cases.collector`)."""

    layout: Layout
    rows: list[Row]

    @classmethod
    def of(cls, kind: str, table: Table) -> Sheet:
        """Locate the kind's columns (InvalidCommand naming a missing one) and wrap the rows."""
        layout = Layout(kind, table.headers, map_headers(kind, table.headers))
        return cls(layout, [Row(layout, number, cells) for number, cells in table.rows])


def dedup(
    rows: Sequence[Row], key: Callable[[Row], tuple[Any, ...]], problems: list[RowProblem]
) -> list[Row]:
    """The rows whose key no earlier row has; the others reported as DUPLICATE_ROW."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for row in rows:
        k = key(row)
        if k in seen:
            problems.append(
                RowProblem(row.number, None, "DUPLICATE_ROW", "repeats an earlier row of the file")
            )
            continue
        seen.add(k)
        kept.append(row)
    return kept


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

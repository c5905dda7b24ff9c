"""Importing a CSV or XLSX file of one kind (CONTRACT.md): rows checked, good ones written in batches.

`import_file` reads the whole file, checks every row (a bad row is rejected with a code and never
stops the good ones; a bad member row rejects its whole household), splits the good rows into
batches that depend on the file's content only, and writes each batch through the application's bulk
commands. Outside lists (roster, cleansing, payments) are facts: written even when they break a city
rule, with the rule's code as a warning.

The `imports` table remembers every file by the SHA-256 of its content: a second import of the same
file writes nothing and says so, and an interrupted one resumes at the first batch not marked done.
A batch and its progress row are committed in different transactions, so the one batch that may have
been written without being marked is re-run idempotently: rows whose effect is already recorded
(this import's proposal, the same verval, a seat, a removal, a payment with the same reference) are
skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import String, any_, bindparam, func, select, text, update

from salur_cases import tables as t
from salur_cases import wilayah
from salur_cases.collector import collector_paused
from salur_cases.commands import PaymentItem, Proposal, RemovalItem, parse_source
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import now
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.household import Address, Household, Member, Source
from salur_cases.domain.vocabulary import PaymentStatus, Role, VervalDecision
from salur_cases.identifiers import InvalidIdentifier, Nik, NoKK, keyed_hex, parse_rupiah
from salur_cases.intake.columns import columns_of, map_headers
from salur_cases.intake.readers import Table, read_table
from salur_cases.intake.values import parse_day, parse_moment, parse_tahap
from salur_cases.processes import allocation, disbursement, padan, registration, verval, withdrawal
from salur_cases.projections.runner import catch_up
from salur_cases.store.pglist import joined
from salur_cases.tables import imports, population_extract
from salur_cases.tables.bulk import upsert

if TYPE_CHECKING:
    from uuid import UUID

    from salur_cases.application import SalurApplication
    from salur_cases.domain.program import Program
    from salur_cases.runtime import Runtime

KIND_ROLES: Mapping[str, frozenset[Role]] = {
    "registrations": frozenset({Role.DINSOS}),
    "population": frozenset({Role.DINSOS, Role.DUKCAPIL}),
    "verval": frozenset({Role.DINSOS}),
    "roster": frozenset({Role.DINSOS}),
    "cleansing": frozenset({Role.DINSOS}),
    "payments": frozenset({Role.DINSOS}),
}
"""Who may import each kind: Dinsos every kind, Disdukcapil only `population`."""

BATCH = 20_000
"""Rows (or households) per batch; removals, written one per transaction, go a fifth as many per batch.

A batch is the unit of resumption (an interrupted import redoes at most one) and of the bulk worker
processes' lifetime (`salur_cases.processes.bulk` forks them per batch): large, so forking is rare."""


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """A rejected row or a warning: the file's row number (the header is row 1), column, code, message."""

    row: int
    column: str | None
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowProblem:
        """From `to_json`'s shape."""
        return cls(int(data["row"]), data.get("column"), str(data["code"]), str(data["message"]))


@dataclass
class ImportReport:
    """What an import did: rows read, rows accepted, rejected rows and warnings (never a NIK or a name)."""

    import_id: str
    kind: str
    rows: int
    accepted: int
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    already_imported: bool = False
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The API's answer, JSON-ready: import_id, rows, accepted, rejected, warnings, already_imported."""
        return {
            "import_id": self.import_id,
            "kind": self.kind,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": [p.to_json() for p in self.rejected],
            "warnings": [p.to_json() for p in self.warnings],
            "already_imported": self.already_imported,
            "dry_run": self.dry_run,
        }


def may_import(role: Role | str, kind: str) -> bool:
    """Whether this role may import this kind."""
    return role in KIND_ROLES.get(kind, frozenset())


# --- rows ---------------------------------------------------------------------------------------


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
        index = self.layout.positions.get(name)
        return self.layout.headers[index] if index is not None else name

    def fail(self, name: str, code: str, message: str) -> RowError:
        """An error on this row's column."""
        return RowError(self.header(name), code, message)

    def problem(self, error: RowError) -> RowProblem:
        """The report line of an error."""
        return RowProblem(self.number, error.column, error.code, error.message)

    def required(self, name: str) -> str:
        """A non-empty value, or MISSING_VALUE."""
        value = self.text(name)
        if not value:
            raise self.fail(name, "MISSING_VALUE", "a value is required")
        return value if "  " not in value else " ".join(value.split())

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
        value = self.text(name)
        if not value:
            if required:
                raise self.fail(name, "MISSING_VALUE", "a date is required")
            return None
        try:
            return parse_day(value, name)
        except InvalidCommand:
            raise self.fail(name, "BAD_DATE", "must be a date (YYYY-MM-DD or DD/MM/YYYY)") from None

    def moment(self, name: str) -> datetime:
        """A time (WIB without offset), or BAD_DATE."""
        value = self.required(name)
        try:
            return parse_moment(value, name)
        except InvalidCommand:
            raise self.fail(name, "BAD_DATE", "must be a time (ISO 8601 or DD/MM/YYYY HH:MM)") from None

    def amount(self, name: str) -> int:
        """Whole Rupiah, or BAD_AMOUNT."""
        value = self.required(name)
        try:
            return parse_rupiah(value, name)
        except InvalidIdentifier as e:
            raise self.fail(name, "BAD_AMOUNT", e.message) from None

    def tahap(self, name: str = "tahap") -> int:
        """A tahap number (or Roman numeral), or BAD_VALUE."""
        value = self.required(name)
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
        return Address(kelurahan.kecamatan.code, kelurahan.code, self.text("rw"), self.text("rt"))


@dataclass
class Layout:
    """A file's columns located, and the addresses its rows resolved so far."""

    kind: str
    headers: list[str]
    positions: dict[str, int]
    places: dict[tuple[str, str], wilayah.Kelurahan] = field(default_factory=dict)
    """Addresses resolved so far (lists repeat the same few dozen kelurahan)."""


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


# --- the steps of an import ---------------------------------------------------------------------


@dataclass
class Outcome:
    """What one step wrote: rows accepted, problems."""

    accepted: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    def reject(self, rows: Sequence[int], code: str, message: str, column: str | None = None) -> None:
        """Reject these rows with one code."""
        self.rejected.extend(RowProblem(r, column, code, message) for r in rows)


@dataclass
class Context:
    """What a step runs with."""

    app: SalurApplication
    runtime: Runtime
    actor: Actor
    import_id: str
    dry_run: bool
    resuming: bool = False
    _programs: dict[str, Program | None] = field(default_factory=dict)

    def program(self, code: str) -> Program | None:
        """The program (cached for the import), or None."""
        if code not in self._programs:
            try:
                self._programs[code] = self.app.program(code)
            except Refusal:
                self._programs[code] = None
        return self._programs[code]

    def existing(self, no_kks: Sequence[str]) -> set[str]:
        """Those of these No. KK that are registered households."""
        ids = {self.app.household_id(k): k for k in no_kks}
        found: set[UUID] = set()
        keys = list(ids)
        for start in range(0, len(keys), BATCH):
            found |= self.app.chained.existing_originator_ids(keys[start : start + BATCH])
        return {ids[i] for i in found}

    def household(self, no_kk: str) -> Household | None:
        """A registered household, or None."""
        try:
            return self.app.household(no_kk)
        except Refusal:
            return None


@dataclass
class Step:
    """One batch: the file rows it covers and a function that writes it."""

    rows: list[int]
    run: Callable[[Context], Outcome]

    @property
    def first_row(self) -> int:
        """The first file row of the batch."""
        return min(self.rows) if self.rows else 0


def _check_program(
    ctx: Context, out: Outcome, code: str, tahap: int, rows: Sequence[int], header: str
) -> bool:
    """Whether the program has this tahap; else reject the rows UNKNOWN_PROGRAM / UNKNOWN_TAHAP."""
    program = ctx.program(code)
    if program is None:
        out.reject(rows, RefusalCode.UNKNOWN_PROGRAM, "no program with this code", "program")
        return False
    if tahap not in program.tahap:
        out.reject(rows, RefusalCode.UNKNOWN_TAHAP, f"program {code} has no tahap {tahap}", header)
        return False
    return True


class Kind(Protocol):
    """An import kind: checks rows and cuts the good ones into steps."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:
        """Problems found in the file alone, and the steps (of `size` rows or households) writing the rest."""


def _dedup(
    rows: Sequence[Row], key: Callable[[Row], tuple[Any, ...]], problems: list[RowProblem]
) -> list[Row]:
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


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- registrations ------------------------------------------------------------------------------

RELATIONSHIPS = {
    "HEAD": "KEPALA KELUARGA",
    "KK": "KEPALA KELUARGA",
    "KEPALA": "KEPALA KELUARGA",
    "WIFE": "ISTRI",
    "HUSBAND": "SUAMI",
    "CHILD": "ANAK",
    "SON": "ANAK",
    "DAUGHTER": "ANAK",
    "PARENT": "ORANG TUA",
    "GRANDCHILD": "CUCU",
    "OTHER": "FAMILI LAIN",
}


@dataclass
class _Household:
    """A household's rows in a registrations file (one source): the proposal, or why it is rejected."""

    no_kk: str
    source_text: str
    rows: list[Row] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    member_rows: list[int] = field(default_factory=list)
    address: Address | None = None
    source: Source | None = None
    error: RowProblem | None = None


class Registrations:
    """Households proposed by a source, one row per member; grouped by No. KK (and source)."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:
        """Group the rows into households; reject a household with any bad member row."""
        problems: list[RowProblem] = []
        groups: dict[tuple[str, str], _Household] = {}
        for row in sheet.rows:
            try:
                no_kk = row.no_kk()
            except RowError as e:
                problems.append(row.problem(e))
                continue
            source_text = " ".join(row.text("source").upper().split())
            group = groups.setdefault((no_kk, source_text), _Household(no_kk, source_text))
            group.rows.append(row)
        tag = f"import {import_id[:12]}"
        households = [g for g in groups.values() if self._check(g, tag, problems)]
        steps = [
            Step([r.number for h in batch for r in h.rows], partial(self._write, households=batch))
            for batch in _batches(households, size)
        ]
        return problems, steps

    def _check(self, group: _Household, tag: str, problems: list[RowProblem]) -> bool:
        seen: dict[str, tuple[str, ...]] = {}
        duplicates: list[RowProblem] = []
        for row in group.rows:
            try:
                self._member(group, row, seen, duplicates, tag)
            except RowError as e:
                group.error = row.problem(e)
                break
        if group.error is None:
            problems.extend(duplicates)
            return True
        message = f"rejected with its household: row {group.error.row} has {group.error.code}"
        problems.extend(
            group.error
            if row.number == group.error.row
            else RowProblem(row.number, None, group.error.code, message)
            for row in group.rows
        )
        return False

    def _member(
        self,
        group: _Household,
        row: Row,
        seen: dict[str, tuple[str, ...]],
        duplicates: list[RowProblem],
        tag: str,
    ) -> None:
        nik = row.nik()
        name = row.required("name")
        relationship = " ".join(row.required("relationship").upper().replace("_", " ").split())
        relationship = RELATIONSHIPS.get(relationship, relationship)
        birth = row.day("birth_date", required=False)
        address = row.address()
        if group.source is None:
            try:
                parsed = parse_source(row.required("source"))
            except InvalidCommand:
                raise row.fail(
                    "source",
                    "BAD_VALUE",
                    "must be KELURAHAN, SELF, DINAS:name, DPRD:name, DTKS, PROVINSI or KEMENSOS",
                ) from None
            reference = f"{parsed.reference} ({tag})" if parsed.reference else tag
            group.source = Source(parsed.kind, reference)
        if group.address is None:
            group.address = address
        elif (address.kelurahan, address.rw.lstrip("0"), address.rt.lstrip("0")) != (
            group.address.kelurahan,
            group.address.rw.lstrip("0"),
            group.address.rt.lstrip("0"),
        ):
            raise row.fail("kelurahan", "BAD_VALUE", "the address differs from the household's first row")
        values = (name.casefold(), relationship, str(birth))
        if nik in seen:
            if seen[nik] != values:
                raise row.fail(
                    "nik", "DUPLICATE_ROW", "the NIK appears twice in the household with different data"
                )
            duplicates.append(
                RowProblem(row.number, None, "DUPLICATE_ROW", "repeats an earlier row of the file")
            )
            return
        seen[nik] = values
        group.members.append(Member(nik, name, relationship, birth))
        group.member_rows.append(row.number)

    def _write(self, ctx: Context, households: Sequence[_Household]) -> Outcome:
        out = Outcome()
        pending = list(households)
        if ctx.resuming:
            pending = [h for h in households if not self._already(ctx, h)]
            out.accepted += sum(len(h.member_rows) for h in households if h not in pending)
        if ctx.dry_run:
            out.accepted += sum(len(h.member_rows) for h in pending)
            return out
        proposals = [Proposal(h.no_kk, cast("Source", h.source), h.address, h.members) for h in pending]
        result = registration.register_many(ctx.app, proposals, ctx.actor)
        refused = {r.index: r for r in result.rejected}
        for index, household in enumerate(pending):
            rejection = refused.get(index)
            if rejection is None:
                out.accepted += len(household.member_rows)
                continue
            member = _member_index(rejection.field)
            for position, number in enumerate(household.member_rows):
                if position == member:
                    out.rejected.append(RowProblem(number, "nik", rejection.code, rejection.message))
                else:
                    out.rejected.append(
                        RowProblem(
                            number, None, rejection.code, f"rejected with its household: {rejection.message}"
                        )
                    )
        return out

    @staticmethod
    def _already(ctx: Context, household: _Household) -> bool:
        found = ctx.household(household.no_kk)
        return found is not None and household.source in found.sources


def _member_index(field_path: str | None) -> int | None:
    if field_path and field_path.startswith("members["):
        index = field_path[len("members[") :].split("]", 1)[0]
        return int(index) if index.isdigit() else None
    return None


# --- population ---------------------------------------------------------------------------------

POPULATION_STATUS = {
    "HIDUP": "HIDUP",
    "ALIVE": "HIDUP",
    "MENINGGAL": "MENINGGAL",
    "DECEASED": "MENINGGAL",
    "MATI": "MENINGGAL",
    "PINDAH": "PINDAH",
    "MOVED": "PINDAH",
}
YES_NO = {
    "Y": "Y",
    "YA": "Y",
    "YES": "Y",
    "1": "Y",
    "TRUE": "Y",
    "ADA": "Y",
    "N": "N",
    "T": "N",
    "TIDAK": "N",
    "NO": "N",
    "0": "N",
    "FALSE": "N",
    "BELUM": "N",
}


class Population:
    """A Disdukcapil extract: rows go to `population_extract`; then every household it concerns is matched."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each person; a step of upserts per `size` rows, then one matching step."""
        problems: list[RowProblem] = []
        records: list[tuple[int, dict[str, Any]]] = []
        seen: set[str] = set()
        for row in sheet.rows:
            try:
                record = self._record(row)
            except RowError as e:
                problems.append(row.problem(e))
                continue
            if record["nik"] in seen:
                problems.append(
                    RowProblem(
                        row.number,
                        row.header("nik"),
                        "DUPLICATE_ROW",
                        "the NIK appears on an earlier row of the file",
                    )
                )
                continue
            seen.add(record["nik"])
            records.append((row.number, record))
        steps = [
            Step([n for n, _ in batch], partial(self._load, records=[r for _, r in batch]))
            for batch in _batches(records, size)
        ]
        steps.append(Step([], partial(self._match, records=[r for _, r in records])))
        return problems, steps

    @staticmethod
    def _record(row: Row) -> dict[str, Any]:
        nik = row.nik()
        no_kk = row.no_kk()
        name = row.required("name")
        birth = row.day("birth_date", required=False)
        status = row.choice("status", POPULATION_STATUS)
        ektp = row.choice("ektp", YES_NO) == "Y"
        place = (row.text("kecamatan"), row.text("kelurahan"))
        code = None
        if place[1] and place[1] != "-":
            if place not in row.layout.places:
                found = wilayah.kelurahan(place[1], place[0] or None)
                if found is None:
                    raise row.fail(
                        "kelurahan", "UNKNOWN_KELURAHAN", "kelurahan is not a kelurahan of Kota Bogor"
                    )
                row.layout.places[place] = found
            code = row.layout.places[place].code
        return {
            "nik": nik,
            "no_kk": no_kk,
            "name": name,
            "birth_date": birth,
            "status": status,
            "ektp": ektp,
            "kelurahan": code,
            "in_city": code is not None,
        }

    @staticmethod
    def _load(ctx: Context, records: Sequence[dict[str, Any]]) -> Outcome:
        if not ctx.dry_run:
            key = ctx.runtime.settings.id_key
            for r in records:
                r["nik_hash"] = keyed_hex(key, "nik", r["nik"])
            with ctx.runtime.engine.begin() as conn:
                upsert(conn, population_extract, records)  # each record holds exactly the table's columns
        return Outcome(accepted=len(records))

    @staticmethod
    def _match(ctx: Context, records: Sequence[dict[str, Any]]) -> Outcome:
        if not ctx.dry_run:
            with ctx.runtime.engine.begin() as conn:  # fresh statistics for the planner (padan's lookups)
                conn.execute(text(f'ANALYZE "{population_extract.name}"'))
            key = ctx.runtime.settings.id_key
            hashes = [r.get("nik_hash") or keyed_hex(key, "nik", r["nik"]) for r in records]
            concerned = {r["no_kk"] for r in records} | _households_holding(ctx, hashes)
            padan.match_population(ctx.app, sorted(concerned), ctx.actor)
        return Outcome()


def _households_holding(ctx: Context, nik_hashes: Sequence[str]) -> set[str]:
    """No. KK of the registered households a member of which has one of these NIKs (from the read models)."""
    catch_up(ctx.runtime)
    found: set[str] = set()
    holder = select(t.household.c.no_kk).join(
        t.person_index, t.person_index.c.household_id == t.household.c.household_id
    )
    with ctx.runtime.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            wanted = func.string_to_array(bindparam("hashes", type_=String), ",")
            query = holder.where(t.person_index.c.nik_hash == any_(wanted))
            for batch in _batches(nik_hashes, 50_000):
                found.update(conn.execute(query, {"hashes": joined(batch)}).scalars())
            return found
        for batch in _batches(nik_hashes, 500):
            found.update(conn.execute(holder.where(t.person_index.c.nik_hash.in_(list(batch)))).scalars())
    return found


# --- verval -------------------------------------------------------------------------------------

DECISIONS = {
    "LAYAK": "ELIGIBLE",
    "ELIGIBLE": "ELIGIBLE",
    "TIDAK_LAYAK": "INELIGIBLE",
    "INELIGIBLE": "INELIGIBLE",
    "NOT_ELIGIBLE": "INELIGIBLE",
    "TL": "INELIGIBLE",
}


@dataclass(frozen=True)
class _Verval:
    row: int
    no_kk: str
    decision: VervalDecision
    reason: str
    officer: str
    decided_on: date
    effective_on: date | None


class Verval:
    """Field verification results (the city's own decisions)."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each decision; a step per `size` rows."""
        problems: list[RowProblem] = []
        items: list[_Verval] = []
        for row in _dedup(sheet.rows, lambda r: tuple(r.cells), problems):
            try:
                items.append(
                    _Verval(
                        row.number,
                        row.no_kk(),
                        VervalDecision(row.choice("decision", DECISIONS)),
                        " ".join(row.text("reason").split()),
                        row.required("officer"),
                        cast("date", row.day("decided_on")),
                        row.day("effective_on", required=False),
                    )
                )
            except RowError as e:
                problems.append(row.problem(e))
        return problems, [
            Step([i.row for i in batch], partial(self._write, items=batch)) for batch in _batches(items, size)
        ]

    @staticmethod
    def _write(ctx: Context, items: Sequence[_Verval]) -> Outcome:
        out = Outcome()
        known = ctx.existing([i.no_kk for i in items])
        todo = []
        for item in items:
            if item.no_kk not in known:
                out.reject(
                    [item.row], RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK", "no_kk"
                )
            elif ctx.resuming and _verval_recorded(ctx, item):
                out.accepted += 1
            else:
                todo.append(item)
        if ctx.dry_run:
            out.accepted += len(todo)
            return out
        result = verval.decide_verval_many(
            ctx.app,
            [(i.no_kk, i.decision, i.reason, i.officer, i.decided_on, i.effective_on) for i in todo],
            ctx.actor,
        )
        for rejection in result.rejected:
            out.reject([todo[rejection.index].row], rejection.code, rejection.message, "no_kk")
        out.accepted += result.accepted
        return out


def _verval_recorded(ctx: Context, item: _Verval) -> bool:
    household = ctx.household(item.no_kk)
    return (
        household is not None and household.verval is item.decision and household.verval_on == item.decided_on
    )


# --- roster -------------------------------------------------------------------------------------


class Roster:
    """An outside authority's complete list for a tahap: one roster per (program, tahap, authority)."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Group the rows by program, tahap and authority; one step per roster (a roster is written whole)."""
        problems: list[RowProblem] = []
        groups: dict[tuple[str, int, str], list[tuple[int, str]]] = {}
        seen: set[tuple[str, int, str]] = set()
        for row in sheet.rows:
            try:
                no_kk, program, tahap = row.no_kk(), row.program(), row.tahap()
                authority = row.required("authority")
                row.day("effective_on", required=False)
            except RowError as e:
                problems.append(row.problem(e))
                continue
            if (program, tahap, no_kk) in seen:
                problems.append(
                    RowProblem(row.number, None, "DUPLICATE_ROW", "the household is already on this list")
                )
                continue
            seen.add((program, tahap, no_kk))
            groups.setdefault((program, tahap, authority), []).append((row.number, no_kk))
        header = sheet.layout.headers[sheet.layout.positions["tahap"]]
        return problems, [
            Step([n for n, _ in rows], partial(self._write, key=key, rows=rows, header=header))
            for key, rows in groups.items()
        ]

    @staticmethod
    def _write(
        ctx: Context, key: tuple[str, int, str], rows: Sequence[tuple[int, str]], header: str
    ) -> Outcome:
        program, tahap, authority = key
        out = Outcome()
        numbers = [n for n, _ in rows]
        if not _check_program(ctx, out, program, tahap, numbers, header):
            return out
        no_kks = [k for _, k in rows]
        known = ctx.existing(no_kks)
        for number, no_kk in rows:
            if no_kk not in known:
                out.warnings.append(
                    RowProblem(
                        number,
                        "no_kk",
                        RefusalCode.UNKNOWN_HOUSEHOLD,
                        f"not registered: recorded as a household proposed by {authority}",
                    )
                )
        if ctx.dry_run:
            out.accepted = len(rows)
            return out
        try:
            result = allocation.allocate_roster(ctx.app, program, tahap, authority, no_kks, ctx.actor)
        except Refusal as refusal:
            out.reject(numbers, refusal.code, refusal.message)
            return out
        out.accepted = len(rows)
        out.warnings.extend(RowProblem(numbers[w.index], None, w.code, w.message) for w in result.warnings)
        return out


# --- cleansing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Removal:
    row: int
    no_kk: str
    program: str
    tahap: int
    authority: str
    reason: str
    decree_ref: str
    effective_on: date | None


class Cleansing:
    """Removals decided by an outside authority (facts): one removal per row."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each removal; a step per size / 5 rows."""
        problems: list[RowProblem] = []
        items: list[_Removal] = []
        for row in _dedup(
            sheet.rows, lambda r: (r.text("no_kk"), r.text("program").upper(), r.text("tahap")), problems
        ):
            try:
                items.append(
                    _Removal(
                        row.number,
                        row.no_kk(),
                        row.program(),
                        row.tahap(),
                        row.required("authority"),
                        row.required("reason"),
                        " ".join(row.text("decree_ref").split()),
                        row.day("effective_on", required=False),
                    )
                )
            except RowError as e:
                problems.append(row.problem(e))
        header = sheet.layout.headers[sheet.layout.positions["tahap"]]
        return problems, [
            Step([i.row for i in batch], partial(self._write, items=batch, header=header))
            for batch in _batches(items, max(1, size // 5))
        ]

    @staticmethod
    def _write(ctx: Context, items: Sequence[_Removal], header: str) -> Outcome:
        out = Outcome()
        known = ctx.existing([i.no_kk for i in items])
        checked: list[_Removal] = []
        for item in items:
            if not _check_program(ctx, out, item.program, item.tahap, [item.row], header):
                continue
            if item.no_kk not in known:
                out.reject(
                    [item.row], RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK", "no_kk"
                )
                continue
            checked.append(item)
        if ctx.dry_run:
            out.accepted += len(checked)
            return out
        result = withdrawal.remove_many(
            ctx.app,
            [
                RemovalItem(i.no_kk, i.program, i.tahap, i.authority, i.reason, i.decree_ref, i.effective_on)
                for i in checked
            ],
            ctx.actor,
        )
        out.accepted += result.accepted
        for rejection in result.rejected:
            item = checked[rejection.index]
            if rejection.code != RefusalCode.REMOVED:
                out.reject([item.row], rejection.code, rejection.message)
                continue
            out.accepted += 1
            if not ctx.resuming:
                out.warnings.append(
                    RowProblem(item.row, None, rejection.code, "already removed: nothing recorded")
                )
        return out


# --- payments -----------------------------------------------------------------------------------

PAYMENT_STATUS = {
    "PAID": "PAID",
    "DIBAYAR": "PAID",
    "TERSALUR": "PAID",
    "SUKSES": "PAID",
    "BERHASIL": "PAID",
    "FAILED": "FAILED",
    "GAGAL": "FAILED",
    "RETURNED": "RETURNED",
    "DIKEMBALIKAN": "RETURNED",
    "RETUR": "RETURNED",
}


@dataclass(frozen=True)
class _Payment:
    row: int
    program: str
    tahap: int
    item: PaymentItem


class Payments:
    """A payer's report (facts): recorded with the broken rules as warnings."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each payment; group by program and tahap; a step per `size` payments."""
        problems: list[RowProblem] = []
        groups: dict[tuple[str, int], list[_Payment]] = {}
        for row in _dedup(sheet.rows, lambda r: tuple(r.cells), problems):
            try:
                program, tahap = row.program(), row.tahap()
                item = PaymentItem(
                    row.no_kk(),
                    row.amount("amount_idr"),
                    row.moment("paid_at"),
                    PaymentStatus(row.choice("status", PAYMENT_STATUS)),
                    row.required("reference"),
                )
            except RowError as e:
                problems.append(row.problem(e))
                continue
            groups.setdefault((program, tahap), []).append(_Payment(row.number, program, tahap, item))
        header = sheet.layout.headers[sheet.layout.positions["tahap"]]
        return problems, [
            Step([p.row for p in batch], partial(self._write, payments=batch, header=header))
            for payments in groups.values()
            for batch in _batches(payments, size)
        ]

    @staticmethod
    def _write(ctx: Context, payments: Sequence[_Payment], header: str) -> Outcome:
        out = Outcome()
        program, tahap = payments[0].program, payments[0].tahap
        if not _check_program(ctx, out, program, tahap, [p.row for p in payments], header):
            return out
        known = ctx.existing([p.item.no_kk for p in payments])
        todo = []
        for payment in payments:
            if payment.item.no_kk not in known:
                out.reject(
                    [payment.row], RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK", "no_kk"
                )
            elif ctx.resuming and _payment_recorded(ctx, payment):
                out.accepted += 1
            else:
                todo.append(payment)
        if ctx.dry_run:
            out.accepted += len(todo)
            return out
        result = disbursement.record_payments(
            ctx.app, program, tahap, [p.item for p in todo], ctx.actor, as_fact=True
        )
        for rejection in result.rejected:
            out.reject([todo[rejection.index].row], rejection.code, rejection.message)
        out.warnings.extend(RowProblem(todo[w.index].row, None, w.code, w.message) for w in result.warnings)
        out.accepted += result.accepted
        return out


def _payment_recorded(ctx: Context, payment: _Payment) -> bool:
    """Whether the household's events already hold this payment (same tahap, reference and status)."""
    try:
        events = ctx.app.repository.event_store.get(ctx.app.household_id(payment.item.no_kk))
    except AggregateNotFoundError:
        return False
    return any(
        isinstance(e, Household.PaymentRecorded)
        and (e.program, e.tahap, e.reference, e.status)
        == (payment.program, payment.tahap, payment.item.reference, str(payment.item.status))
        for e in events
    )


KINDS: Mapping[str, Kind] = {
    "registrations": Registrations(),
    "population": Population(),
    "verval": Verval(),
    "roster": Roster(),
    "cleansing": Cleansing(),
    "payments": Payments(),
}


# --- progress in the imports table --------------------------------------------------------------


class ImportLog:
    """The `imports` table: one row per file content."""

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.engine

    def find(self, import_id: str) -> dict[str, Any] | None:
        """The import's row, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(imports).where(imports.c.import_id == import_id)).mappings().first()
        return dict(row) if row else None

    def start(
        self, import_id: str, kind: str, filename: str, rows: int, steps: int, size: int, actor: Actor
    ) -> None:
        """Record a new import, nothing done yet."""
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                imports.insert().values(
                    import_id=import_id,
                    kind=kind,
                    filename=Path(filename).name[:255],
                    rows=rows,
                    steps=steps,
                    batch=size,
                    steps_done=0,
                    next_row=None,
                    accepted=0,
                    status="RUNNING",
                    actor=actor.name,
                    role=str(actor.role),
                    started_at=moment,
                    updated_at=moment,
                    problems=_dump([], []),
                )
            )

    def advance(
        self,
        import_id: str,
        steps_done: int,
        next_row: int | None,
        accepted: int,
        rejected: Sequence[RowProblem],
        warnings: Sequence[RowProblem],
        *,
        done: bool = False,
    ) -> None:
        """Mark one more step done (and the import DONE after the last one)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(imports)
                .where(imports.c.import_id == import_id)
                .values(
                    steps_done=steps_done,
                    next_row=None if done else next_row,
                    accepted=accepted,
                    status="DONE" if done else "RUNNING",
                    updated_at=now(),
                    problems=_dump(rejected, warnings),
                )
            )


def _dump(rejected: Sequence[RowProblem], warnings: Sequence[RowProblem]) -> str:
    return json.dumps(
        {"rejected": [p.to_json() for p in rejected], "warnings": [p.to_json() for p in warnings]}
    )


def _load(text: str) -> tuple[list[RowProblem], list[RowProblem]]:
    data = json.loads(text)
    return [RowProblem.from_json(p) for p in data["rejected"]], [
        RowProblem.from_json(p) for p in data["warnings"]
    ]


# --- the import ---------------------------------------------------------------------------------


def content_id(data: bytes) -> str:
    """An import's id: the SHA-256 of the file's content."""
    return hashlib.sha256(data).hexdigest()


@collector_paused()
def import_file(
    runtime: Runtime,
    kind: str,
    filename: str,
    data: bytes,
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: bool = False,
) -> ImportReport:
    """Import one file of `kind`; InvalidCommand (bad kind, unreadable file, missing column) writes nothing.

    `dry_run` checks every row and writes nothing. `progress` shows a progress bar (on a terminal).
    Python's cyclic garbage collector is paused through the import (`salur_cases.collector`).
    """
    columns_of(kind)
    import_id = content_id(data)
    sheet = Sheet.of(kind, read_table(filename, data))
    log = ImportLog(runtime)
    previous = log.find(import_id)
    if previous is not None and previous["kind"] != kind:
        raise InvalidCommand("kind", f"this file was imported as {previous['kind']}")
    if previous is not None and previous["status"] == "DONE":
        rejected, warnings = _load(previous["problems"])
        return ImportReport(
            import_id,
            kind,
            previous["rows"],
            previous["accepted"],
            rejected,
            warnings,
            already_imported=True,
            dry_run=dry_run,
        )
    size = previous["batch"] if previous is not None else BATCH
    problems, steps = KINDS[kind].plan(sheet, import_id, size)
    report = ImportReport(import_id, kind, len(sheet.rows), 0, list(problems), [], dry_run=dry_run)
    ctx = Context(runtime.app, runtime, actor, import_id, dry_run)
    done = 0
    step_rejected: list[RowProblem] = []
    if previous is not None and not dry_run:
        done = previous["steps_done"]
        report.accepted = previous["accepted"]
        step_rejected, report.warnings = _load(previous["problems"])
        ctx.resuming = True
    elif not dry_run:
        log.start(import_id, kind, filename, len(sheet.rows), len(steps), size, actor)
    with _progress_bar(progress, len(sheet.rows), sum(len(s.rows) for s in steps[:done])) as advance:
        for index in range(done, len(steps)):
            outcome = steps[index].run(ctx)
            ctx.resuming = False
            report.accepted += outcome.accepted
            step_rejected.extend(outcome.rejected)
            report.warnings.extend(outcome.warnings)
            if not dry_run:
                last = index + 1 == len(steps)
                log.advance(
                    import_id,
                    index + 1,
                    None if last else steps[index + 1].first_row,
                    report.accepted,
                    step_rejected,
                    report.warnings,
                    done=last,
                )
            advance(len(steps[index].rows))
    if not steps and not dry_run:
        log.advance(import_id, 0, None, 0, [], [], done=True)
    return _finish(report, step_rejected)


def _finish(report: ImportReport, step_rejected: list[RowProblem]) -> ImportReport:
    report.rejected = sorted([*report.rejected, *step_rejected], key=lambda p: (p.row, p.code))
    report.warnings.sort(key=lambda p: (p.row, p.code))
    return report


def _progress_bar(show: bool, total: int, completed: int) -> AbstractContextManager[Callable[[int], None]]:
    if not show:
        return nullcontext(lambda _n: None)
    return _rich_progress(total, completed)


class _rich_progress(AbstractContextManager[Callable[[int], None]]):  # noqa: N801 - used like a function
    def __init__(self, total: int, completed: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn  # noqa: PLC0415

        self.bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        )
        self.task = self.bar.add_task("importing rows", total=total, completed=completed)

    def __enter__(self) -> Callable[[int], None]:
        self.bar.start()
        return lambda n: self.bar.advance(self.task, n)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

"""Reports of the intake: the program table (Table 2 of the paper) and padan near misses for officers.

`salur report programs` counts, for each program, the distinct households paid at least once by it
(a PAID payment not followed by a RETURNED one in the same tahap), with group and budget source
columns, subtotals per group, the total and each row's share of the total. Subtotals and the total
count distinct households, so a household paid by two programs counts once there (in the demo no
household is, and the rows add up). Everything is SQL over the read models (`payment_ledger`,
`programs`), never the event store.

`salur report padan-suggestions` lists near misses of households that failed padan: a NIK one digit
away from an extract NIK with the same name and birth date, or a name that differs from the
extract's by a nickname or a spelling. Suggestions only: nothing is ever applied by itself.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from salur_cases import tables as t
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.padan import fold_name
from salur_cases.domain.vocabulary import PadanResult
from salur_cases.identifiers import Nik, keyed_hex
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings
from salur_cases.sheets import SafeCsvWriter, text_cell

GROUP_ORDER = {"DTKS": 0, "NON_DTKS": 1}


@dataclass(frozen=True)
class ProgramRow:
    """One line of the program table: a program, a group's subtotal (code None) or the total (group None)."""

    group: str | None
    code: str | None
    name: str
    budget_source: str | None
    households: int
    share: float


@dataclass(frozen=True)
class ProgramTable:
    """The table's lines in order, and the total of distinct households paid."""

    rows: list[ProgramRow]
    total: int

    def counts(self) -> dict[str, int]:
        """Households per program code."""
        return {r.code: r.households for r in self.rows if r.code is not None}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"total": self.total, "rows": [asdict(r) for r in self.rows]}


def program_table(runtime: Runtime) -> ProgramTable:
    """The program table from the read models (bring them up to date first)."""
    ledger = t.payment_ledger
    latest = (
        select(
            ledger.c.program,
            ledger.c.household_id,
            ledger.c.status,
            func.row_number()
            .over(
                partition_by=(ledger.c.household_id, ledger.c.program, ledger.c.tahap),
                order_by=ledger.c.position.desc(),
            )
            .label("newest"),
        )
        .where(ledger.c.status.in_(("PAID", "RETURNED")))
        .subquery("latest")
    )
    paid = (  # a PAID stands when the newest PAID-or-RETURNED report of its tahap is a PAID
        select(latest.c.program, latest.c.household_id, t.programs.c.group)
        .join(t.programs, t.programs.c.code == latest.c.program)
        .where(latest.c.newest == 1, latest.c.status == "PAID")
        .subquery("paid")
    )
    with runtime.reader.connect() as conn:
        programs = conn.execute(
            select(
                t.programs.c.code, t.programs.c.name, t.programs.c.budget_source, t.programs.c.group
            ).order_by(t.programs.c.position)
        ).all()
        per_program: dict[str, int] = dict(
            conn.execute(
                select(paid.c.program, func.count(paid.c.household_id.distinct())).group_by(paid.c.program)
            ).all()
        )
        per_group: dict[str, int] = dict(
            conn.execute(
                select(paid.c.group, func.count(paid.c.household_id.distinct())).group_by(paid.c.group)
            ).all()
        )
        total = int(conn.execute(select(func.count(paid.c.household_id.distinct()))).scalar() or 0)

    def share(count: int) -> float:
        return round(100 * count / total, 2) if total else 0.0

    rows: list[ProgramRow] = []
    groups = sorted({p.group for p in programs}, key=lambda g: (GROUP_ORDER.get(g, 9), g))
    for group in groups:
        for p in (p for p in programs if p.group == group):
            count = int(per_program.get(p.code, 0))
            rows.append(ProgramRow(group, p.code, p.name, p.budget_source, count, share(count)))
        subtotal = int(per_group.get(group, 0))
        rows.append(ProgramRow(group, None, "subtotal", None, subtotal, share(subtotal)))
    rows.append(ProgramRow(None, None, "total", None, total, 100.0 if total else 0.0))
    return ProgramTable(rows, total)


def compare(table: ProgramTable, intended: Mapping[str, int]) -> list[str]:
    """Differences between the table's program rows and intended counts (empty when equal)."""
    counts = table.counts()
    return [
        f"{code}: {counts.get(code, 0)} in the table, {count} intended"
        for code, count in intended.items()
        if counts.get(code, 0) != count
    ]


def render_table(table: ProgramTable) -> str:
    """The table as text, laid out like DOMAIN.md's Table 2."""
    header = f"{'group':<9} {'program':<44} {'budget source':<14} {'households (KK)':>16} {'share':>9}"
    lines = ["Households paid at least once, by program (SALUR Kota Bogor)", header, "-" * len(header)]
    for r in table.rows:
        name = f"{r.name} [{r.code}]" if r.code else r.name
        lines.append(
            f"{r.group or '':<9} {name:<44} {r.budget_source or '':<14} {r.households:>16,} {r.share:>7.2f} %"
        )
    return "\n".join(lines)


def _table_records(table: ProgramTable) -> list[dict[str, Any]]:
    return [asdict(r) for r in table.rows]


def programs_command(args: argparse.Namespace) -> int:
    """`salur report programs [--format table|csv|json|xlsx] [--out FILE]`."""
    runtime = _runtime()
    try:
        table = program_table(runtime)
    finally:
        runtime.close()
    _emit(args, render_table(table), _table_records(table), table.to_json())
    return 0


# --- padan suggestions --------------------------------------------------------------------------

NICKNAMES = {
    "MUHAMAD": "MUHAMMAD", "MOHAMMAD": "MUHAMMAD", "MOHAMAD": "MUHAMMAD", "MOCHAMAD": "MUHAMMAD",
    "MOCHAMMAD": "MUHAMMAD", "MOCH": "MUHAMMAD", "MOH": "MUHAMMAD", "MUH": "MUHAMMAD", "MHD": "MUHAMMAD",
    "M": "MUHAMMAD", "ACHMAD": "AHMAD", "AKHMAD": "AHMAD", "ABD": "ABDUL", "ST": "SITI", "SITTI": "SITI",
    "UCUP": "YUSUF", "YUSUP": "YUSUF", "JUSUF": "YUSUF", "NENG": "ENENG", "NUR": "NURUL",
}  # fmt: skip
"""Nicknames and short forms (Sundanese and Indonesian) -> the full name they stand for."""

_SPELLING = (
    ("OE", "U"), ("DJ", "J"), ("TJ", "C"), ("SJ", "SY"), ("NJ", "NY"), ("CH", "H"), ("KH", "H"), ("PH", "P"),
    ("F", "P"), ("V", "P"), ("Z", "J"), ("AI", "E"), ("AE", "E"), ("Y", "I"), ("J", "I"),
)  # fmt: skip
_LETTERS = re.compile(r"[^A-Z ]+")
_DOUBLES = re.compile(r"(.)\1+")
SIMILARITY = 0.85
"""difflib ratio above which two folded names are suggested as one."""
_VARIANT_BATCH = 400


@dataclass(frozen=True)
class Suggestion:
    """A near miss for an officer to check: never applied by itself; NIKs masked."""

    no_kk: str
    member: int
    kind: str  # NIK_ONE_DIGIT, NAME_NICKNAME, NAME_SPELLING or NAME_SIMILAR
    padan: str
    nik_on_record: str
    nik_in_extract: str
    name_on_record: str
    name_in_extract: str
    similarity: float
    suggestion: str


def spelling_key(name: str) -> str:
    """A name with old and regional spellings made one (`Achmad Hidajat` ~ `Ahmad Hidayat`, `Yusup`).

    Old spelling (oe, dj, tj, j for y), Sundanese f/p and v/p, z/j, ai/ae/e; doubled letters count once.
    """
    text = _LETTERS.sub(" ", name.upper())
    for old, new in _SPELLING:
        text = text.replace(old, new)
    return " ".join(_DOUBLES.sub(r"\1", w) for w in text.split())


def nickname_key(name: str) -> str:
    """A name with nicknames and short forms replaced by the full names."""
    words = _LETTERS.sub(" ", name.upper()).split()
    return " ".join(NICKNAMES.get(w, w) for w in words)


def name_near_miss(on_record: str, in_extract: str) -> tuple[str, float] | None:
    """How two names that padan found different may still be one person's: a kind and a similarity."""
    a, b = fold_name(on_record), fold_name(in_extract)
    ratio = round(difflib.SequenceMatcher(None, a, b).ratio(), 3)
    if nickname_key(on_record) == nickname_key(in_extract):
        return "NAME_NICKNAME", ratio
    if spelling_key(on_record) == spelling_key(in_extract) or spelling_key(
        nickname_key(on_record)
    ) == spelling_key(nickname_key(in_extract)):
        return "NAME_SPELLING", ratio
    if ratio >= SIMILARITY:
        return "NAME_SIMILAR", ratio
    return None


def one_digit_variants(nik: str) -> Iterator[str]:
    """Every plausible NIK that differs from this one in exactly one digit."""
    for position in range(16):
        for digit in "0123456789":
            if digit == nik[position]:
                continue
            variant = nik[:position] + digit + nik[position + 1 :]
            try:
                Nik.parse(variant)
            except ValueError:
                continue
            yield variant


def padan_suggestions(runtime: Runtime, limit: int | None = None) -> list[Suggestion]:
    """Near misses for the households whose padan is NIK_NOT_FOUND or NAME_MISMATCH."""
    with runtime.reader.connect() as conn:
        failing = conn.execute(
            select(t.household.c.no_kk, t.household.c.padan)
            .where(t.household.c.padan.in_([str(PadanResult.NIK_NOT_FOUND), str(PadanResult.NAME_MISMATCH)]))
            .order_by(t.household.c.no_kk)
        ).all()
    key = runtime.settings.id_key
    suggestions: list[Suggestion] = []
    missing: list[tuple[str, str, int, Any]] = []
    for no_kk, padan in failing:
        try:
            household = runtime.app.household(no_kk)
        except Refusal:
            continue
        extract = runtime.app.population.records([m.nik for m in household.members])
        for index, member in enumerate(household.members):
            record = extract.get(member.nik)
            if record is None:
                missing.append((no_kk, padan, index, member))
            elif record.no_kk == no_kk and fold_name(record.name) != fold_name(member.name):
                near = name_near_miss(member.name, record.name)
                if near is not None:
                    suggestions.append(
                        Suggestion(
                            no_kk,
                            index,
                            near[0],
                            padan,
                            Nik(member.nik).masked(),
                            Nik(record.nik).masked(),
                            member.name,
                            record.name,
                            near[1],
                            f"check members[{index}].name against the population record",
                        )
                    )
    for start in range(0, len(missing), _VARIANT_BATCH):
        suggestions.extend(_nik_near_misses(runtime, key, missing[start : start + _VARIANT_BATCH]))
    suggestions.sort(key=lambda s: (s.no_kk, s.member, s.kind))
    return suggestions[:limit] if limit is not None else suggestions


def _nik_near_misses(
    runtime: Runtime, key: bytes, members: Sequence[tuple[str, str, int, Any]]
) -> list[Suggestion]:
    hashes: dict[str, list[int]] = {}
    for i, (_, _, _, member) in enumerate(members):
        for variant in one_digit_variants(member.nik):
            hashes.setdefault(keyed_hex(key, "nik", variant), []).append(i)
    found: list[Suggestion] = []
    keys = list(hashes)
    px = t.population_extract
    with runtime.reader.connect() as conn:
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                select(px.c.nik_hash, px.c.record).where(px.c.nik_hash.in_(keys[start : start + 500]))
            ).all()
            for nik_hash, record in rows:  # the record opened from its sealed column
                for i in hashes[nik_hash]:
                    no_kk, padan, index, member = members[i]
                    born = member.birth_date.isoformat() if member.birth_date is not None else None
                    same_person = fold_name(record["name"]) == fold_name(member.name) and (
                        born is not None and record["birth_date"] == born
                    )
                    if same_person:
                        found.append(
                            Suggestion(
                                no_kk,
                                index,
                                "NIK_ONE_DIGIT",
                                padan,
                                Nik(member.nik).masked(),
                                Nik(record["nik"]).masked(),
                                member.name,
                                record["name"],
                                1.0,
                                f"correct members[{index}].nik: one digit differs from a population record "
                                "with the same name and birth date",
                            )
                        )
    return found


def padan_suggestions_command(args: argparse.Namespace) -> int:
    """`salur report padan-suggestions [--format table|csv|json|xlsx] [--out FILE]`."""
    runtime = _runtime()
    try:
        suggestions = padan_suggestions(runtime)
    finally:
        runtime.close()
    records = [asdict(s) for s in suggestions]
    lines = [f"{len(suggestions)} padan near misses (suggestions only; NIKs masked)"]
    lines += [
        f"{s.no_kk}  members[{s.member}]  {s.kind:<14} {s.padan:<14} {s.nik_on_record} ~ {s.nik_in_extract}  "
        f"{s.name_on_record!r} ~ {s.name_in_extract!r} ({s.similarity:.2f})"
        for s in suggestions
    ]
    _emit(args, "\n".join(lines), records, {"items": records})
    return 0


# --- output -------------------------------------------------------------------------------------


def _runtime() -> Runtime:

    runtime = Runtime(get_settings())
    catch_up(runtime)
    return runtime


def _emit(
    args: argparse.Namespace, text: str, records: list[dict[str, Any]], document: dict[str, Any]
) -> None:
    """Write a report as table (text), csv, json or xlsx, to --out or stdout (xlsx needs --out)."""
    fmt = getattr(args, "format", "table") or "table"
    out = Path(args.out) if getattr(args, "out", None) else None
    if fmt == "xlsx":
        if out is None:
            raise InvalidCommand("--out", "an xlsx report needs --out FILE")
        _write_xlsx(records, out)
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        if records:
            writer.writerow(list(records[0]))
            writer.writerows(list(r.values()) for r in records)
        content = buffer.getvalue()
    elif fmt == "json":
        content = json.dumps(document, indent=2, default=str) + "\n"
    elif fmt == "table":
        content = text + "\n"
    else:
        raise InvalidCommand("--format", "must be table, csv, json or xlsx for this report")
    if out is None:
        sys.stdout.write(content)
    else:
        out.write_text(content, encoding="utf-8")


def _write_xlsx(records: list[dict[str, Any]], out: Path) -> None:
    from openpyxl import Workbook  # noqa: PLC0415

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("report")
    if records:
        sheet.append([text_cell(sheet, name) for name in records[0]])
        for record in records:
            sheet.append([text_cell(sheet, value) for value in record.values()])
    workbook.save(out)

"""The `registrations` kind: households proposed by a source, one row per member.

Rows are grouped by No. KK and source into one proposal each; a bad member row rejects its whole
household, and the others go on. The proposal's source reference carries the import's id, which is
how a resumed import knows which households it already proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import cast

from salur_cases.domain.commands import ProposedAddress, ProposedMember, ProposedSource, ProposeHousehold
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household import Address, Member, Source
from salur_cases.domain.parsing import parse_source
from salur_cases.intake.report import RowProblem
from salur_cases.intake.rows import Row, RowError, Sheet, batches
from salur_cases.intake.steps import Context, Outcome, Step
from salur_cases.processes import registration

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

    def proposal(self) -> ProposeHousehold:
        """The household's proposal (of a checked group: its rows are parsed)."""
        source, a = cast("Source", self.source), self.address
        return ProposeHousehold(
            self.no_kk,
            ProposedSource(source.kind, source.reference),
            ProposedAddress(a.kecamatan, a.kelurahan, a.rw, a.rt) if a else None,
            [ProposedMember(m.nik, m.name, m.relationship, m.birth_date) for m in self.members],
        )


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
            for batch in batches(households, size)
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
        proposals = [h.proposal() for h in pending]
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

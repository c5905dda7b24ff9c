"""The `roster` kind: an outside authority's complete list for one tahap, recorded as a fact.

Rows are grouped by program, tahap and authority; each roster is written whole, in one step. An
unknown No. KK is recorded as a household proposed by that authority (a warning says so). A roster
takes effect on one date: its rows' `berlaku`, where given, must agree (a row that names another
date is refused with BAD_VALUE), and the date is recorded on every seat and NOT_IN_SOURCE_LIST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial

from salur_cases.domain.commands import AllocateTahap
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.intake.report import RowProblem
from salur_cases.intake.rows import RowError, Sheet
from salur_cases.intake.steps import Context, Outcome, Step, check_program
from salur_cases.processes import allocation


class Roster:
    """An outside authority's complete list for a tahap: one roster per (program, tahap, authority)."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Group the rows by program, tahap and authority; one step per roster (a roster is written whole)."""
        problems: list[RowProblem] = []
        groups: dict[tuple[str, int, str], list[tuple[int, str]]] = {}
        berlaku: dict[tuple[str, int, str], date] = {}
        seen: set[tuple[str, int, str]] = set()
        for row in sheet.rows:
            try:
                no_kk, program, tahap = row.no_kk(), row.program(), row.tahap()
                authority = row.required("authority")
                effective_on = row.day("effective_on", required=False)
                key = (program, tahap, authority)
                if effective_on is not None and berlaku.setdefault(key, effective_on) != effective_on:
                    raise row.fail(
                        "effective_on", "BAD_VALUE", "differs from the berlaku of this roster's earlier rows"
                    )
            except RowError as e:
                problems.append(row.problem(e))
                continue
            if (program, tahap, no_kk) in seen:
                problems.append(
                    RowProblem(row.number, None, "DUPLICATE_ROW", "the household is already on this list")
                )
                continue
            seen.add((program, tahap, no_kk))
            groups.setdefault(key, []).append((row.number, no_kk))
        header = sheet.layout.header("tahap")
        return problems, [
            Step(
                [n for n, _ in rows],
                partial(self._write, key=key, rows=rows, header=header, effective_on=berlaku.get(key)),
            )
            for key, rows in groups.items()
        ]

    @staticmethod
    def _write(
        ctx: Context,
        key: tuple[str, int, str],
        rows: Sequence[tuple[int, str]],
        header: str,
        effective_on: date | None,
    ) -> Outcome:
        program, tahap, authority = key
        out = Outcome()
        numbers = [n for n, _ in rows]
        if not check_program(ctx, out, program, tahap, numbers, header):
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
            command = AllocateTahap(authority=authority, no_kk=no_kks, effective_on=effective_on)
            result = allocation.allocate_tahap(ctx.app, program, tahap, command, ctx.actor)
        except Refusal as refusal:
            out.reject(numbers, refusal.code, refusal.message)
            return out
        out.accepted = len(rows)
        out.warnings.extend(RowProblem(numbers[w.index], None, w.code, w.message) for w in result.warnings)
        return out

"""The `verval` kind: field verification results, the city's own decisions (a refusal rejects the row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import cast

from salur_cases.domain.commands import DecideVerval
from salur_cases.domain.errors import RefusalCode
from salur_cases.domain.vocabulary import VervalDecision
from salur_cases.intake.report import RowProblem
from salur_cases.intake.rows import RowError, Sheet, batches, dedup
from salur_cases.intake.steps import Context, Outcome, Step
from salur_cases.processes import verval

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
    decision: DecideVerval


class Verval:
    """Field verification results (the city's own decisions)."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each decision; a step per `size` rows."""
        problems: list[RowProblem] = []
        items: list[_Verval] = []
        for row in dedup(sheet.rows, lambda r: tuple(r.cells), problems):
            try:
                items.append(
                    _Verval(
                        row.number,
                        row.no_kk(),
                        DecideVerval(
                            VervalDecision(row.choice("decision", DECISIONS)),
                            row.optional("reason"),
                            row.required("officer"),
                            cast("date", row.day("decided_on")),
                            row.day("effective_on", required=False),
                        ),
                    )
                )
            except RowError as e:
                problems.append(row.problem(e))
        return problems, [
            Step([i.row for i in batch], partial(self._write, items=batch)) for batch in batches(items, size)
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
            [(i.no_kk, i.decision) for i in todo],
            ctx.actor,
        )
        for rejection in result.rejected:
            out.reject([todo[rejection.index].row], rejection.code, rejection.message, "no_kk")
        out.accepted += result.accepted
        return out


def _verval_recorded(ctx: Context, item: _Verval) -> bool:
    household = ctx.household(item.no_kk)
    return (
        household is not None
        and household.verval is item.decision.decision
        and household.verval_on == item.decision.decided_on
    )

"""The `cleansing` kind: removals decided by an outside authority, recorded as facts, one per row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from salur_cases.domain.commands import RemoveHousehold
from salur_cases.domain.errors import RefusalCode
from salur_cases.intake.report import RowProblem
from salur_cases.intake.rows import RowError, Sheet, batches, dedup
from salur_cases.intake.steps import Context, Outcome, Step, check_program
from salur_cases.processes import withdrawal


@dataclass(frozen=True)
class _Removal:
    row: int
    no_kk: str
    removal: RemoveHousehold


class Cleansing:
    """Removals decided by an outside authority (facts): one removal per row."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each removal; a step per size / 5 rows."""
        problems: list[RowProblem] = []
        items: list[_Removal] = []
        for row in dedup(
            sheet.rows, lambda r: (r.text("no_kk"), r.text("program").upper(), r.text("tahap")), problems
        ):
            try:
                items.append(
                    _Removal(
                        row.number,
                        row.no_kk(),
                        RemoveHousehold(
                            row.program(),
                            row.tahap(),
                            row.required("authority"),
                            row.required("reason"),
                            row.optional("decree_ref"),
                            row.day("effective_on", required=False),
                        ),
                    )
                )
            except RowError as e:
                problems.append(row.problem(e))
        header = sheet.layout.header("tahap")
        return problems, [
            Step([i.row for i in batch], partial(self._write, items=batch, header=header))
            for batch in batches(items, max(1, size // 5))
        ]

    @staticmethod
    def _write(ctx: Context, items: Sequence[_Removal], header: str) -> Outcome:
        out = Outcome()
        known = ctx.existing([i.no_kk for i in items])
        checked: list[_Removal] = []
        for item in items:
            if not check_program(ctx, out, item.removal.program, item.removal.tahap, [item.row], header):
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
        result = withdrawal.remove_many(ctx.app, [(i.no_kk, i.removal) for i in checked], ctx.actor)
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

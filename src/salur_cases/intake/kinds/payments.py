"""The `payments` kind: a payer's report (PT Pos, a bank), recorded as facts with broken rules as warnings.

Payments are grouped by program and tahap. A resumed import skips a payment the household's events
already hold (same tahap, reference and status), so a re-run batch never pays twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from eventsourcing.application import AggregateNotFoundError

from salur_cases.domain.commands import RecordPayment
from salur_cases.domain.errors import RefusalCode
from salur_cases.domain.household import Household
from salur_cases.domain.vocabulary import PaymentStatus
from salur_cases.intake.report import RowProblem
from salur_cases.intake.rows import RowError, Sheet, batches, dedup
from salur_cases.intake.steps import Context, Outcome, Step, check_program
from salur_cases.processes import disbursement

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
    item: RecordPayment


class Payments:
    """A payer's report (facts): recorded with the broken rules as warnings."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each payment; group by program and tahap; a step per `size` payments."""
        problems: list[RowProblem] = []
        groups: dict[tuple[str, int], list[_Payment]] = {}
        for row in dedup(sheet.rows, lambda r: tuple(r.cells), problems):
            try:
                program, tahap = row.program(), row.tahap()
                item = RecordPayment(
                    row.no_kk(),
                    row.amount("amount_idr"),
                    row.moment("paid_at").isoformat(),
                    PaymentStatus(row.choice("status", PAYMENT_STATUS)),
                    row.required("reference"),
                )
            except RowError as e:
                problems.append(row.problem(e))
                continue
            groups.setdefault((program, tahap), []).append(_Payment(row.number, program, tahap, item))
        header = sheet.layout.header("tahap")
        return problems, [
            Step([p.row for p in batch], partial(self._write, payments=batch, header=header))
            for payments in groups.values()
            for batch in batches(payments, size)
        ]

    @staticmethod
    def _write(ctx: Context, payments: Sequence[_Payment], header: str) -> Outcome:
        out = Outcome()
        program, tahap = payments[0].program, payments[0].tahap
        if not check_program(ctx, out, program, tahap, [p.row for p in payments], header):
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

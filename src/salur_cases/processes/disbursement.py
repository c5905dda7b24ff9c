"""Disbursement: payments made on the seats of a tahap, recorded by the city or reported by a payer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import RecordPayment
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.processes.unit_of_work import (
    BulkOutcome,
    Rejection,
    chunks,
    load_households,
    retrying,
    save,
    warned,
)

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication


def record_payments(
    app: SalurApplication,
    code: str,
    number: int,
    items: Sequence[RecordPayment],
    actor: Actor,
    *,
    as_fact: bool = False,
) -> BulkOutcome:
    """Record payment attempts (parsed `RecordPayment`s) for a tahap.

    The city's own records are refused item by item when a rule says no; a payer's report
    (`as_fact`) is recorded with the broken rules as warnings.
    """
    program = app.program(code)
    program.get_tahap(number)
    outcome = BulkOutcome()
    for start, chunk in chunks(items):
        _payments_chunk(app, program.code, number, start, chunk, actor, outcome, as_fact)
    return outcome


@retrying
def _payments_chunk(
    app: SalurApplication,
    code: str,
    number: int,
    start: int,
    items: Sequence[RecordPayment],
    actor: Actor,
    outcome: BulkOutcome,
    as_fact: bool,
) -> None:
    tahap = app.program(code).get_tahap(number)
    loaded = load_households(app, [app.household_id(i.no_kk) for i in items])
    trial = BulkOutcome()
    for offset, item in enumerate(items):
        if item.amount_idr < 0:
            trial.rejected.append(
                Rejection(start + offset, "BAD_AMOUNT", "amount must not be negative", "amount_idr")
            )
            continue
        household = loaded.get(app.household_id(item.no_kk))
        if household is None:
            trial.rejected.append(
                Rejection(start + offset, RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
            )
            continue
        try:
            warnings = household.record_payment(code, tahap, item, actor, as_fact=as_fact)
        except Refusal as refusal:
            trial.rejected.append(Rejection(start + offset, refusal.code, refusal.message))
            continue
        trial.warnings.extend(warned(start + offset, warnings))
        trial.accepted += 1
    save(app, trial, *loaded.values(), hold=True)
    outcome.accepted += trial.accepted
    outcome.rejected.extend(trial.rejected)
    outcome.warnings.extend(trial.warnings)
    outcome.position = trial.position or outcome.position

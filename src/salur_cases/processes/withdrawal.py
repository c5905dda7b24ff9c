"""Withdrawal: a household taken out of a program by an authority (removal, transfer), or put back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import ReinstateHousehold, RemoveHousehold, TransferHousehold
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.program import Program
from salur_cases.processes.unit_of_work import (
    BulkOutcome,
    HouseholdOutcome,
    Rejection,
    chunks,
    household_at,
    load_households,
    retrying,
    save,
    saved,
)

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication


@retrying
def remove(
    app: SalurApplication,
    no_kk: str,
    removal: RemoveHousehold,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Remove a household from a program from a tahap on."""
    app.program(removal.program).get_tahap(removal.tahap)
    household = household_at(app, no_kk, expected_version)
    household.remove(removal, actor)
    return saved(app, household)


def remove_many(
    app: SalurApplication, items: Sequence[tuple[str, RemoveHousehold]], actor: Actor
) -> BulkOutcome:
    """Record many removals (an authority's cleansing list: No. KK and removal), a chunk of households per
    transaction.

    Each refused item (unknown household, program or tahap; already removed) is reported by its
    index and changes nothing.
    """
    outcome = BulkOutcome()
    for start, chunk in chunks(items):
        _remove_chunk(app, start, chunk, actor, outcome)
    return outcome


@retrying
def _remove_chunk(
    app: SalurApplication,
    start: int,
    chunk: Sequence[tuple[str, RemoveHousehold]],
    actor: Actor,
    outcome: BulkOutcome,
) -> None:
    programs: dict[str, Program | Refusal] = {}
    for code in {removal.program for _, removal in chunk}:
        try:
            programs[code] = app.program(code)
        except Refusal as refusal:
            programs[code] = refusal
    loaded = load_households(app, [app.household_id(no_kk) for no_kk, _ in chunk])
    trial = BulkOutcome()
    for offset, (no_kk, removal) in enumerate(chunk):
        try:
            program = programs[removal.program]
            if isinstance(program, Refusal):
                raise program
            program.get_tahap(removal.tahap)
            household = loaded.get(app.household_id(no_kk))
            if household is None:
                raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
            household.remove(removal, actor)
        except Refusal as refusal:
            trial.rejected.append(Rejection(start + offset, refusal.code, refusal.message))
            continue
        trial.accepted += 1
    save(app, trial, *loaded.values(), hold=True)
    outcome.merge(trial)


@retrying
def reinstate(
    app: SalurApplication,
    no_kk: str,
    reinstatement: ReinstateHousehold,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Undo a removal from a tahap on."""
    app.program(reinstatement.program).get_tahap(reinstatement.tahap)
    household = household_at(app, no_kk, expected_version)
    household.reinstate(reinstatement, actor)
    return saved(app, household)


@retrying
def transfer(
    app: SalurApplication,
    no_kk: str,
    transfer: TransferHousehold,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Take a household out of one program from a tahap on, naming the program it goes to."""
    app.program(transfer.from_program).get_tahap(transfer.from_tahap)
    app.program(transfer.to_program)
    household = household_at(app, no_kk, expected_version)
    household.transfer(transfer, actor)
    return saved(app, household)

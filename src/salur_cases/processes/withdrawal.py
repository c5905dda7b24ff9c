"""Withdrawal: a household taken out of a program by an authority (removal, transfer), or put back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from salur_cases.commands import RemovalItem
from salur_cases.domain.actor import Actor
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
    program: str,
    tahap: int,
    authority: str,
    reason: str,
    decree_ref: str,
    actor: Actor,
    effective_on: date | None = None,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Remove a household from a program from a tahap on."""
    app.program(program).get_tahap(tahap)
    household = household_at(app, no_kk, expected_version)
    household.remove(program, tahap, authority, reason, decree_ref, effective_on, actor)
    return saved(app, household)


def remove_many(app: SalurApplication, items: Sequence[RemovalItem], actor: Actor) -> BulkOutcome:
    """Record many removals (an authority's cleansing list), a chunk of households per transaction.

    Each refused item (unknown household, program or tahap; already removed) is reported by its
    index and changes nothing.
    """
    outcome = BulkOutcome()
    for start, chunk in chunks(items):
        _remove_chunk(app, start, chunk, actor, outcome)
    return outcome


@retrying
def _remove_chunk(
    app: SalurApplication, start: int, chunk: Sequence[RemovalItem], actor: Actor, outcome: BulkOutcome
) -> None:
    programs: dict[str, Program | Refusal] = {}
    for code in {item.program for item in chunk}:
        try:
            programs[code] = app.program(code)
        except Refusal as refusal:
            programs[code] = refusal
    loaded = load_households(app, [app.household_id(item.no_kk) for item in chunk])
    trial = BulkOutcome()
    for offset, item in enumerate(chunk):
        try:
            program = programs[item.program]
            if isinstance(program, Refusal):
                raise program
            program.get_tahap(item.tahap)
            household = loaded.get(app.household_id(item.no_kk))
            if household is None:
                raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
            household.remove(
                item.program,
                item.tahap,
                item.authority,
                item.reason,
                item.decree_ref,
                item.effective_on,
                actor,
            )
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
    program: str,
    tahap: int,
    authority: str,
    reason: str,
    actor: Actor,
    effective_on: date | None = None,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Undo a removal from a tahap on."""
    app.program(program).get_tahap(tahap)
    household = household_at(app, no_kk, expected_version)
    household.reinstate(program, tahap, authority, reason, effective_on, actor)
    return saved(app, household)


@retrying
def transfer(
    app: SalurApplication,
    no_kk: str,
    from_program: str,
    from_tahap: int,
    to_program: str,
    authority: str,
    reason: str,
    actor: Actor,
    effective_on: date | None = None,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Take a household out of one program from a tahap on, naming the program it goes to."""
    app.program(from_program).get_tahap(from_tahap)
    app.program(to_program)
    household = household_at(app, no_kk, expected_version)
    household.transfer(from_program, from_tahap, to_program, authority, reason, effective_on, actor)
    return saved(app, household)

"""Verval: the city's verification and validation of a household, ELIGIBLE or INELIGIBLE."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import DecideVerval
from salur_cases.domain.errors import RefusalCode
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

VervalItem = tuple[str, DecideVerval]
"""A household's No. KK and the decision on it."""


@retrying
def decide_verval(
    app: SalurApplication,
    no_kk: str,
    decision: DecideVerval,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Record a verval decision."""
    household = household_at(app, no_kk, expected_version)
    household.decide_verval(decision, actor)
    return saved(app, household)


def decide_verval_many(app: SalurApplication, items: Sequence[VervalItem], actor: Actor) -> BulkOutcome:
    """Record many verval decisions, a chunk of households per transaction."""
    outcome = BulkOutcome()
    for start, chunk in chunks(items):
        _verval_chunk(app, start, chunk, actor, outcome)
    return outcome


@retrying
def _verval_chunk(
    app: SalurApplication, start: int, chunk: Sequence[VervalItem], actor: Actor, outcome: BulkOutcome
) -> None:
    loaded = load_households(app, [app.household_id(no_kk) for no_kk, _ in chunk])
    trial = BulkOutcome()
    for offset, (no_kk, decision) in enumerate(chunk):
        household = loaded.get(app.household_id(no_kk))
        if household is None:
            trial.rejected.append(
                Rejection(start + offset, RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
            )
            continue
        household.decide_verval(decision, actor)
        trial.accepted += 1
    save(app, trial, *loaded.values(), hold=True)
    outcome.merge(trial)

"""Verval: the city's verification and validation of a household, ELIGIBLE or INELIGIBLE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import RefusalCode
from salur_cases.domain.vocabulary import VervalDecision
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

VervalItem = tuple[str, VervalDecision, str, str, date, date | None]
"""(no_kk, decision, reason, officer, decided_on, effective_on)."""


@retrying
def decide_verval(
    app: SalurApplication,
    no_kk: str,
    decision: VervalDecision,
    reason: str,
    officer: str,
    decided_on: date,
    actor: Actor,
    effective_on: date | None = None,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Record a verval decision."""
    household = household_at(app, no_kk, expected_version)
    household.decide_verval(decision, reason, officer, decided_on, effective_on, actor)
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
    loaded = load_households(app, [app.household_id(item[0]) for item in chunk])
    trial = BulkOutcome()
    for offset, (no_kk, decision, reason, officer, decided_on, effective_on) in enumerate(chunk):
        household = loaded.get(app.household_id(no_kk))
        if household is None:
            trial.rejected.append(
                Rejection(start + offset, RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
            )
            continue
        household.decide_verval(decision, reason, officer, decided_on, effective_on, actor)
        trial.accepted += 1
    save(app, trial, *loaded.values(), hold=True)
    outcome.merge(trial)

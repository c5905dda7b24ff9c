"""Padan: households matched against the Disdukcapil population extract, or a result recorded by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import RecordPopulationMatch
from salur_cases.domain.household import Household
from salur_cases.domain.padan import PopulationRecord, match_household
from salur_cases.processes.unit_of_work import (
    BulkOutcome,
    HouseholdOutcome,
    Written,
    chunks,
    household_at,
    load_households,
    retrying,
    save,
    saved,
)

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication

EXISTENCE_BATCH = 5000
"""Ids per query asking which households exist."""


def match(household: Household, extract: Mapping[str, PopulationRecord], actor: Actor) -> None:
    """Match the household against the extract; record the result when it changed."""
    result = match_household(household.no_kk, household.members, extract)
    if result is not household.padan:
        household.record_padan(RecordPopulationMatch(result), "EXTRACT", actor)


@retrying
def record_padan(
    app: SalurApplication,
    no_kk: str,
    match: RecordPopulationMatch,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Record a padan result decided elsewhere (Disdukcapil's own check)."""
    household = household_at(app, no_kk, expected_version)
    household.record_padan(match, "MANUAL", actor)
    return saved(app, household)


def match_population(app: SalurApplication, no_kks: Sequence[str], actor: Actor) -> BulkOutcome:
    """Match registered households against the loaded extract (after a population import).

    Only the ids with events are loaded (one cheap existence query per 5,000 first): an extract
    loaded before the lists, as in 2020, names hundreds of thousands of families not registered yet.
    """
    outcome = BulkOutcome()
    ids = [app.household_id(k) for k in no_kks]
    registered: set[UUID] = set()
    for _, part in chunks(ids, EXISTENCE_BATCH):
        registered |= app.chained.existing_originator_ids(part)
    for _, chunk in chunks([i for i in ids if i in registered]):
        _match_chunk(app, chunk, actor, outcome)
    return outcome


@retrying
def _match_chunk(app: SalurApplication, chunk: Sequence[UUID], actor: Actor, outcome: BulkOutcome) -> None:
    households = list(load_households(app, chunk).values())
    extract = app.population.records([m.nik for h in households for m in h.members])
    for household in households:
        match(household, extract, actor)
    trial = Written()
    save(app, trial, *households, hold=True)
    outcome.accepted += len(households)
    outcome.position = trial.position or outcome.position

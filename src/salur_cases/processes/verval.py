"""Verval: the city's verification and validation of a household, ELIGIBLE or INELIGIBLE.

Bulk verval runs its chunks in worker processes beside the caller when there are cores for them
(`salur_cases.processes.bulk`). A file may decide one household more than once, and its decisions
apply in the file's order: every decision on a household goes in the same chunk, in input order, so
no two processes decide one household at once and the later decision stands. The households the
caller holds come first, in the chunks it takes, so the workers read back only households the caller
would have had to read back itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from salur_cases.collector import collector_paused
from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import DecideVerval
from salur_cases.domain.errors import RefusalCode
from salur_cases.domain.household import Household
from salur_cases.processes import bulk, unit_of_work
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


@collector_paused()
def decide_verval_many(app: SalurApplication, items: Sequence[VervalItem], actor: Actor) -> BulkOutcome:
    """Record many verval decisions, a chunk of households per transaction; decisions on unknown
    households are reported by their index in `items`. The cyclic garbage collector is paused
    throughout, the grouping of the decisions by household included (`salur_cases.collector`)."""
    by_household: dict[str, list[tuple[int, VervalItem]]] = {}
    for index, item in enumerate(items):
        by_household.setdefault(item[0], []).append((index, item))
    held = {h.no_kk for h in app.held.aggregates() if isinstance(h, Household)}
    held_first = sorted(by_household, key=lambda no_kk: no_kk not in held)
    households = [by_household[no_kk] for no_kk in held_first]
    size = bulk.chunk_size(len(households), unit_of_work.CHUNK, bulk.worker_count(app))
    jobs = []
    for _, part in chunks(households, size):
        chunk = [indexed for decisions in part for indexed in decisions]
        jobs.append((chunk[0][0], chunk))
    outcome = BulkOutcome()
    bulk.run_chunks(app, _verval_chunk, jobs, actor, outcome)
    return outcome


@retrying
def _verval_chunk(
    app: SalurApplication,
    _start: int,
    chunk: Sequence[tuple[int, VervalItem]],
    actor: Actor,
    outcome: BulkOutcome,
) -> None:
    """One transaction of `decide_verval_many`: the decisions of a chunk of households, each with its
    index in the input."""
    loaded = load_households(app, [app.household_id(no_kk) for _, (no_kk, _) in chunk])
    trial = BulkOutcome()
    for index, (no_kk, decision) in chunk:
        household = loaded.get(app.household_id(no_kk))
        if household is None:
            trial.rejected.append(
                Rejection(index, RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
            )
            continue
        household.decide_verval(decision, actor)
        trial.accepted += 1
    save(app, trial, *loaded.values(), hold=True)
    outcome.merge(trial)

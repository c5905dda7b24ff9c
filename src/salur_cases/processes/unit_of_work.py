"""The unit of work every command runs in: load many aggregates, let them decide, save, retry.

A command loads the aggregates it concerns (`load_many`, or one by one through the application's
reads), lets them decide, and saves every new event of the command in one transaction (`save`, with
optimistic concurrency on (id, version)). Invariants that span aggregates ride on that: a tahap's
seats live on its Program, a NIK's membership on its PersonClaim, a household's overlapping programs
on the Household itself. When a concurrent writer got there first the save conflicts, and the command
runs again on fresh state (`retrying`), where the rule now refuses it. A refusal raises before
anything is saved.

Bulk commands work through chunks of households (`chunks`), one transaction per chunk, with the cyclic
garbage collector paused, and report refused items (`Rejection`) instead of raising.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from salur_cases.collector import collector_paused
from salur_cases.domain.errors import StaleVersion
from salur_cases.domain.household import Household

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication

CHUNK = 1000
"""Households per transaction in bulk commands."""
ATTEMPTS = 50
"""Runs of a command before a version conflict is let through."""

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


@dataclass
class Written:
    """What a command wrote: the last position (notification id) of its events, if any."""

    position: int | None = None


@dataclass
class HouseholdOutcome(Written):
    """A household command's result: the household as it now stands, and whether it is new."""

    household: Household | None = None
    created: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass
class Rejection:
    """A refused item of a bulk command: its index in the input, a code, and a message without PII."""

    index: int
    code: str
    message: str
    field: str | None = None


@dataclass
class BulkOutcome(Written):
    """A bulk command's result."""

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    created: int = 0

    def merge(self, part: BulkOutcome) -> None:
        """Add a chunk's result."""
        self.accepted += part.accepted
        self.created += part.created
        self.rejected.extend(part.rejected)
        self.warnings.extend(part.warnings)
        if part.position is not None:
            self.position = max(self.position or 0, part.position)


@dataclass
class AllocationOutcome(Written):
    """An allocation's result: how many were assigned and left out, and the last rank that got a seat."""

    assigned: int = 0
    left_out: int = 0
    cutoff: int | None = None
    warnings: list[Rejection] = field(default_factory=list)
    created: int = 0


WARNING_TEXT = {
    "NOT_MATCHED": "recorded as a fact although the household's padan is not MATCHED",
    "NOT_ELIGIBLE": "recorded as a fact although the household's latest verval is not ELIGIBLE",
    "ALREADY_RECEIVING": "recorded as a fact although the household receives another program in that period",
    "REMOVED": "recorded as a fact although the household is removed from this program",
    "NOT_ASSIGNED": "recorded as a fact although the household holds no seat in this tahap",
    "AMOUNT_ABOVE_TAHAP": "recorded as a fact although the amount is above the tahap's",
    "ALREADY_PAID": "recorded as a fact although the household is already paid in this tahap",
    "NOT_PAID": "recorded as a fact although there is no standing PAID payment to return",
}


def warned(index: int, codes: Sequence[str]) -> list[Rejection]:
    """The broken rules of an item recorded as a fact, each with its text."""
    return [Rejection(index, code, WARNING_TEXT.get(code, code)) for code in codes]


def retrying(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command again when a concurrent writer changed an aggregate it read (the command keeps
    its name, so a bulk worker is handed it by reference)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return func(*args, **kwargs)
            except IntegrityError:
                backoff(attempt)
        return func(*args, **kwargs)

    return wrapper


def backoff(attempt: int) -> None:
    """Wait a little, more after each conflict, so racing writers spread out."""
    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter, not secrecy


def chunks(items: Sequence[T], size: int | None = None) -> Iterator[tuple[int, Sequence[T]]]:
    """The items cut into (start index, chunk) of `size`, by default `CHUNK`; the cyclic garbage
    collector is paused until the chunks are done with (`salur_cases.collector`), so a bulk command's
    aggregates and events are not walked again and again while it works through them."""
    size = size or CHUNK  # read at call time, so a test can make chunks small
    with collector_paused():
        for start in range(0, len(items), size):
            yield start, items[start : start + size]


def load_many(app: SalurApplication, ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
    """Load the aggregates among `ids` that exist, in order: those held at their stored version as
    they are, the others by reading all their events in one query."""
    wanted = list(dict.fromkeys(ids))
    loaded = app.held.take(wanted)
    if loaded:
        stored_versions = app.chained.max_originator_versions(list(loaded))
        loaded = {i: a for i, a in loaded.items() if stored_versions.get(i) == a.version}
    missing = [i for i in wanted if i not in loaded] if loaded else wanted
    for stored in app.chained.select_events_many(missing):
        event: Any = app.mapper.to_domain_event(stored)
        key = event.originator_id
        loaded[key] = event.mutate(loaded.get(key))
    return {i: a for i in wanted if (a := loaded.get(i)) is not None}


def load_households(app: SalurApplication, ids: Sequence[UUID]) -> dict[UUID, Household]:
    """`load_many` for ids known to be households."""
    return cast("dict[UUID, Household]", load_many(app, ids))


def save(app: SalurApplication, written: Written, *aggregates: Aggregate | None, hold: bool = False) -> None:
    """Save the aggregates' new events in one transaction; remember the last position written.

    `hold` keeps the saved households for the next bulk command: only for aggregates that are not
    handed back to a caller (who might read them while another command changes them).
    """
    events = [e for a in aggregates if a is not None for e in a.collect_events()]
    if events:
        positions = app.recorder.insert_events([app.mapper.to_stored_event(e) for e in events])
        if positions:
            written.position = max(written.position or 0, positions[-1])
    if hold:
        app.held.hold(a for a in aggregates if isinstance(a, Household))


def household_at(app: SalurApplication, no_kk: str, expected_version: int | None) -> Household:
    """The household, refused as stale when the caller read another version of it."""
    household = app.household(no_kk)
    if expected_version is not None and household.version != expected_version:
        raise StaleVersion(expected_version, household.version)
    return household


def saved(app: SalurApplication, household: Household, *others: Aggregate) -> HouseholdOutcome:
    """Save a household command's aggregates; the outcome carries the household as it now stands."""
    outcome = HouseholdOutcome(household=household)
    save(app, outcome, household, *others)
    return outcome

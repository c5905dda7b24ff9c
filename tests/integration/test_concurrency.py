"""Real threads racing on PostgreSQL: the quota, a NIK's claim and one program per period hold.

Each race starts at a `threading.Barrier`. Threads either share one application (eventsourcing
applications are thread-safe) or each build their own on the same schema, as separate processes would.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING

import pytest

from salur_cases.domain.errors import Refusal
from salur_cases.domain.vocabulary import BudgetSource
from salur_cases.processes import allocation, registration
from tests.builders import (
    DINSOS,
    KELURAHAN,
    define_program,
    no_kk_of,
    open_tahap,
    proposal,
    register_eligible,
    runtime_for,
    stored_events,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from salur_cases.application import SalurApplication
    from salur_cases.runtime import Runtime
    from tests.conftest import PgTarget

pytestmark = pytest.mark.postgres

THREADS = 8
HOUSEHOLDS = 300
QUOTA = 100


class Apps:
    """Applications on one PostgreSQL schema: the first one, and one per thread when asked."""

    def __init__(self, target: PgTarget, env_keys: dict[str, str], stack: ExitStack) -> None:
        self.target, self.env_keys, self.stack = target, env_keys, stack
        self.main = self.new()

    def new(self) -> SalurApplication:
        runtime: Runtime = runtime_for(self.target.url, self.target.schema, self.env_keys)
        self.stack.callback(runtime.close)
        return runtime.app

    def for_threads(self, style: str, count: int) -> list[SalurApplication]:
        """``count`` applications: the same one shared, or one each."""
        return [self.main if style == "shared" else self.new() for _ in range(count)]


@pytest.fixture
def apps(postgres_url: PgTarget, env_keys: dict[str, str]) -> Iterator[Apps]:
    with ExitStack() as stack:
        yield Apps(postgres_url, env_keys, stack)


def race(tasks: Sequence[Callable[[], list[str]]]) -> list[str]:
    """Run each task in its own thread, all released at once; the outcomes ("OK" or a refusal code)."""
    barrier = threading.Barrier(len(tasks))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(task: Callable[[], list[str]]) -> None:
        barrier.wait()
        try:
            result = task()
        except BaseException as error:  # reported by the test below
            with lock:
                errors.append(error)
            return
        with lock:
            outcomes.extend(result)

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def attempt(command: Callable[..., object], *args: object) -> str:
    """Run ``command(*args)``: "OK", or the code of the refusal."""
    try:
        command(*args)
    except Refusal as refusal:
        return str(refusal.code)
    return "OK"


@pytest.mark.parametrize("style", ["shared", "own"])
def test_threads_assigning_300_eligible_households_to_a_quota_of_100_fill_exactly_100_seats(
    apps: Apps, style: str
) -> None:
    app = apps.main
    define_program(app, "WALIKOTA")
    open_tahap(app, "WALIKOTA", 1, quota=QUOTA)
    register_eligible(app, range(HOUSEHOLDS))
    workers = apps.for_threads(style, THREADS)

    def assign_share(worker: SalurApplication, share: range) -> Callable[[], list[str]]:
        return lambda: [attempt(allocation.assign, worker, "WALIKOTA", 1, no_kk_of(n), DINSOS) for n in share]

    outcomes = race([assign_share(w, range(i, HOUSEHOLDS, THREADS)) for i, w in enumerate(workers)])

    assert Counter(outcomes) == {"OK": QUOTA, "QUOTA_FULL": HOUSEHOLDS - QUOTA}
    fresh = apps.new()
    tahap, holders = fresh.program("WALIKOTA").tahap[1], fresh.tahap_households("WALIKOTA", 1)
    assert tahap.assigned == len(set(holders)) == QUOTA
    assert tahap.committed_idr == QUOTA * tahap.amount_idr
    assigned = stored_events(app, "salur:household.Assigned")
    assert len(assigned) == len({e.originator_id for e in assigned}) == QUOTA
    assert {str(e.originator_id) for e in assigned} == set(holders)


@pytest.mark.parametrize("style", ["shared", "own"])
def test_two_registrations_racing_for_one_nik_leave_exactly_one_claim(apps: Apps, style: str) -> None:
    rounds = 10
    left, right = apps.for_threads(style, 2)

    def register(worker: SalurApplication, n: int, other: int) -> Callable[[], list[str]]:
        data = proposal(n)
        contested = proposal(other).members[0]
        claimant = type(data)(data.no_kk, data.source, data.address, [*data.members, contested])
        return lambda: [attempt(registration.register, worker, claimant, KELURAHAN)]

    for r in range(rounds):
        contested_owner = 1000 + r
        outcomes = race([register(left, 2 * r, contested_owner), register(right, 2 * r + 1, contested_owner)])
        assert sorted(outcomes) == ["NIK_IN_OTHER_HOUSEHOLD", "OK"]
        nik = proposal(contested_owner).members[0].nik
        holder = apps.main.household_by_nik(nik)
        assert holder is not None
        assert holder.no_kk in {no_kk_of(2 * r), no_kk_of(2 * r + 1)}
        assert [apps.main.household(no_kk_of(n)) for n in (2 * r, 2 * r + 1) if _exists(apps.main, n)] == [
            holder
        ]


def _exists(app: SalurApplication, n: int) -> bool:
    return attempt(app.household, no_kk_of(n)) == "OK"


@pytest.mark.parametrize("style", ["shared", "own"])
def test_two_programs_racing_for_one_household_in_the_same_month_give_it_one_seat(
    apps: Apps, style: str
) -> None:
    households = 10
    app = apps.main
    define_program(app, "WALIKOTA")
    define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
    open_tahap(app, "WALIKOTA", 1, month=5)
    open_tahap(app, "GUBERNUR", 1, month=5)
    register_eligible(app, range(households))
    walikota, gubernur = apps.for_threads(style, 2)

    for n in range(households):
        outcomes = race(
            [
                partial(
                    lambda n: [attempt(allocation.assign, walikota, "WALIKOTA", 1, no_kk_of(n), DINSOS)], n
                ),
                partial(
                    lambda n: [attempt(allocation.assign, gubernur, "GUBERNUR", 1, no_kk_of(n), DINSOS)], n
                ),
            ]
        )
        assert sorted(outcomes) == ["ALREADY_RECEIVING", "OK"]
        assert len(app.household(no_kk_of(n)).seats) == 1

    taken = app.program("WALIKOTA").tahap[1].assigned + app.program("GUBERNUR").tahap[1].assigned
    assert taken == households

"""Allocations of one tahap released together, on SQLite and PostgreSQL: the quota holds exactly, the
first allocation takes the seats and the late ones find none left and answer without error, having
recorded nothing; a full tahap still tells a newly eligible household why (QUOTA_EXHAUSTED), once.
And a candidate folded for the city's rule stands as its Household aggregate does.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import date
from typing import TYPE_CHECKING

import pytest

from salur_cases.domain.commands import ReinstateHousehold, RemoveHousehold, TransferHousehold
from salur_cases.domain.vocabulary import BudgetSource, PaymentStatus
from salur_cases.processes import allocation, disbursement, withdrawal
from salur_cases.processes.unit_of_work import AllocationOutcome
from tests.builders import (
    DINSOS,
    define_program,
    no_kk_of,
    open_tahap,
    payment,
    register_eligible,
    runtime_for,
    stored_events,
)

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication
    from tests.conftest import StoreTarget

ALLOCATIONS = 6
HOUSEHOLDS = 60
QUOTA = 20


def race(apps: list[SalurApplication]) -> list[AllocationOutcome]:
    """One allocation of WALIKOTA tahap 1 per application, each in its own thread, all released at once."""
    barrier = threading.Barrier(len(apps))
    outcomes: list[AllocationOutcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(app: SalurApplication) -> None:
        barrier.wait()
        try:
            outcome = allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        except BaseException as error:  # reported by the test
            with lock:
                errors.append(error)
            return
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.parametrize("style", ["shared", "own"])
def test_allocations_released_together_on_one_tahap_fill_the_quota_once_and_the_late_ones_record_nothing(
    store_url: StoreTarget, env_keys: dict[str, str], style: str
) -> None:
    with ExitStack() as stack:

        def new_app() -> SalurApplication:
            runtime = runtime_for(store_url.url, store_url.schema, env_keys)
            stack.callback(runtime.close)
            return runtime.app

        app = new_app()
        define_program(app, "WALIKOTA")
        open_tahap(app, "WALIKOTA", 1, quota=QUOTA)
        register_eligible(app, range(HOUSEHOLDS))
        before = app.recorder.max_notification_id() or 0
        apps = [app if style == "shared" else new_app() for _ in range(ALLOCATIONS)]

        outcomes = race(apps)

        first, *late = sorted(outcomes, key=lambda o: -o.assigned)
        assert (first.assigned, first.left_out, first.cutoff) == (QUOTA, HOUSEHOLDS - QUOTA, QUOTA)
        assert [(o.assigned, o.left_out, o.position) for o in late] == [(0, 0, None)] * (ALLOCATIONS - 1)
        assert first.position == app.recorder.max_notification_id()
        tahap = new_app().program("WALIKOTA").tahap[1]
        assert tahap.assigned == QUOTA
        holders = app.tahap_households("WALIKOTA", 1)
        assigned = stored_events(app, "salur:household.Assigned")
        assert len(holders) == len(set(holders)) == len(assigned) == QUOTA
        assert {str(e.originator_id) for e in assigned} == set(holders)
        left_out = stored_events(app, "salur:household.LeftOut")
        assert len(left_out) == HOUSEHOLDS - QUOTA
        written = (app.recorder.max_notification_id() or 0) - before
        assert written == HOUSEHOLDS + 1  # one event per household and the program's seats


def test_on_a_full_tahap_an_allocation_records_only_the_new_candidates_and_then_answers_at_once(
    store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        app = runtime.app
        define_program(app, "WALIKOTA")
        open_tahap(app, "WALIKOTA", 1, quota=3)
        register_eligible(app, range(6))
        first = allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        assert (first.assigned, first.left_out) == (3, 3)
        nothing_new = allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        assert (nothing_new.assigned, nothing_new.left_out, nothing_new.position) == (0, 0, None)

        register_eligible(app, range(6, 8))  # eligible after the tahap filled: told why, once
        again = allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        assert (again.assigned, again.left_out) == (0, 2)
        quota_exhausted = [
            e.originator_id
            for e in stored_events(app, "salur:household.LeftOut")
            if e.code == "QUOTA_EXHAUSTED"
        ]
        assert sorted(quota_exhausted) == sorted(app.household_id(no_kk_of(n)) for n in range(3, 8))
        written = app.recorder.max_notification_id()
        assert allocation.allocate(app, "WALIKOTA", 1, DINSOS).left_out == 0
        assert app.recorder.max_notification_id() == written
    finally:
        runtime.close()


def test_a_candidate_folded_from_the_events_stands_as_its_household_aggregate(
    store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        app = runtime.app
        define_program(app, "WALIKOTA")
        define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
        open_tahap(app, "WALIKOTA", 1, quota=4)
        open_tahap(app, "WALIKOTA", 2, month=6, quota=4)
        open_tahap(app, "GUBERNUR", 1, month=6, quota=3)
        register_eligible(app, range(10), verval_on=date(2020, 5, 3))
        allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        disbursement.record_payments(app, "WALIKOTA", 1, [payment(n) for n in range(3)], DINSOS)
        returned = payment(1, status=PaymentStatus.RETURNED)
        disbursement.record_payments(app, "WALIKOTA", 1, [returned], DINSOS, as_fact=True)
        withdrawal.remove(
            app, no_kk_of(2), RemoveHousehold("WALIKOTA", 2, "DINSOS", "pindah", "SK 9"), DINSOS
        )
        withdrawal.transfer(
            app, no_kk_of(3), TransferHousehold("WALIKOTA", 1, "GUBERNUR", "DINSOS", "pindah"), DINSOS
        )
        withdrawal.reinstate(app, no_kk_of(3), ReinstateHousehold("WALIKOTA", 1, "DINSOS", "kembali"), DINSOS)
        allocation.allocate_roster(app, "GUBERNUR", 1, "PROVINSI", [no_kk_of(4), no_kk_of(5)], DINSOS)
        allocation.allocate(app, "WALIKOTA", 2, DINSOS)

        ids = [app.household_id(no_kk_of(n)) for n in range(10)]
        candidates = allocation.load_candidates(app, ids)
        for n, household_id in enumerate(ids):
            household, candidate = app.household(no_kk_of(n)), candidates[household_id]
            assert (candidate.version, candidate.registered_at, candidate.verval_on) == (
                household.version,
                household.registered_at,
                household.verval_on,
            )
            assert (candidate.city_proposed, candidate.left_out) == (
                household.city_proposed,
                household.left_out,
            )
            for program, tahap, starts, ends in [
                ("WALIKOTA", 1, date(2020, 5, 1), date(2020, 5, 31)),
                ("WALIKOTA", 3, date(2020, 6, 15), date(2020, 7, 15)),
                ("GUBERNUR", 2, date(2020, 6, 1), date(2020, 6, 30)),
            ]:
                assert candidate.city_rule_problem(
                    program, tahap, starts, ends
                ) == household.city_rule_problem(program, tahap, starts, ends)
                assert candidate.paid_in(program, tahap) == household.paid_in(program, tahap)
    finally:
        runtime.close()

"""Random command sequences never break an invariant, and replaying the stored events rebuilds the state.

Six households, three programs (Bantuan Walikota for May and June, Bantuan Gubernur for May, BST over
May and June) and every kind of command, refusals included. Each example runs on a fresh store: a SQLite
file, or a fresh PostgreSQL schema.
"""

from __future__ import annotations

import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salur_cases.domain.commands import (
    DecideVerval,
    MoveMember,
    OpenTahap,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
    TransferHousehold,
)
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.vocabulary import BudgetSource, PadanResult, PaymentStatus, VervalDecision
from salur_cases.processes import allocation, disbursement, padan, programs, registration, verval, withdrawal
from salur_cases.projections.views import household_view
from tests.builders import (
    DINSOS,
    DUKCAPIL,
    KELURAHAN,
    define_program,
    no_kk_of,
    payment,
    proposal,
    runtime_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salur_cases.application import SalurApplication
    from salur_cases.domain.household import Household
    from tests.conftest import StoreTarget

HOUSEHOLDS = range(6)
AMOUNT = 500_000
# (program, tahap) -> (budget source, first month, last month, quota, ceiling)
TAHAP = {
    ("WALIKOTA", 1): (BudgetSource.APBD_KOTA, 5, 5, 3, 2 * AMOUNT),
    ("WALIKOTA", 2): (BudgetSource.APBD_KOTA, 6, 6, 2, 2 * AMOUNT),
    ("GUBERNUR", 1): (BudgetSource.APBD_PROVINSI, 5, 5, 2, 3 * AMOUNT),
    ("BST", 1): (BudgetSource.APBN, 5, 6, 1, AMOUNT),
}
PROGRAMS = sorted({p for p, _ in TAHAP})

households = st.sampled_from(HOUSEHOLDS)
tahap = st.sampled_from(sorted(TAHAP))
commands = st.one_of(
    st.tuples(
        st.just("register"),
        households,
        st.sampled_from(["KELURAHAN", "SELF", "DINAS:Pertanian", "KEMENSOS"]),
        st.none() | households,
    ),
    st.tuples(st.just("padan"), households, st.sampled_from([PadanResult.MATCHED, PadanResult.NOT_EKTP])),
    st.tuples(st.just("verval"), households, st.sampled_from(list(VervalDecision)), st.integers(1, 20)),
    st.tuples(st.just("assign"), tahap, households),
    st.tuples(st.just("allocate"), tahap),
    st.tuples(st.just("pay"), tahap, households, st.sampled_from(list(PaymentStatus)), st.booleans()),
    st.tuples(st.just("remove"), tahap, households),
    st.tuples(st.just("reinstate"), tahap, households),
    st.tuples(st.just("transfer"), tahap, households, st.sampled_from(PROGRAMS)),
    st.tuples(st.just("roster"), tahap, st.lists(households, max_size=3)),
    st.tuples(st.just("move"), households, households),
)


@dataclass
class Store:
    """Where one example keeps its events."""

    url: str
    schema: str | None


@contextmanager
def fresh_store(target: StoreTarget) -> Iterator[Store]:
    """A new SQLite file, or a new schema in the target's PostgreSQL database (dropped after)."""
    if target.kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield Store(f"sqlite:///{directory}/salur.db", None)
        return
    schema = f"p_{secrets.token_hex(6)}"
    with psycopg.connect(target.url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Store(target.url, schema)
    finally:
        with psycopg.connect(target.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def set_up(app: SalurApplication) -> None:
    for program in PROGRAMS:
        define_program(app, program, next(s for (p, _), (s, *_) in TAHAP.items() if p == program))
    for (program, number), (_, first, last, quota, ceiling) in TAHAP.items():
        ends = date(2020, last + 1, 1).toordinal() - 1
        programs.open_tahap(
            app,
            program,
            OpenTahap(number, date(2020, first, 1), date.fromordinal(ends), quota, AMOUNT, ceiling, "SK"),
            DINSOS,
        )


def run(app: SalurApplication, command: tuple[Any, ...]) -> None:  # noqa: PLR0912 - one branch per command
    """Run one command; a refusal or invalid input must have written nothing."""
    before = app.recorder.max_notification_id()
    kind, *args = command
    try:
        if kind == "register":
            n, source, steal = args
            data = proposal(n, source=source)
            if steal is not None and steal != n:
                stolen = proposal(steal).members[0]
                data = type(data)(data.no_kk, data.source, data.address, [*data.members, stolen])
            registration.register(app, data, KELURAHAN)
        elif kind == "padan":
            padan.record_padan(
                app, no_kk_of(args[0]), RecordPopulationMatch(args[1], date(2020, 5, 2)), DUKCAPIL
            )
        elif kind == "verval":
            n, decision, day = args
            verval.decide_verval(
                app,
                no_kk_of(n),
                DecideVerval(decision, "cek lapangan", "petugas", date(2020, 5, day)),
                DINSOS,
            )
        elif kind == "assign":
            (program, number), n = args
            allocation.assign(app, program, number, no_kk_of(n), DINSOS)
        elif kind == "allocate":
            program, number = args[0]
            allocation.allocate(app, program, number, DINSOS)
        elif kind == "pay":
            (program, number), n, status, above = args
            disbursement.record_payments(app, program, number, [payment(n, AMOUNT + above, status)], DINSOS)
        elif kind == "remove":
            (program, number), n = args
            withdrawal.remove(
                app, no_kk_of(n), RemoveHousehold(program, number, "KEMENSOS", "cleansing", "SK"), DINSOS
            )
        elif kind == "reinstate":
            (program, number), n = args
            withdrawal.reinstate(
                app, no_kk_of(n), ReinstateHousehold(program, number, "DINSOS", "aduan"), DINSOS
            )
        elif kind == "transfer":
            (program, number), n, to = args
            withdrawal.transfer(
                app, no_kk_of(n), TransferHousehold(program, number, to, "DINSOS", "pindah program"), DINSOS
            )
        elif kind == "roster":
            (program, number), listed = args
            allocation.allocate_roster(
                app, program, number, "KEMENSOS", [no_kk_of(n) for n in listed], DINSOS
            )
        elif kind == "move":
            n, to = args
            moving = proposal(n).members[1].nik
            registration.move_member(
                app, no_kk_of(n), MoveMember(moving, no_kk_of(to), "pindah KK", "KK baru"), DINSOS
            )
    except (Refusal, InvalidCommand):
        assert app.recorder.max_notification_id() == before, command


def existing(app: SalurApplication) -> dict[int, Household]:
    found: dict[int, Household] = {}
    for n in HOUSEHOLDS:
        try:
            found[n] = app.household(no_kk_of(n))
        except Refusal:
            continue
    return found


def standing_paid_at_most_once(household: Household) -> None:
    for seat in household.seats.values():
        standing = 0
        for p in seat.payments:
            if p.status is PaymentStatus.PAID:
                standing += 1
                assert p.amount_idr <= seat.amount_idr
            elif p.status is PaymentStatus.RETURNED:
                standing = max(0, standing - 1)
            assert standing <= 1, (seat.program, seat.tahap)


def check_invariants(app: SalurApplication) -> None:
    homes = existing(app)

    members = [m.nik for h in homes.values() for m in h.members]
    assert len(members) == len(set(members)), "a NIK in two households"
    for n, household in homes.items():
        for nik in household.niks:
            holder = app.household_by_nik(nik)
            assert holder is not None
            assert holder.id == household.id, n

    for n, household in homes.items():
        city = [
            s
            for s in household.seats.values()
            if s.authority is None and not household.withdrawal(s.program, s.tahap)
        ]
        for a in city:
            for b in city:
                overlapping = a.starts_on <= b.ends_on and b.starts_on <= a.ends_on
                assert a.program == b.program or not overlapping, (n, a.program, b.program)
        standing_paid_at_most_once(household)

    for code in PROGRAMS:
        program = app.program(code)
        for number, t in program.tahap.items():
            holders = sorted(str(h.id) for h in homes.values() if (code, number) in h.seats)
            assert sorted(app.tahap_households(code, number)) == holders, (code, number)
            by_city = sum(
                1 for h in homes.values() if (s := h.seats.get((code, number))) and s.authority is None
            )
            assert by_city <= t.quota, (code, number)
            assert by_city * t.amount_idr <= t.budget_ceiling_idr, (code, number)


def state(app: SalurApplication) -> dict[str, Any]:
    return {
        "households": {n: household_view(h) for n, h in existing(app).items()},
        "programs": {code: app.program(code).tahap for code in PROGRAMS},
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(commands, min_size=5, max_size=40))
def test_every_invariant_holds_and_replay_rebuilds_the_same_state(
    script: list[tuple[Any, ...]], store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    with fresh_store(store_url) as store:
        runtime = runtime_for(store.url, store.schema, env_keys)
        try:
            set_up(runtime.app)
            for command in script:
                run(runtime.app, command)
            check_invariants(runtime.app)
            told = state(runtime.app)
        finally:
            runtime.close()

        replay = runtime_for(store.url, store.schema, env_keys)
        try:
            assert state(replay.app) == told
        finally:
            replay.close()

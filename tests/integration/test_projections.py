"""The read models equal a fold over the events, on SQLite and PostgreSQL, whatever the history.

Random histories are built through the application's commands (never by writing rows), applied by
the runner in random batch sizes at random moments, and compared with the aggregates folded by the
domain itself. Rebuilds, the migrations, the CLI and the live runner are checked here too.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from alembic import command
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import String, select

from salur_cases import tables as t
from salur_cases.application import SalurApplication
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import WIB, recording_at
from salur_cases.domain.commands import (
    CorrectHousehold,
    DecideVerval,
    DefineProgram,
    FileComplaint,
    MoveMember,
    OpenTahap,
    ProposeHousehold,
    RecordPayment,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
    TransferHousehold,
)
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.household import Household
from salur_cases.domain.program import Program
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.identifiers import keyed_hex
from salur_cases.processes import (
    allocation,
    complaints,
    disbursement,
    padan,
    programs,
    registration,
    verval,
    withdrawal,
)
from salur_cases.processes.bulk import worker_count
from salur_cases.projections import runner
from salur_cases.projections.migrate import SchemaOutOfDate, alembic_config, ensure_current, upgrade
from salur_cases.projections.projector import BatchProjection, Page, fold_name, mask_name, wib_date
from salur_cases.projections.runner import (
    analyze,
    catch_up,
    following,
    position,
    rebuild,
    run_forever,
    status,
)
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings

DINSOS = Actor("officer", Role.DINSOS)
START = datetime(2020, 4, 20, 9, tzinfo=WIB)


def kk(i: int) -> str:
    """A valid No. KK of Bogor Selatan."""
    return f"327101150420{i + 1:04d}"


def nik(i: int, j: int) -> str:
    """A valid NIK (member j of household i)."""
    return f"32710115049{j}{i + 1:04d}"


def target_url(target: Any) -> str:
    """The SALUR_DATABASE_URL of a StoreTarget."""
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


def runtime_for(url: str, env_keys: dict[str, str]) -> Runtime:
    """A migrated runtime."""
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": url, **env_keys}))
    upgrade(runtime)
    return runtime


@contextmanager
def fresh_runtime(kind: str, base: Any, env_keys: dict[str, str], tmp: Path) -> Iterator[Runtime]:
    """A runtime on a brand-new database (a new SQLite file, or a new PostgreSQL schema)."""
    name = secrets.token_hex(5)
    if kind == "sqlite":
        runtime = runtime_for(f"sqlite:///{tmp / f'{name}.db'}", env_keys)
        try:
            yield runtime
        finally:
            runtime.close()
        return
    schema = f"h_{name}"
    runtime = runtime_for(f"{base.url}?schema={schema}", env_keys)
    try:
        yield runtime
    finally:
        runtime.close()
        with psycopg.connect(base.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def proposal(i: int, members: int = 2, source: str = "KELURAHAN", rt: str = "1") -> Any:
    """A household proposal with `members` members."""
    names = ["Budi Santoso", "Siti Aminah", "Agus Salim", "Dewi Lestari"]
    return ProposeHousehold.from_data(
        {
            "no_kk": kk(i),
            "source": {"kind": source},
            "address": {"kecamatan": "Bogor Selatan", "kelurahan": "Batutulis", "rw": "1", "rt": rt},
            "members": [
                {
                    "nik": nik(i, j),
                    "name": f"{names[j % 4]} {i}",
                    "relationship": "KEPALA KELUARGA" if j == 0 else "ANAK",
                }
                for j in range(members)
            ],
        }
    )


def define_programs(app: SalurApplication) -> None:
    """WALIKOTA (APBD Kota) tahap 1-2 and BLT (APBN) tahap 1, overlapping WALIKOTA's tahap 1."""
    programs.define_program(
        app,
        DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
        DINSOS,
    )
    programs.define_program(
        app, DefineProgram("BLT", "BLT Kemensos", BudgetSource.APBN, ProgramGroup.NON_DTKS), DINSOS
    )
    programs.open_tahap(
        app,
        "WALIKOTA",
        OpenTahap(1, date(2020, 4, 27), date(2020, 5, 26), 2, 500_000, 1_000_000, "SK-W1"),
        DINSOS,
    )
    programs.open_tahap(
        app,
        "WALIKOTA",
        OpenTahap(2, date(2020, 5, 27), date(2020, 6, 26), 3, 500_000, 1_500_000, "SK-W2"),
        DINSOS,
    )
    programs.open_tahap(
        app,
        "BLT",
        OpenTahap(1, date(2020, 5, 1), date(2020, 5, 31), 2, 600_000, 1_200_000, "SK-BLT1"),
        DINSOS,
    )


# --- the fold the tables must equal ----------------------------------------------------------------


def household_ids(app: SalurApplication) -> list[Any]:
    """Every household in the store."""
    return allocation.city_candidates(app)


def expected(runtime: Runtime) -> dict[str, Any]:
    """The read models' content as the domain's own fold of the events says it must be."""
    app, key = runtime.app, runtime.settings.id_key
    households, seats, statuses, withdrawals, persons, ledger = {}, {}, {}, [], {}, []
    for hid in household_ids(app):
        h = cast("Household", app.repository.get(hid))
        households[str(hid)] = (
            h.no_kk,
            h.version,
            h.address.kecamatan if h.address else None,
            h.address.kelurahan if h.address else None,
            h.city_proposed,
            str(h.padan) if h.padan else None,
            h.padan_on,
            str(h.verval) if h.verval else None,
            h.verval_on,
            [
                (
                    keyed_hex(key, "nik", m.nik),
                    keyed_hex(key, "name", fold_name(m.name)),
                    mask_name(m.name),
                    m.relationship,
                )
                for m in h.members
            ],
        )
        for m in h.members:
            persons[keyed_hex(key, "nik", m.nik)] = str(hid)
        for (program, number), seat in h.seats.items():
            state = "REMOVED" if h.withdrawal(program, number) else seat.state
            seats[str(hid), program, number] = (state, seat.amount_idr, seat.authority, seat.paid)
            statuses[str(hid), program, number] = (state, None)
        for (program, number), code in h.left_out.items():
            statuses[str(hid), program, number] = ("LEFT_OUT", code)
        withdrawals.extend(
            (str(hid), w.kind, w.program, w.tahap, w.to_program, w.reinstated, w.effective_on)
            for w in h.withdrawals
        )
        ledger.extend(_ledger_of(app, hid))
    tahap_rows = {}
    for code in ("WALIKOTA", "BLT"):
        program = cast("Program", app.repository.get(Program.create_id(code)))
        for number, tahap in program.tahap.items():
            tahap_rows[code, number] = (
                tahap.quota,
                tahap.amount_idr,
                tahap.budget_ceiling_idr,
                tahap.decree_ref,
                tahap.assigned,
                tahap.committed_idr,
                tahap.roster_hash,
            )
    head = app.recorder.max_notification_id() or 0
    return {
        "households": households,
        "seats": seats,
        "statuses": statuses,
        "withdrawals": sorted(withdrawals),
        "persons": persons,
        "ledger": sorted(ledger),
        "programs": tahap_rows,
        "timeline": list(range(1, head + 1)),
    }


def _ledger_of(app: SalurApplication, hid: Any) -> list[tuple[Any, ...]]:
    """Every payment event of the household, flagged when paid within the effect of any removal or
    transfer, however late that removal was recorded (folded from the events)."""
    payments: list[tuple[Any, bool]] = []
    removals: list[dict[str, Any]] = []
    seated: set[tuple[str, int]] = set()
    for event in (app.mapper.to_domain_event(s) for s in app.recorder.select_events(hid)):
        name = type(event).__name__
        if name == "Assigned":
            seated.add((event.program, event.tahap))
        elif name in {"Removed", "Transferred"}:
            program = getattr(event, "program", None) or event.from_program
            number = getattr(event, "tahap", None) or event.from_tahap
            removals.append(
                {"program": program, "tahap": number, "effective_on": event.effective_on, "until": None}
            )
        elif name == "Reinstated":
            for w in removals:
                if w["until"] is None and w["program"] == event.program and w["tahap"] <= event.tahap:
                    w["until"] = event.effective_on
        elif name == "PaymentRecorded":
            payments.append((event, (event.program, event.tahap) in seated))
    rows = []
    for event, was_seated in payments:
        paid_on = wib_date(event.paid_at)
        flagged = event.status == "PAID" and any(
            w["program"] == event.program
            and w["tahap"] <= event.tahap
            and w["effective_on"] <= paid_on
            and (w["until"] is None or paid_on < w["until"])
            for w in removals
        )
        rows.append(
            (
                str(hid),
                event.program,
                event.tahap,
                event.amount_idr,
                event.status,
                event.reference,
                flagged,
                was_seated,
            )
        )
    return rows


def actual(runtime: Runtime) -> dict[str, Any]:
    """The read models' content, in the shape of `expected`."""
    with runtime.engine.connect() as conn:

        def rows(table: Any) -> list[Any]:
            return list(conn.execute(select(table)))

        return {
            "households": {
                r.household_id: (
                    r.no_kk,
                    r.version,
                    r.kecamatan,
                    r.kelurahan,
                    r.city_proposed,
                    r.padan,
                    r.padan_on,
                    r.verval,
                    r.verval_on,
                    [(m["nik_hash"], m["name_hash"], m["masked_name"], m["relationship"]) for m in r.members],
                )
                for r in rows(t.household)
            },
            "seats": {
                (r.household_id, r.program, r.tahap): (r.state, r.amount_idr, r.authority, r.paid)
                for r in rows(t.tahap_roster)
            },
            "statuses": {
                (r.household_id, r.program, r.tahap): (r.state, r.left_out_code)
                for r in rows(t.household_status)
            },
            "withdrawals": sorted(
                (
                    r.household_id,
                    r.kind,
                    r.program,
                    r.tahap,
                    r.to_program,
                    r.reinstated_at is not None,
                    r.effective_on,
                )
                for r in rows(t.withdrawal)
            ),
            "persons": {r.nik_hash: r.household_id for r in rows(t.person_index)},
            "ledger": sorted(
                (
                    r.household_id,
                    r.program,
                    r.tahap,
                    r.amount_idr,
                    r.status,
                    r.reference,
                    r.after_removal,
                    r.seated,
                )
                for r in rows(t.payment_ledger)
            ),
            "programs": {
                (r.program, r.tahap): (
                    r.quota,
                    r.amount_idr,
                    r.budget_ceiling_idr,
                    r.decree_ref,
                    r.assigned,
                    r.committed_idr,
                    r.roster_hash,
                )
                for r in rows(t.program_tahap)
            },
            "timeline": [
                r.position
                for r in conn.execute(select(t.timeline.c.position).order_by(t.timeline.c.position))
            ],
        }


def dump(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table (for comparing two runs exactly)."""
    with runtime.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(str(v) for v in r) for r in conn.execute(select(table))), key=lambda r: r
            )
            for table in t.VIEW_TABLES
        }


# --- random histories --------------------------------------------------------------------------

OPS = st.one_of(
    st.tuples(st.just("padan"), st.integers(0, 4), st.sampled_from(list(PadanResult))),
    st.tuples(st.just("verval"), st.integers(0, 4), st.sampled_from(list(VervalDecision))),
    st.tuples(
        st.just("allocate"), st.sampled_from([("WALIKOTA", 1), ("WALIKOTA", 2), ("BLT", 1)]), st.none()
    ),
    st.tuples(
        st.just("roster"),
        st.sampled_from([("WALIKOTA", 2), ("BLT", 1)]),
        st.sets(st.integers(0, 5), max_size=4),
    ),
    st.tuples(
        st.just("pay"),
        st.integers(0, 4),
        st.tuples(
            st.sampled_from([("WALIKOTA", 1), ("WALIKOTA", 2), ("BLT", 1)]),
            st.sampled_from(list(PaymentStatus)),
            st.booleans(),
        ),
    ),
    st.tuples(st.just("remove"), st.integers(0, 4), st.tuples(st.sampled_from([1, 2]), st.integers(-20, 5))),
    st.tuples(st.just("reinstate"), st.integers(0, 4), st.sampled_from([1, 2])),
    st.tuples(st.just("transfer"), st.integers(0, 4), st.sampled_from([1, 2])),
    st.tuples(
        st.just("correct"),
        st.integers(0, 4),
        st.sampled_from(["members[0].name", "members[1].nik", "address.rt"]),
    ),
    st.tuples(st.just("move"), st.integers(0, 4), st.integers(0, 4)),
    st.tuples(st.just("repropose"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("complaint"), st.integers(0, 4), st.none()),
    st.tuples(st.just("catch_up"), st.integers(1, 7), st.none()),
)


def run_op(runtime: Runtime, op: tuple[Any, Any, Any], step: int) -> None:  # noqa: PLR0912
    """Apply one random command; refusals are part of the story."""
    app = runtime.app
    name, a, b = op
    with suppress(Refusal, InvalidCommand):
        if name == "padan":
            padan.record_padan(app, kk(a), RecordPopulationMatch(b, START.date()), DINSOS)
        elif name == "verval":
            verval.decide_verval(
                app,
                kk(a),
                DecideVerval(b, "field visit", "Pak Lurah", START.date() + timedelta(days=a)),
                DINSOS,
            )
        elif name == "allocate":
            allocation.allocate(app, a[0], a[1], DINSOS)
        elif name == "roster":
            allocation.allocate_roster(app, a[0], a[1], "KEMENSOS", [kk(i) for i in sorted(b)], DINSOS)
        elif name == "pay":
            (program, number), payment_status, fact = b
            item = RecordPayment(
                kk(a), 500_000, (START + timedelta(days=step)).isoformat(), payment_status, f"REF-{step}"
            )
            disbursement.record_payments(app, program, number, [item], DINSOS, as_fact=fact)
        elif name == "remove":
            number, shift = b
            withdrawal.remove(
                app,
                kk(a),
                RemoveHousehold(
                    "WALIKOTA",
                    number,
                    "KEMENSOS",
                    "cleansing",
                    f"SK-C{step}",
                    effective_on=START.date() + timedelta(days=step + shift),
                ),
                DINSOS,
            )
        elif name == "reinstate":
            withdrawal.reinstate(
                app,
                kk(a),
                ReinstateHousehold(
                    "WALIKOTA", b, "DINSOS", "aduan upheld", effective_on=START.date() + timedelta(days=step)
                ),
                DINSOS,
            )
        elif name == "transfer":
            withdrawal.transfer(
                app, kk(a), TransferHousehold("WALIKOTA", b, "BLT", "DINSOS", "moved to Kemensos"), DINSOS
            )
        elif name == "correct":
            value = {
                "members[0].name": f"Budi Koreksi {step}",
                "members[1].nik": nik(a, 9),
                "address.rt": str(step),
            }[b]
            registration.correct(app, kk(a), CorrectHousehold(b, value, "KK scan"), DINSOS)
        elif name == "move":
            registration.move_member(app, kk(a), MoveMember(nik(a, 1), kk(b), "married", "KK scan"), DINSOS)
        elif name == "repropose":
            registration.register(app, proposal(a, b, "SELF" if a % 2 else "KELURAHAN", rt=str(b)), DINSOS)
        elif name == "complaint":
            complaints.file_complaint(app, kk(a), FileComplaint("WALK_IN", "why was I dropped?"), DINSOS)
        elif name == "catch_up":
            catch_up(runtime, a)


def build_history(runtime: Runtime, ops: list[tuple[Any, Any, Any]]) -> None:
    """Programs, five households, then the random commands, a day apart."""
    with recording_at(START):
        define_programs(runtime.app)
        registration.register_many(
            runtime.app, [proposal(i, 2 + i % 2, "DTKS" if i == 4 else "KELURAHAN") for i in range(5)], DINSOS
        )
    for step, op in enumerate(ops, start=1):
        with recording_at(START + timedelta(days=step)):
            run_op(runtime, op, step)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=3, max_size=25), batch=st.integers(1, 40))
def test_projections_equal_a_fold_over_the_events(
    store_url: Any, env_keys: dict[str, str], tmp_path: Path, ops: list[Any], batch: int
) -> None:
    note(f"ops={ops!r} batch={batch}")
    with fresh_runtime(store_url.kind, store_url, env_keys, tmp_path) as runtime:
        build_history(runtime, ops)
        catch_up(runtime, batch)
        assert actual(runtime) == expected(runtime)


# --- one fixed history for the other checks ------------------------------------------------------

FIXED_OPS: list[tuple[Any, Any, Any]] = [
    *(("padan", i, PadanResult.MATCHED) for i in range(4)),
    *(("verval", i, VervalDecision.ELIGIBLE) for i in range(4)),
    ("allocate", ("WALIKOTA", 1), None),
    ("pay", 0, (("WALIKOTA", 1), PaymentStatus.PAID, False)),
    ("pay", 1, (("WALIKOTA", 1), PaymentStatus.FAILED, False)),
    ("remove", 0, (2, -10)),
    ("allocate", ("WALIKOTA", 2), None),
    ("pay", 0, (("WALIKOTA", 2), PaymentStatus.PAID, True)),
    ("roster", ("BLT", 1), {2, 5}),
    ("correct", 3, "members[0].name"),
    ("move", 3, 2),
]


@pytest.fixture
def story(store_url: Any, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """A migrated runtime holding the fixed history (not yet projected)."""
    runtime = runtime_for(target_url(store_url), env_keys)
    build_history(runtime, FIXED_OPS)
    yield runtime
    runtime.close()


def test_rebuild_gives_the_same_rows_as_incremental_catch_up(story: Runtime) -> None:
    for size in (1, 3, 1000):
        catch_up(story, size)
    incremental = dump(story)
    assert rebuild(story) == story.app.recorder.max_notification_id()
    assert dump(story) == incremental
    assert actual(story) == expected(story)


def test_a_rebuild_in_batches_of_any_size_gives_the_rows_of_one_batch(story: Runtime) -> None:
    """On PostgreSQL each batch is folded while the one before is written, from that one's households:
    every boundary between two batches must give the rows a single batch gives."""
    catch_up(story, 1000)
    whole = dump(story)
    for size in (1, 2, 3, 5, 8):
        runtime = Runtime(replace(story.settings, projection_batch=size))
        try:
            assert rebuild(runtime) == story.app.recorder.max_notification_id()
            assert dump(runtime) == whole, f"batches of {size}"
        finally:
            runtime.close()


def test_status_reports_the_lag_in_events(story: Runtime) -> None:
    head = story.app.recorder.max_notification_id()
    assert status(story) == {"position": 0, "head": head, "lag": head}
    catch_up(story, 5)
    assert status(story) == {"position": head, "head": head, "lag": 0}


def test_the_live_runner_follows_new_events(story: Runtime) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(story, stop), daemon=True)
    thread.start()
    try:
        from salur_cases.projections.queries import wait_for_position  # noqa: PLC0415

        assert wait_for_position(story, story.app.recorder.max_notification_id() or 0, timeout=20)
        written = complaints.file_complaint(
            story.app, kk(1), FileComplaint("WALK_IN", "kapan cair?"), DINSOS
        )[1]
        assert written.position is not None
        assert wait_for_position(story, written.position, timeout=20)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_two_runners_at_once_apply_every_event_once(story: Runtime, env_keys: dict[str, str]) -> None:
    other = Runtime(story.settings)
    errors: list[BaseException] = []

    def run(runtime: Runtime) -> None:
        try:
            catch_up(runtime, 2)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(r,)) for r in (story, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert not errors
    assert actual(story) == expected(story)


def test_a_sqlite_batch_overtaken_between_its_fold_and_its_lock_is_not_applied_twice(
    sqlite_url: str, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = runtime_for(sqlite_url, env_keys)
    other = Runtime(runtime.settings)
    folded: list[int] = []
    fold = BatchProjection.fold

    def overtaken(projection: BatchProjection, page: Page) -> None:
        folded.append(page.records[0].position)
        if len(folded) == 1:  # another runner applies everything while the first batch folds
            catch_up(other, 3)
        fold(projection, page)

    monkeypatch.setattr(BatchProjection, "fold", overtaken)
    try:
        build_history(runtime, FIXED_OPS)
        head = runtime.app.recorder.max_notification_id()
        assert catch_up(runtime, 5) == head
        assert folded[:3] == [1, 1, 4]  # the first batch, then the other runner's from the start
        assert actual(runtime) == expected(runtime)
    finally:
        other.close()
        runtime.close()


def test_a_postgres_batch_whose_position_moved_before_its_write_is_not_applied_twice(
    postgres_url: Any, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = runtime_for(target_url(postgres_url), env_keys)
    other = Runtime(runtime.settings)
    folds: list[int] = []
    fold, write = BatchProjection.fold, runner._write_batch
    written: list[int | None] = []

    def overtaken(projection: BatchProjection, page: Page) -> None:
        folds.append(page.records[0].position)
        if len(folds) == 2:  # another runner applies everything while the second batch folds
            catch_up(other, 3)
        fold(projection, page)

    def recorded(by: Runtime, *args: Any) -> int | None:
        events = write(by, *args)
        if by is runtime:
            written.append(events)
        return events

    monkeypatch.setattr(BatchProjection, "fold", overtaken)
    monkeypatch.setattr(runner, "_write_batch", recorded)
    try:
        build_history(runtime, FIXED_OPS)
        head = runtime.app.recorder.max_notification_id()
        assert catch_up(runtime, 5) == head
        # the first batch written while the second folded; the second found the position moved
        assert written == [5, None]
        assert position(runtime) == head
        assert actual(runtime) == expected(runtime)
    finally:
        other.close()
        runtime.close()


def test_on_sqlite_the_follower_projects_while_the_block_writes(
    sqlite_url: str, env_keys: dict[str, str]
) -> None:
    from salur_cases.projections.queries import wait_for_position  # noqa: PLC0415

    runtime = runtime_for(sqlite_url, env_keys)
    try:
        with following(runtime.settings) as cores:
            assert cores == 1
            build_history(runtime, FIXED_OPS)
            assert wait_for_position(runtime, runtime.app.recorder.max_notification_id() or 0, timeout=60)
        assert actual(runtime) == expected(runtime)
        with runtime.engine.connect() as conn:  # the follower leaves the statistics refreshed
            analysed = set(conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
        assert {"household", "timeline", "household_status"} <= analysed
    finally:
        runtime.close()


# --- migrations and the command line ----------------------------------------------------------


def test_while_a_follower_projects_beside_the_writer_bulk_commands_leave_it_its_core(
    postgres_url: Any, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    runtime = runtime_for(target_url(postgres_url), env_keys)
    try:
        assert worker_count(runtime.app) == 2
        with following(runtime.settings) as cores, runtime.app.leaving_cores(cores):
            assert worker_count(runtime.app) == 1
        assert worker_count(runtime.app) == 2
    finally:
        runtime.close()


def test_statistics_are_refreshed_for_the_read_models_that_grew_and_only_those(
    postgres_url: Any, env_keys: dict[str, str]
) -> None:
    def analyses() -> dict[str, int]:
        with psycopg.connect(postgres_url.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT relname, analyze_count FROM pg_stat_user_tables WHERE schemaname = %s",
                [postgres_url.schema],
            ).fetchall()
        return dict(rows)

    def counted(table: str, rows: int) -> None:
        """Wait until the server's statistics count the rows written (backends report them lazily)."""
        for _ in range(100):
            with psycopg.connect(postgres_url.url, autocommit=True) as conn:
                found = conn.execute(
                    "SELECT n_mod_since_analyze FROM pg_stat_user_tables "
                    "WHERE schemaname = %s AND relname = %s",
                    [postgres_url.schema, table],
                ).fetchone()
            if found and found[0] >= rows:
                return
            time.sleep(0.1)
        pytest.fail(f"{table}: the server never counted {rows} changed rows")

    runtime = runtime_for(target_url(postgres_url), env_keys)
    try:
        with recording_at(START):
            registration.register_many(runtime.app, [proposal(i) for i in range(120)], DINSOS)
        catch_up(runtime)
        runtime.close()  # its backends exit and report what they wrote
        counted("household", 120)
        counted("person_index", 240)
        counted("timeline", 360)
        runtime = runtime_for(target_url(postgres_url), env_keys)
        before = analyses()
        analyze(runtime)
        after = analyses()
        grew = {"household", "person_index", "timeline"}
        assert {name for name in after if after[name] > before.get(name, 0)} == grew
        analyze(runtime)  # nothing changed since
        assert analyses() == after
    finally:
        runtime.close()


def test_a_database_before_upgrade_is_refused_naming_the_command(
    tmp_path: Path, env_keys: dict[str, str]
) -> None:
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", **env_keys}))
    with pytest.raises(SchemaOutOfDate, match="salur db upgrade"):
        ensure_current(runtime)
    upgrade(runtime)
    upgrade(runtime)
    ensure_current(runtime)
    runtime.close()


def test_the_tables_rewritten_at_every_event_leave_room_for_in_place_updates(
    postgres_url: Any, env_keys: dict[str, str]
) -> None:
    runtime = runtime_for(target_url(postgres_url), env_keys)
    with psycopg.connect(postgres_url.url, autocommit=True) as conn:
        options = dict(
            conn.execute(
                "SELECT c.relname, c.reloptions FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                [postgres_url.schema],
            ).fetchall()
        )
    runtime.close()
    for table in ("household", "household_status", "tahap_roster"):
        assert options[table] == ["fillfactor=70"], table
    assert options["timeline"] is None  # appended to, never rewritten: full pages


SMALL_TABLES = {"imports", "api_idempotency", "console_user", "console_sign_in", "console_session"}
"""Keyed once per import, API call, sign-in or console request: their keys need no byte order."""


def test_the_read_models_keys_compare_byte_by_byte_and_go_back_on_downgrade(
    postgres_url: Any, env_keys: dict[str, str]
) -> None:
    def byte_order_columns() -> set[tuple[str, str]]:
        with psycopg.connect(postgres_url.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND collation_name = 'C'",
                [postgres_url.schema],
            ).fetchall()
        return {(table, column) for table, column in rows}

    runtime = runtime_for(target_url(postgres_url), env_keys)
    try:
        keys = byte_order_columns()
        assert ("timeline", "aggregate_id") in keys
        assert ("person_index", "nik_hash") in keys
        assert ("household", "household_id") in keys
        assert ("population_extract", "nik_hash") in keys
        assert ("timeline", "data") not in keys
        assert ("household", "members") not in keys
        indexed = {
            (table.name, column.name)
            for table in t.metadata.sorted_tables
            if table.name not in SMALL_TABLES
            for constraint in [table.primary_key, *table.indexes, *table.constraints]
            for column in getattr(constraint, "columns", [])
            if isinstance(column.type, String)
        }
        assert indexed <= keys, indexed - keys
        with runtime.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "projections@projections_0002")
            command.downgrade(alembic_config(conn), "intake@intake_0002")
        born_byte_ordered = {("key_check", "name"), ("revoked_tokens", "jti")}  # created with "C" keys
        assert byte_order_columns() == born_byte_ordered
        upgrade(runtime)
        assert byte_order_columns() == keys
    finally:
        runtime.close()


def test_read_model_sessions_never_compile_plans_with_llvm_and_keep_the_urls_options(
    postgres_url: Any, env_keys: dict[str, str]
) -> None:
    runtime = runtime_for(f"{target_url(postgres_url)}&options=-cstatement_timeout%3D54321", env_keys)
    try:
        for engine in (runtime.engine, runtime.reader):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"
                search_path = conn.exec_driver_sql("SHOW search_path").scalar_one()
                assert search_path == f'"{postgres_url.schema}"'  # quoted as an identifier
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "54321ms"
    finally:
        runtime.close()


def test_salur_db_upgrade_runs_from_any_directory(
    tmp_path: Path, env_keys: dict[str, str], store_url: Any
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"SALUR_DATABASE_URL": target_url(store_url), "SALUR_LOG_FORMAT": "json", **env_keys}
    result = subprocess.run(
        [sys.executable, "-m", "salur_cases", "db", "upgrade"],
        cwd=elsewhere,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "projections_0004" in result.stdout
    runtime = Runtime(load_settings(env))
    ensure_current(runtime)
    runtime.close()


def _base_env() -> dict[str, str]:
    import os  # noqa: PLC0415

    return {k: v for k, v in os.environ.items() if not k.startswith("SALUR_")}


def test_projections_cli_status_rebuild_and_history(
    story: Runtime,
    env_keys: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from salur_cases.cli import main  # noqa: PLC0415
    from salur_cases.settings import reset_settings_cache  # noqa: PLC0415

    monkeypatch.setenv("SALUR_DATABASE_URL", story.settings.database_url)
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    head = story.app.recorder.max_notification_id()
    assert main(["projections", "status"]) == 0
    assert f"lag {head} events" in capsys.readouterr().out
    assert main(["projections", "rebuild"]) == 0
    assert main(["projections", "status"]) == 0
    assert "lag 0 events" in capsys.readouterr().out
    assert main(["history", kk(0)]) == 0
    out = capsys.readouterr().out
    assert "Dihapus dari" in out
    assert main(["history", nik(0, 1), "--as-of", "2020-04-21T12:00", "--json"]) == 0
    assert f'"no_kk": "{kk(0)}"' in capsys.readouterr().out
    assert (
        main(
            [
                "explain",
                kk(0),
                "--program",
                "WALIKOTA",
                "--from-tahap",
                "1",
                "--to-tahap",
                "2",
                "--lang",
                "en",
            ]
        )
        == 0
    )
    assert "removed the household from" in capsys.readouterr().out
    assert main(["explain", "3271011504209999"]) == 1
    assert main(["history", "12345"]) == 2
    reset_settings_cache()

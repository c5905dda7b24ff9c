"""Bulk writes: chunks in worker processes beside the caller, and a chunk refused whole on a conflict."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from salur_cases.domain.clock import recording_at
from salur_cases.domain.commands import DecideVerval
from salur_cases.domain.errors import RefusalCode
from salur_cases.domain.events import PayloadAggregate
from salur_cases.domain.household import Household
from salur_cases.domain.vocabulary import VervalDecision
from salur_cases.processes import bulk, registration, unit_of_work, verval
from salur_cases.processes.unit_of_work import BulkOutcome
from salur_cases.projections.audit.verification import verify
from tests.builders import DINSOS, KELURAHAN, no_kk_of, proposal, runtime_for, stored_events
from tests.conftest import fresh_pg_schema

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salur_cases.application import SalurApplication
    from salur_cases.domain.actor import Actor
    from salur_cases.processes.verval import VervalItem
    from salur_cases.runtime import Runtime
    from tests.conftest import PgTarget, StoreTarget


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    built = runtime_for(store_url.url, store_url.schema, env_keys)
    yield built
    built.close()


def test_bulk_registration_in_worker_processes_writes_every_household_once_and_the_caller_holds_its_share(
    postgres_url: PgTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_of_work, "CHUNK", 4)  # 10 chunks for the caller and 2 workers
    built = runtime_for(postgres_url.url, postgres_url.schema, env_keys, SALUR_BULK_WORKERS="3")
    try:
        app = built.app
        registration.register(app, proposal(100), KELURAHAN)
        batch = [proposal(n) for n in range(1, 41)]
        clashes = (7, 31)
        for i in clashes:
            clash = batch[i]
            batch[i] = type(clash)(clash.no_kk, clash.source, clash.address, proposal(100).members)

        outcome = registration.register_many(app, batch, KELURAHAN)

        assert (outcome.accepted, outcome.created) == (38, 38)
        assert [(r.index, r.code) for r in outcome.rejected] == [
            (i, RefusalCode.NIK_IN_OTHER_HOUSEHOLD) for i in clashes
        ]
        held = app.held.take([app.household_id(p.no_kk) for p in batch])
        assert held  # the households of the chunks the caller took (the workers' went with them)
        assert all(h.version == 1 for h in held.values())
        app.held.hold(held.values())
        eligible = DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3))
        decided = verval.decide_verval_many(app, [(p.no_kk, eligible) for p in batch], DINSOS)
        assert decided.accepted == 38
        assert all(app.household(no_kk_of(n)).version == 2 for n in range(1, 41) if n - 1 not in clashes)
        checked = verify(built)
        assert checked.ok
        assert checked.checked == app.recorder.max_notification_id()
    finally:
        built.close()


_verval_chunk = verval._verval_chunk
_CALLER = os.getpid()


def _noting_process(
    app: SalurApplication,
    start: int,
    chunk: Sequence[tuple[int, VervalItem]],
    actor: Actor,
    outcome: BulkOutcome,
) -> None:
    """The verval job, noting the process it ran in (in the file the test names); the caller is slow,
    so the workers take chunks too."""
    with Path(os.environ["SALUR_TEST_PROCESSES"]).open("a") as processes:
        processes.write(f"{os.getpid()}\n")
    if os.getpid() == _CALLER:
        time.sleep(0.1)
    _verval_chunk(app, start, chunk, actor, outcome)


def test_bulk_verval_in_worker_processes_applies_a_households_decisions_in_input_order(
    postgres_url: PgTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(unit_of_work, "CHUNK", 2)  # 9 chunks of 13 households for the caller and 2 workers
    monkeypatch.setattr(verval, "_verval_chunk", _noting_process)
    monkeypatch.setenv("SALUR_TEST_PROCESSES", str(tmp_path / "processes"))
    built = runtime_for(postgres_url.url, postgres_url.schema, env_keys, SALUR_BULK_WORKERS="3")
    try:
        app = built.app
        registration.register_many(app, [proposal(n) for n in range(1, 13)], KELURAHAN)
        eligible = DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3))
        ineligible = DecideVerval(VervalDecision.INELIGIBLE, "mampu", "petugas", date(2020, 5, 4))
        items = [(no_kk_of(n), eligible) for n in range(1, 13)]
        items[5:5] = [(no_kk_of(99), eligible)]  # unknown, index 5
        items += [(no_kk_of(1), ineligible), (no_kk_of(99), ineligible), (no_kk_of(12), ineligible)]

        outcome = verval.decide_verval_many(app, items, DINSOS)

        assert len(set((tmp_path / "processes").read_text().split())) > 1  # the caller and a worker at least
        assert outcome.accepted == 14
        assert [(r.index, r.code) for r in outcome.rejected] == [
            (5, RefusalCode.UNKNOWN_HOUSEHOLD),
            (14, RefusalCode.UNKNOWN_HOUSEHOLD),
        ]
        assert outcome.position == app.recorder.max_notification_id()
        decided = stored_events(app, Household.VervalDecided.TOPIC)
        for n, decisions in (
            (1, ["ELIGIBLE", "INELIGIBLE"]),
            (12, ["ELIGIBLE", "INELIGIBLE"]),
            (6, ["ELIGIBLE"]),
        ):
            household_id = app.household_id(no_kk_of(n))
            assert [e.decision for e in decided if e.originator_id == household_id] == decisions
            assert [e.originator_version for e in decided if e.originator_id == household_id] == list(
                range(2, 2 + len(decisions))
            )
        assert app.household(no_kk_of(1)).verval is VervalDecision.INELIGIBLE
        assert app.household(no_kk_of(12)).verval is VervalDecision.INELIGIBLE
        assert all(app.household(no_kk_of(n)).verval is VervalDecision.ELIGIBLE for n in range(2, 12))
        assert verify(built).ok
    finally:
        built.close()


def _noting_start(
    app: SalurApplication,
    start: int,
    chunk: Sequence[int],
    actor: Actor,
    outcome: BulkOutcome,
) -> None:
    """A job that notes the process it ran in and its start (in the file the test names)."""
    with Path(os.environ["SALUR_TEST_PROCESSES"]).open("a") as processes:
        processes.write(f"{os.getpid()} {start}\n")
    time.sleep(0.02)


def test_the_caller_takes_chunks_from_the_front_and_the_workers_from_the_back(
    postgres_url: PgTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SALUR_TEST_PROCESSES", str(tmp_path / "processes"))
    built = runtime_for(postgres_url.url, postgres_url.schema, env_keys, SALUR_BULK_WORKERS="3")
    try:
        bulk.run_chunks(built.app, _noting_start, [(i, [i]) for i in range(12)], DINSOS, BulkOutcome())
    finally:
        built.close()

    taken = [line.split() for line in (tmp_path / "processes").read_text().splitlines()]
    callers = sorted(int(start) for pid, start in taken if int(pid) == _CALLER)
    workers = sorted(int(start) for pid, start in taken if int(pid) != _CALLER)
    assert callers == list(range(len(callers)))
    assert workers == list(range(len(callers), 12))


def test_a_chunk_with_one_stale_household_is_refused_whole_and_writes_nothing(
    runtime: Runtime, store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    app = runtime.app
    registration.register_many(app, [proposal(n) for n in range(1, 6)], KELURAHAN)
    chunk = unit_of_work.load_households(app, [app.household_id(no_kk_of(n)) for n in range(1, 6)])
    other = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        ineligible = DecideVerval(VervalDecision.INELIGIBLE, "mampu", "petugas", date(2020, 5, 2))
        verval.decide_verval(other.app, no_kk_of(3), ineligible, DINSOS)
    finally:
        other.close()
    before = app.recorder.max_notification_id()
    household: Household
    for household in chunk.values():
        household.decide_verval(
            DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)), DINSOS
        )

    with pytest.raises(IntegrityError):
        unit_of_work.save(app, unit_of_work.Written(), *chunk.values())

    assert app.recorder.max_notification_id() == before
    assert app.household(no_kk_of(1)).verval is None
    assert app.household(no_kk_of(3)).verval is VervalDecision.INELIGIBLE
    assert verify(runtime).ok


def _bulk_rows(env_keys: dict[str, str]) -> list[tuple[object, ...]]:
    """Every row, chain hash included, of a bulk registration (with a member list changed) and a bulk
    verval on a fresh PostgreSQL schema, recorded at one moment."""
    with fresh_pg_schema() as target:
        built = runtime_for(target.url, target.schema, env_keys, SALUR_BULK_WORKERS="1")
        try:
            app = built.app
            eligible = DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3))
            with recording_at(datetime(2020, 4, 20, 8)):
                registration.register_many(app, [proposal(n) for n in range(6)], KELURAHAN)
                registration.register_many(app, [proposal(n, members=3) for n in range(3)], KELURAHAN)
                verval.decide_verval_many(app, [(no_kk_of(n), eligible) for n in range(6)], DINSOS)
            return [tuple(row) for row in app.chained.select_chain(1, 1000)]
        finally:
            built.close()


def test_bulk_commands_store_the_rows_eventsourcings_own_event_making_stores(
    env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = _bulk_rows(env_keys)
    monkeypatch.setattr(PayloadAggregate, "_create", classmethod(Aggregate._create.__func__))  # type: ignore[attr-defined]
    monkeypatch.setattr(PayloadAggregate, "trigger_event", Aggregate.trigger_event)
    theirs = _bulk_rows(env_keys)
    assert len(ours) > 6 * 3
    assert ours == theirs

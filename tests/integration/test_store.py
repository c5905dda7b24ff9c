"""The chained event store, on SQLite and on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import os
import threading
import uuid
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from psycopg import sql

from salur_cases.store import ChainedRecorder, eventsourcing_env
from salur_cases.store.chain import GENESIS, ChainRow, link_hash

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


class Household(Aggregate):
    """A tiny aggregate, enough to exercise the store."""

    @event("HouseholdRegistered")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("HouseholdRenamed")
    def rename(self, name: str) -> None:
        self.name = name


def _postgres_url() -> str:
    return os.environ.get("SALUR_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


def _admin_connect() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(_postgres_url(), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        if os.environ.get("SALUR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL unreachable: {e}")
        pytest.skip(f"PostgreSQL unreachable: {e}")


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Eventsourcing env for a fresh, empty store on each backend."""
    if request.param == "sqlite":
        yield eventsourcing_env(f"sqlite:///{tmp_path / 'salur.db'}")
        return
    schema = f"test_store_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield eventsourcing_env(_postgres_url(), schema=schema)
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def app(store_env: dict[str, str]) -> Iterator[Application[uuid.UUID]]:
    application = Application[uuid.UUID](env=store_env)
    yield application
    application.close()


def _chained(app: Application[uuid.UUID]) -> ChainedRecorder:
    recorder = app.recorder
    assert isinstance(recorder, ChainedRecorder)
    return recorder


def _all_rows(app: Application[uuid.UUID]) -> list[ChainRow]:
    rows: list[ChainRow] = _chained(app).select_chain(1, 1_000_000)
    return rows


def _assert_valid_chain(rows: list[ChainRow]) -> None:
    prev = GENESIS
    for expected_id, row in enumerate(rows, start=1):
        assert row.notification_id == expected_id
        prev = link_hash(
            prev, row.notification_id, row.originator_id, row.originator_version, row.topic, row.state
        )
        assert row.chain_hash == prev, f"chain broken at {row.notification_id}"


def test_application_saves_and_reloads(app: Application[uuid.UUID]) -> None:
    household = Household("Siti")
    household.rename("Siti Aminah")
    app.save(household)

    reloaded: Household = app.repository.get(household.id)

    assert reloaded.name == "Siti Aminah"
    assert reloaded.version == 2


def test_notification_ids_start_at_one_are_consecutive_and_chain_recomputes(
    app: Application[uuid.UUID],
) -> None:
    first = [Household(f"h{i}") for i in range(3)]
    recordings = app.save(*first)
    second = Household("later")
    second.rename("later still")
    recordings += app.save(second)

    assert [r.notification.id for r in recordings] == [1, 2, 3, 4, 5]
    assert [n.id for n in app.recorder.select_notifications(1, 100)] == [1, 2, 3, 4, 5]
    assert app.recorder.max_notification_id() == 5
    rows = _all_rows(app)
    assert len(rows) == 5
    _assert_valid_chain(rows)
    assert _chained(app).select_chain(4, 1) == rows[3:4]


def test_a_notification_page_holds_the_notifications_with_their_originator_ids_as_text(
    app: Application[uuid.UUID],
) -> None:
    households = [Household(name=f"h{i}") for i in range(3)]
    households[0].rename("h0'")
    app.save(*households)
    page = _chained(app).select_notification_page(2, 3)
    expected = app.recorder.select_notifications(2, 3)
    assert [n.id for n in page] == [2, 3, 4]
    assert [n.originator_id for n in page] == [str(n.originator_id) for n in expected]
    assert [(n.originator_version, n.topic, n.state) for n in page] == [
        (n.originator_version, n.topic, n.state) for n in expected
    ]


def test_tampered_row_breaks_the_chain(app: Application[uuid.UUID]) -> None:
    app.save(Household("a"), Household("b"))
    rows = _all_rows(app)
    rows[0] = rows[0]._replace(state=rows[0].state.replace(b'"a"', b'"x"'))

    with pytest.raises(AssertionError, match="chain broken at 1"):
        _assert_valid_chain(rows)


@pytest.mark.parametrize("duplicate_position", [0, 1, 2])
def test_duplicate_version_raises_integrity_error_and_writes_nothing(
    app: Application[uuid.UUID], duplicate_position: int
) -> None:
    existing = Household("exists")
    app.save(existing)
    before = _all_rows(app)
    ids = [uuid.uuid4(), uuid.uuid4()]
    ids.insert(duplicate_position, existing.id)
    batch = [StoredEvent(originator_id, 1, "t", b"{}") for originator_id in ids]

    with pytest.raises(IntegrityError):
        app.recorder.insert_events(batch)

    assert _all_rows(app) == before
    assert _chained(app).existing_originator_ids(ids) == {existing.id}
    app.save(Household("after"))
    _assert_valid_chain(_all_rows(app))


def test_concurrent_modification_of_one_aggregate_raises_integrity_error(app: Application[uuid.UUID]) -> None:
    household = Household("one")
    app.save(household)
    copy_a: Household = app.repository.get(household.id)
    copy_b: Household = app.repository.get(household.id)
    copy_a.rename("a")
    copy_b.rename("b")
    app.save(copy_a)

    with pytest.raises(IntegrityError):
        app.save(copy_b)

    assert app.repository.get(household.id).name == "a"
    assert len(_all_rows(app)) == 2


def test_concurrent_writers_leave_a_gap_free_valid_chain(store_env: dict[str, str]) -> None:
    threads_count, per_thread = 8, 50
    apps = [Application[uuid.UUID](env=store_env) for _ in range(threads_count)]
    errors: list[BaseException] = []

    def write(application: Application[uuid.UUID]) -> None:
        try:
            for i in range(per_thread):
                application.save(Household(f"h{i}"))
        except BaseException as e:  # reported below, a thread cannot fail the test itself
            errors.append(e)

    threads = [threading.Thread(target=write, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        rows = _all_rows(apps[0])
        assert len(rows) == threads_count * per_thread
        assert len({row.notification_id for row in rows}) == len(rows)
        _assert_valid_chain(rows)
    finally:
        for application in apps:
            application.close()


def test_existing_ids_and_max_versions_in_one_call(app: Application[uuid.UUID]) -> None:
    once = Household("once")
    thrice = Household("thrice")
    thrice.rename("2")
    thrice.rename("3")
    app.save(once, thrice)
    many = [Household(f"bulk{i}") for i in range(1200)]  # more than one SQLite IN chunk
    app.save(*many)
    unknown = [uuid.uuid4() for _ in range(600)]
    recorder = _chained(app)
    ids = [once.id, thrice.id, *unknown, *(h.id for h in many)]

    assert recorder.existing_originator_ids(ids) == {once.id, thrice.id, *(h.id for h in many)}
    versions = recorder.max_originator_versions(ids)
    assert versions[once.id] == 1
    assert versions[thrice.id] == 3
    assert len(versions) == 2 + len(many)
    assert recorder.existing_originator_ids([]) == set()
    assert recorder.max_originator_versions(unknown) == {}


def test_tracking_and_process_recorders_work_from_the_factory(app: Application[uuid.UUID]) -> None:
    tracking = app.factory.tracking_recorder()
    tracking.insert_tracking(Tracking("projection", 7))
    assert tracking.max_tracking_id("projection") == 7

    process = app.factory.process_recorder()
    ids = process.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"{}")], tracking=Tracking("upstream", 3))
    assert ids == [1]
    assert process.max_tracking_id("upstream") == 3
    _assert_valid_chain(_all_rows(app))


@pytest.mark.parametrize("store_env", ["postgres"], indirect=True)  # SQLite has no live subscription
def test_postgres_subscription_receives_new_events(app: Application[uuid.UUID]) -> None:
    app.save(Household("before"))
    received = []
    with app.recorder.subscribe(gt=1) as subscription:
        guard = threading.Timer(10.0, subscription.stop)
        guard.start()
        try:
            app.save(Household("x"), Household("y"))
            app.save(Household("z"))
            for notification in subscription:
                received.append(notification.id)
                if len(received) == 3:
                    break
        finally:
            guard.cancel()

    assert received == [2, 3, 4]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./salur.db", {"SQLITE_DBNAME": "./salur.db"}),
        ("sqlite:////abs/path.db", {"SQLITE_DBNAME": "/abs/path.db"}),
        ("sqlite:///:memory:", {"SQLITE_DBNAME": "file:salur_mem?mode=memory&cache=shared"}),
        (
            "postgresql://u:p%40ss@db.example:6543/salur?schema=kota",
            {
                "PERSISTENCE_MODULE": "salur_cases.store.postgres",
                "POSTGRES_HOST": "db.example",
                "POSTGRES_PORT": "6543",
                "POSTGRES_USER": "u",
                "POSTGRES_PASSWORD": "p@ss",
                "POSTGRES_DBNAME": "salur",
                "POSTGRES_SCHEMA": "kota",
            },
        ),
    ],
)
def test_database_url_maps_to_eventsourcing_env(url: str, expected: dict[str, str]) -> None:
    env = eventsourcing_env(url)

    assert env.items() >= expected.items()
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in env


def test_unsupported_database_url_is_refused() -> None:
    with pytest.raises(ValueError, match="scheme"):
        eventsourcing_env("mysql://x/y")

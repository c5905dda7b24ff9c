"""The projection runner: exactly-once application of the event store to the read models.

A batch is read and folded from the position it finds, then written in one transaction on the
read-model database: lock the tracking row (`projection_position`, `SELECT ... FOR UPDATE` on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite), and only if it still holds the position the batch was read
after, write the batch's rows, move the position, commit. A process killed mid-batch leaves nothing
behind, and two runners never apply the same batch. Notification ids are followed with `> last`, so
a gap would be stepped over.

On PostgreSQL the batches form a pipeline over three threads: the next page is read and decoded
(`ReadAhead`) and the next batch folded while a batch is written on a connection of its own
(`_catch_up_postgres`); the server stores one batch while this process computes the next.

On PostgreSQL the batch's transaction runs with `synchronous_commit = off`: the event store stays
durable (its own transactions are untouched); a batch lost in a server crash is simply applied
again from the committed position, and since rows and position commit together it is still
applied exactly once. A rebuild empties the tables with TRUNCATE (transactional on PostgreSQL).

Live mode (`run_forever`) catches up, then waits: on PostgreSQL for the store's NOTIFY (the
channel eventsourcing's recorder notifies on every insert, with a timeout), on SQLite by polling.
`following` runs live mode in a separate process while a long write goes on (the demo), so the
projections use another core and the catch-up after the write is short. SQLite has one writer at a
time: there a batch takes the write lock only to write its rows (`_apply_sqlite_batch`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from salur_cases import tables as t
from salur_cases.collector import collector_paused
from salur_cases.logging import get_logger
from salur_cases.projections.projector import BatchProjection, Page, read_page
from salur_cases.runtime import Runtime
from salur_cases.settings import Settings
from salur_cases.tables.bulk import insert_prepared

log = get_logger(__name__)

NAME = "read_models"
"""This projection's row in `projection_position`."""
POLL_SECONDS = 0.2
FOLLOW_POLL_SECONDS = 2.0
"""How often `following` polls SQLite while a long write goes on."""
LISTEN_SECONDS = 1.0


def _begin(conn: Connection) -> int:
    """Start the batch's transaction and lock this projection's position; return the position."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    pp = t.projection_position
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(pp).values(name=NAME, position=0).on_conflict_do_nothing(index_elements=["name"]))
    return int(conn.execute(select(pp.c.position).where(pp.c.name == NAME).with_for_update()).scalar_one())


@contextmanager
def _planned_each_time(conn: Connection) -> Iterator[None]:
    """No server-side prepared statements for the batch (PostgreSQL): the tables grow by orders of
    magnitude during a rebuild, and a generic plan cached while they were small (a sequential scan)
    would be reused against millions of rows."""
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        yield
        return
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


class ReadAhead:
    """The store's events in pages of `size` (`read_page`); on PostgreSQL the next page is read,
    decoded and its timeline rows prepared on another thread once a batch is folded, while batches
    are written.

    SQLite, whose writes run in this process too, reads each page when its batch starts. A page is
    read ahead from where the batch will leave the position; a batch that finds the position elsewhere
    (another runner moved it) reads its page itself. A page read ahead holds what the store had
    committed by then: ids are gap-free and commit in order, so it is a prefix of what a later read
    would give, and the next catch-up takes the rest.
    """

    def __init__(self, runtime: Runtime, size: int) -> None:
        self._recorder = runtime.app.chained  # opened before a batch takes SQLite's write lock
        self._mapper = runtime.app.mapper
        self._dialect = runtime.engine.dialect
        self._id_key = runtime.settings.id_key
        self._size = size
        threaded = runtime.settings.is_postgres
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="salur-read-ahead") if threaded else None
        self._ahead: tuple[int, Future[Page]] | None = None

    def _read(self, position: int) -> Page:
        notifications = self._recorder.select_notification_page(position + 1, self._size)
        page = [n for n in notifications if n.id > position]
        return read_page(page, self._mapper, self._dialect, self._id_key)

    def after(self, position: int) -> Page:
        """The page of events after `position` (no records: none yet), read ahead if it was."""
        ahead, self._ahead = self._ahead, None
        return ahead[1].result() if ahead and ahead[0] == position else self._read(position)

    def read_ahead(self, position: int) -> None:
        """Start reading the page after `position` (PostgreSQL)."""
        if self._reader is not None:
            self._ahead = (position, self._reader.submit(self._read, position))

    def close(self) -> None:
        """Stop reading ahead (a read under way is waited for)."""
        if self._reader is not None:
            self._reader.shutdown(cancel_futures=True)


def _catch_up_postgres(runtime: Runtime, pages: ReadAhead) -> tuple[int, int]:
    """PostgreSQL: apply every pending batch; return (events applied, position reached).

    Each batch is written on a thread and connection of its own while the next one is loaded and
    folded: that one takes the households the batch being written holds from its fold
    (`BatchProjection`), and loads the rest once the batch before has committed. A write that finds
    the position moved by another runner applies nothing, the batch folded after it is dropped too,
    and the catch-up goes on from where the position is."""
    applied = 0
    with (
        ThreadPoolExecutor(1, thread_name_prefix="salur-projection-write") as writer,
        runtime.engine.connect() as conn,
        _planned_each_time(conn),
    ):
        position = _position(conn)
        before: BatchProjection | None = None
        writing: Future[int | None] | None = None
        while True:
            page = pages.after(position)
            projection = None
            if page.records:
                projection = BatchProjection(conn, runtime.settings.id_key, before)
                projection.load(page)
                projection.fold(page)
                pages.read_ahead(page.records[-1].position)
                projection.prepare()
                conn.rollback()  # the next batch's reads see what commits meanwhile
            if writing is not None:
                written = writing.result()
                if written is None:
                    before, writing, position = None, None, _position(conn)
                    conn.rollback()
                    continue
                applied += written
            if projection is None:
                return applied, position
            writing = writer.submit(_write_batch, runtime, projection, page, position)
            before, position = projection, page.records[-1].position


def _write_batch(runtime: Runtime, projection: BatchProjection, page: Page, start: int) -> int | None:
    """Write a folded batch that starts after `start` and move the position, in one transaction;
    return its events (None: another runner moved the position, nothing is written)."""
    with runtime.engine.connect() as conn, _planned_each_time(conn):
        if _begin(conn) != start:
            conn.rollback()
            return None
        insert_prepared(conn, page.timeline)
        projection.write(conn)
        _move(conn, page.records[-1].position)
        conn.commit()
        return len(page.records)


def _apply_sqlite_batch(runtime: Runtime, pages: ReadAhead) -> tuple[int, int]:
    """SQLite: read and fold the next batch before taking the write lock, so that a writer beside
    this runner (`following`) waits only while the rows are written. The lock taken, a position
    still where the batch was read proves the rows it read unchanged (every batch moves it, within
    the transaction that writes its rows); else the batch is read again."""
    with runtime.engine.connect() as conn:
        while True:
            position = _position(conn)
            page = pages.after(position)
            if not page.records:
                conn.rollback()
                return 0, position
            projection = BatchProjection(conn, runtime.settings.id_key)
            projection.load(page)
            projection.fold(page)
            projection.prepare()
            conn.rollback()  # the reads' transaction, if any
            if _begin(conn) == position:
                break
            conn.rollback()
        reached = page.records[-1].position
        insert_prepared(conn, page.timeline)
        projection.write(conn)
        _move(conn, reached)
        conn.commit()
        return len(page.records), reached


def _position(conn: Connection) -> int:
    pp = t.projection_position
    return int(conn.execute(select(pp.c.position).where(pp.c.name == NAME)).scalar() or 0)


def _move(conn: Connection, reached: int) -> None:
    pp = t.projection_position
    conn.execute(update(pp).where(pp.c.name == NAME).values(position=reached))


def catch_up(runtime: Runtime, size: int | None = None) -> int:
    """Apply every pending event, a batch per transaction; return the position reached.

    After a large catch-up the statistics of the read models that changed are refreshed (ANALYZE),
    so the planner does not keep plans made for the nearly empty tables of a new database.
    """
    pages = ReadAhead(runtime, size or runtime.settings.projection_batch)
    total = 0
    try:
        with collector_paused():  # through the reading ahead between batches too
            if runtime.settings.is_postgres:
                total, position = _catch_up_postgres(runtime, pages)
            else:
                while True:
                    applied, position = _apply_sqlite_batch(runtime, pages)
                    total += applied
                    if applied == 0:
                        break
    finally:
        pages.close()
    if total >= ANALYZE_AFTER:
        analyze(runtime)
    return position


ANALYZE_AFTER = 50_000
"""Events in one catch-up after which the changed read models are analysed."""
ANALYZE_BASE, ANALYZE_FRACTION = 50, 0.1
"""A read model is stale for the planner once its rows changed since its last ANALYZE exceed
ANALYZE_BASE + ANALYZE_FRACTION x its rows: PostgreSQL's autovacuum defaults."""


def analyze(runtime: Runtime) -> None:
    """ANALYZE the stale read models on PostgreSQL (autovacuum's rule, which a server run with
    autovacuum off never applies: the tables that did not grow are left alone; it reads the server's
    row counters, kept unless `track_counts` is turned off), every read model on SQLite.

    PostgreSQL analyses two tables at a time (on two connections), the largest first: each is sampled
    on its own, and the server has a core for each."""
    names = [table.name for table in t.VIEW_TABLES]
    with runtime.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            for name in names:
                conn.execute(text(f'ANALYZE "{name}"'))
            conn.commit()
            return
        stale = text(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND relname = ANY(:names) AND n_mod_since_analyze > :base + :fraction * n_live_tup "
            "ORDER BY n_live_tup DESC"
        )
        bounds = {"names": names, "base": ANALYZE_BASE, "fraction": ANALYZE_FRACTION}
        names = list(conn.execute(stale, bounds).scalars())
    with ThreadPoolExecutor(2, thread_name_prefix="salur-analyze") as analysts:
        list(analysts.map(lambda name: _analyze(runtime, name), names))


def _analyze(runtime: Runtime, name: str) -> None:
    with runtime.engine.connect() as conn:
        conn.execute(text(f'ANALYZE "{name}"'))
        conn.commit()


def position(runtime: Runtime, engine: Engine | None = None) -> int:
    """The last notification id applied to the read models, as ``engine`` sees them (default: the
    primary's; ``runtime.reader`` is the standby's, which holds what it has replayed)."""
    pp = t.projection_position
    with (engine or runtime.engine).connect() as conn:
        value = conn.execute(select(pp.c.position).where(pp.c.name == NAME)).scalar()
    return int(value or 0)


def status(runtime: Runtime) -> dict[str, int]:
    """`position` applied, `head` of the event store, and `lag` in events."""
    reached = position(runtime)
    head = int(runtime.app.recorder.max_notification_id() or 0)
    return {"position": reached, "head": head, "lag": max(0, head - reached)}


def rebuild(runtime: Runtime) -> int:
    """Empty the read models and reset the position in one transaction, then catch up from the start."""
    with runtime.engine.connect() as conn:
        _begin(conn)
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in t.VIEW_TABLES)
            conn.exec_driver_sql(f"TRUNCATE {names}")
        else:
            for table in reversed(t.VIEW_TABLES):
                conn.execute(table.delete())
        pp = t.projection_position
        conn.execute(update(pp).where(pp.c.name == NAME).values(position=0))
        conn.commit()
    return catch_up(runtime)


Stop = threading.Event | ProcessEvent
"""What tells live mode to stop: an event of this process, or one shared with the process that started it."""


def run_forever(runtime: Runtime, stop: Stop, poll: float = POLL_SECONDS) -> None:
    """Keep the read models up to date until `stop` is set (errors are logged and retried); SQLite
    is polled every `poll` seconds."""
    if runtime.settings.is_postgres:
        _listen_loop(runtime, stop)
        return
    while not stop.is_set():
        _catch_up_logged(runtime)
        stop.wait(poll)


@contextmanager
def following(settings: Settings) -> Iterator[int]:
    """Keep the read models up to date in another process while the block runs (on SQLite it reads
    and folds while the block writes, and takes SQLite's one write lock only to write its rows).
    Yields the cores the follower takes, for the writer to leave to it
    (`SalurApplication.leaving_cores`)."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    follower = context.Process(target=_follow, args=(settings, stop), name="salur-projections")
    follower.start()
    try:
        yield 1
    finally:
        stop.set()
        follower.join()


def _follow(settings: Settings, stop: ProcessEvent) -> None:
    if settings.is_postgres:
        os.nice(10)  # the writer it follows comes first: the projections catch up when a core is free
    # On SQLite the follower holds the write lock the writer waits for while it writes its rows, so it
    # runs at the writer's priority, and polls seldom: fewer, larger batches take the lock less often.
    runtime = Runtime(settings)
    try:
        run_forever(runtime, stop, FOLLOW_POLL_SECONDS)
        if not settings.is_postgres:
            analyze(runtime)  # its catch-ups are each too short for `catch_up` to refresh SQLite's statistics
    finally:
        runtime.close()


def _catch_up_logged(runtime: Runtime) -> bool:
    try:
        catch_up(runtime)
    except Exception:
        log.exception("projection batch failed; retrying")
        return False
    return True


def _listen_loop(runtime: Runtime, stop: Stop) -> None:
    from psycopg.sql import SQL, Identifier  # noqa: PLC0415 - PostgreSQL only

    recorder: Any = runtime.app.recorder
    while not stop.is_set():
        try:
            with recorder.datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                while not stop.is_set():
                    if not _catch_up_logged(runtime):
                        stop.wait(LISTEN_SECONDS)
                    for _ in conn.notifies(timeout=LISTEN_SECONDS, stop_after=1):
                        pass
        except Exception:
            log.exception("projection listener failed; reconnecting")
            stop.wait(LISTEN_SECONDS)

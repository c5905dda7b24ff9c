"""SQLite persistence: eventsourcing's recorders with a hash chain over the events table.

Use with ``PERSISTENCE_MODULE=salur_cases.store.sqlite`` (see :mod:`salur_cases.store.config`).
The events table keeps the library's columns and adds ``notification_id INTEGER PRIMARY KEY`` (an
alias of the rowid the library reads, so ``VACUUM`` cannot renumber it) and ``chain_hash BLOB NOT
NULL``. Inserts run under ``BEGIN IMMEDIATE``, which takes SQLite's write lock before the last chain
link is read, so writers in other processes serialise too.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

import eventsourcing.persistence as es_persistence
import eventsourcing.sqlite as es_sqlite
from eventsourcing.persistence import Notification, OperationalError

from salur_cases.store.chain import GENESIS, ChainRow, link_hash
from salur_cases.store.serial import process_lock
from salur_cases.store.signing import NOTARY_ID

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from eventsourcing.persistence import StoredEvent

    from salur_cases.store.signing import HeadSigner

MAX_VARIABLES = 500
"""Bound on ``?`` parameters per statement, well under SQLite's default limit."""


class _WriteTransaction(es_sqlite.SQLiteTransaction):
    """The library's transaction, begun with ``BEGIN IMMEDIATE`` (write lock up front)."""

    def __enter__(self) -> es_sqlite.SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise OperationalError(e) from e
        return cursor


def _chunks(ids: Sequence[UUID]) -> Iterator[list[str]]:
    for i in range(0, len(ids), MAX_VARIABLES):
        yield [originator_id.hex for originator_id in ids[i : i + MAX_VARIABLES]]


class ChainedSQLiteApplicationRecorder(es_sqlite.SQLiteApplicationRecorder):
    """Application recorder whose rows form a hash chain."""

    def __init__(
        self, datastore: es_sqlite.SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        if datastore.originator_id_type != "uuid":
            msg = "the hash chain needs ORIGINATOR_ID_TYPE=uuid"
            raise OperationalError(msg)
        super().__init__(datastore, events_table_name)
        self.head_signer: HeadSigner | None = None
        """Signs the heads of the writes that call for it, as their last row (`salur_cases.store.signing`)."""
        self._heads = threading.local()
        """The row of the head the thread's last write signed (None: none)."""
        # The table name comes from the factory (the application's name), never from user input.
        table = self.events_table_name
        self.insert_events_statement = (
            f"INSERT INTO {table} (notification_id, originator_id, originator_version, topic, state, "  # noqa: S608
            "chain_hash) VALUES (?,?,?,?,?,?)"
        )
        self.select_last_link_statement = (
            f"SELECT notification_id, chain_hash FROM {table} ORDER BY notification_id DESC LIMIT 1"  # noqa: S608
        )
        self.select_last_head_statement = (
            f"SELECT originator_version, notification_id FROM {table} WHERE originator_id = ? "  # noqa: S608
            "ORDER BY originator_version DESC LIMIT 1"
        )
        self.select_chain_statement = (
            "SELECT notification_id, originator_id, originator_version, topic, state, chain_hash "  # noqa: S608
            f"FROM {table} WHERE notification_id >= ? ORDER BY notification_id LIMIT ?"
        )

    def construct_create_table_statements(self) -> list[str]:
        """Return the CREATE statement of the chained events table."""
        return [
            f"CREATE TABLE IF NOT EXISTS {self.events_table_name} ("
            "notification_id INTEGER PRIMARY KEY, "
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "topic TEXT, "
            "state BLOB, "
            "chain_hash BLOB NOT NULL, "
            "UNIQUE (originator_id, originator_version))"
        ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Append the events in one write transaction and return their notification ids (a signed head
        the write called for follows them, `head_signer`).

        A duplicate (originator_id, originator_version) raises eventsourcing's ``IntegrityError``
        and writes nothing.
        """
        self._heads.row = None
        with (
            self.datastore.get_connection(commit=True) as conn,
            _WriteTransaction(conn, commit=True) as curs,
            curs,
        ):
            positions = self._insert_events(curs, stored_events, **kwargs)
        if self._heads.row is not None and self.head_signer is not None:
            self.head_signer.signed(self._heads.row)
        return positions

    def _insert_events(
        self, c: es_sqlite.SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        c.execute(self.select_last_link_statement)
        last = c.fetchone()
        position, prev = (last["notification_id"], last["chain_hash"]) if last else (0, GENESIS)
        first = position + 1
        signer = self.head_signer
        due = (
            signer.due(
                position + len(stored_events), {e.topic for e in stored_events}, lambda: self._last_head(c)
            )
            if signer
            else None
        )
        rows = []
        for event in stored_events:
            position += 1
            originator_id = event.originator_id
            if not isinstance(originator_id, UUID):
                originator_id = UUID(originator_id)
            prev = link_hash(
                prev, position, originator_id, event.originator_version, event.topic, event.state
            )
            rows.append(
                (position, originator_id.hex, event.originator_version, event.topic, event.state, prev)
            )
        head = signer.head(due, position, prev) if signer and due else None
        if head is not None:
            prev = link_hash(prev, position + 1, NOTARY_ID, head.originator_version, head.topic, head.state)
            rows.append((position + 1, NOTARY_ID.hex, head.originator_version, head.topic, head.state, prev))
            self._heads.row = position + 1
        c.executemany(self.insert_events_statement, rows)
        return list(range(first, position + 1))

    def _last_head(self, c: es_sqlite.SQLiteCursor) -> tuple[int, int] | None:
        """The store's last signed head: (its version, its row)."""
        c.execute(self.select_last_head_statement, (NOTARY_ID.hex,))
        row = c.fetchone()
        return (row["originator_version"], row["notification_id"]) if row else None

    @contextmanager
    def serialised(self, name: str) -> Iterator[None]:
        """Run the block as the only holder of `name` on this database among this process's threads.

        Another process is not held back: its writes still queue on SQLite's write lock, and the
        optimistic (id, version) check refuses whichever of two conflicting commands saves second."""
        with process_lock(f"{self.datastore.pool.db_name} {self.events_table_name} {name}"):
            yield

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        """Return up to ``limit`` notifications from ``start`` (to ``stop``), optionally by topic."""
        conditions: list[str] = []
        params: list[Any] = []
        if start is not None:
            conditions.append("notification_id >= ?" if inclusive_of_start else "notification_id > ?")
            params.append(start)
        if stop is not None:
            conditions.append("notification_id <= ?")
            params.append(stop)
        if topics:
            conditions.append(f"topic IN ({','.join('?' * len(topics))})")
            params.extend(topics)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        statement = f"SELECT * FROM {self.events_table_name} {where}ORDER BY notification_id LIMIT ?"  # noqa: S608
        params.append(limit)
        return self._notifications(statement, params, UUID)

    def select_notification_page(self, start: int, limit: int) -> list[Notification]:
        """Up to ``limit`` notifications from ``start`` on, each originator id as its text (`str(UUID)`)."""
        table = self.events_table_name
        statement = f"SELECT * FROM {table} WHERE notification_id >= ? ORDER BY notification_id LIMIT ?"  # noqa: S608
        return self._notifications(statement, [start, limit], lambda text: str(UUID(text)))

    def _notifications(
        self, statement: str, params: list[Any], originator_id: Callable[[str], UUID | str]
    ) -> list[Notification]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]

    def existing_originator_ids(self, ids: Sequence[UUID]) -> set[UUID]:
        """Return those of ``ids`` that have at least one stored event."""
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(ids):
                c.execute(
                    f"SELECT DISTINCT originator_id FROM {self.events_table_name} "  # noqa: S608
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(UUID(row[0]) for row in c.fetchall())
        return found

    def max_originator_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """Return the highest stored version of each of ``ids`` that has events."""
        versions: dict[UUID, int] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(ids):
                c.execute(
                    f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name} "  # noqa: S608
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) GROUP BY originator_id",
                    chunk,
                )
                versions.update((UUID(row[0]), row[1]) for row in c.fetchall())
        return versions

    def select_events_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Return every stored event of ``ids``, ordered by aggregate and version."""
        events: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(ids):
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name} "  # noqa: S608
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                events.extend(
                    es_persistence.StoredEvent(
                        originator_id=UUID(row[0]), originator_version=row[1], topic=row[2], state=row[3]
                    )
                    for row in c.fetchall()
                )
        events.sort(key=lambda e: (str(e.originator_id), e.originator_version))
        return events

    def select_chain(self, start: int, limit: int) -> list[ChainRow]:
        """Return up to ``limit`` rows from notification id ``start`` on, in notification order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_chain_statement, (start, limit))
            return [ChainRow(row[0], UUID(row[1]), row[2], row[3], row[4], row[5]) for row in c.fetchall()]


class ChainedSQLiteProcessRecorder(es_sqlite.SQLiteProcessRecorder, ChainedSQLiteApplicationRecorder):
    """Process recorder (events plus tracking in one transaction) over the chained events table."""


class ChainedSQLiteFactory(es_sqlite.SQLiteFactory):
    """eventsourcing's SQLite factory with the chained recorders."""

    application_recorder_class = ChainedSQLiteApplicationRecorder
    process_recorder_class = ChainedSQLiteProcessRecorder


Factory = ChainedSQLiteFactory

"""PostgreSQL persistence: eventsourcing's recorders with a hash chain and a COPY BINARY insert.

Use with ``PERSISTENCE_MODULE=salur_cases.store.postgres`` (see :mod:`salur_cases.store.config`).
The events table is the library's plus ``chain_hash bytea NOT NULL``; ``notification_id`` is a plain
``bigint`` (no sequence) assigned here, under a writers' advisory lock held to commit, as the last
id + 1, so ids are gap-free and commit order equals id order.

Reads of many rows (events, notifications, ids) take plain tuples in PostgreSQL's binary format:
no dict per row, no hex text for the states, and uuids arrive as uuids.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

import eventsourcing.persistence as es_persistence
import eventsourcing.postgres as es_postgres
import psycopg
from eventsourcing.persistence import InterfaceError, Notification, OperationalError, ProgrammingError
from eventsourcing.utils import retry
from psycopg.adapt import PyFormat
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from salur_cases.domain.events import with_fields
from salur_cases.store.chain import GENESIS, ChainRow, link_hash
from salur_cases.store.pglist import SPLIT, joined_ids
from salur_cases.store.serial import process_lock
from salur_cases.store.signing import NOTARY_ID

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from eventsourcing.persistence import StoredEvent
    from eventsourcing.utils import Environment, EnvType
    from psycopg import Cursor
    from psycopg.rows import DictRow, TupleRow

    from salur_cases.store.signing import HeadSigner

_COPY_TYPES = ["bigint", "uuid", "bigint", "text", "bytea", "bytea"]
_BYTES = psycopg.adapters.get_dumper(bytes, PyFormat.BINARY)
"""psycopg's own dumper of bytes (compiled, with psycopg[binary]). By the bytea oid, `set_types` would
take the DB-API `Binary` wrapper's dumper, which first checks each value in Python."""


def _notification(
    position: int, originator_id: UUID | str, version: int, topic: str, state: bytes
) -> Notification:
    """A notification given its fields at once, not one by one through its frozen dataclass."""
    fields = {
        "originator_id": originator_id,
        "originator_version": version,
        "topic": topic,
        "state": state,
        "id": position,
    }
    return with_fields(Notification, fields)


class ChainedPostgresApplicationRecorder(es_postgres.PostgresApplicationRecorder):
    """Application recorder whose rows form a hash chain; inserts with one COPY BINARY."""

    def __init__(
        self, datastore: es_postgres.PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        if datastore.originator_id_type != "uuid":
            msg = "the hash chain needs ORIGINATOR_ID_TYPE=uuid"
            raise ProgrammingError(msg)
        if datastore.enable_db_functions:
            msg = "POSTGRES_ENABLE_DB_FUNCTIONS would bypass the hash chain"
            raise ProgrammingError(msg)
        super().__init__(datastore, events_table_name=events_table_name)
        self.head_signer: HeadSigner | None = None
        """Signs the heads of the writes that call for it, as their last row (`salur_cases.store.signing`)."""
        table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(events_table_name))
        self.sql_create_statements[self.create_table_statement_index] = SQL(
            "CREATE TABLE IF NOT EXISTS {table} ("
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "topic text, "
            "state bytea, "
            "notification_id bigint NOT NULL, "
            "chain_hash bytea NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) "
            "WITH (autovacuum_enabled = true, "
            "autovacuum_vacuum_threshold = 100000000, autovacuum_vacuum_scale_factor = 0.5, "
            "autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.01)"
        ).format(table=table)
        # Writers serialise on a transaction-level advisory lock named after the table instead of the
        # library's LOCK TABLE ... IN EXCLUSIVE MODE: the same order (ids assigned under the lock, the
        # lock released at commit), but it needs no UPDATE, DELETE or TRUNCATE privilege on the table,
        # so the server's role can be granted INSERT and SELECT only (`salur db grant`).
        self.lock_table_statements[-1] = SQL("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))").format(
            Literal(f"salur-cases writer {datastore.schema}.{events_table_name}")
        )
        # The library's insert function would write rows without a chain hash: never create it.
        del self.sql_create_statements[self.create_insert_function_statement_index]
        self.table_exists_statement = SQL("SELECT to_regclass({}) AS found").format(
            Literal(f'"{datastore.schema}"."{events_table_name}"')
        )
        self.serial_prefix = f"salur-cases {datastore.schema}.{events_table_name}"
        self.select_last_link_statement = SQL(
            "SELECT notification_id, chain_hash FROM {table} ORDER BY notification_id DESC LIMIT 1"
        ).format(table=table)
        self.select_last_head_statement = SQL(
            "SELECT originator_version, notification_id FROM {table} WHERE originator_id = %s "
            "ORDER BY originator_version DESC LIMIT 1"
        ).format(table=table)
        self.copy_statement = SQL(
            "COPY {table} (notification_id, originator_id, originator_version, topic, state, chain_hash)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(table=table)
        # One index probe per id (a semi-join, a backward scan for the last version): far cheaper
        # than collecting every row of every aggregate with `= ANY` and grouping them.
        ids = SQL(SPLIT + "::uuid[]")  # one text parameter (salur_cases.store.pglist)
        self.select_existing_ids_statement = SQL(
            "SELECT id AS originator_id FROM unnest({ids}) AS id "
            "WHERE EXISTS (SELECT FROM {table} WHERE originator_id = id)"
        ).format(table=table, ids=ids)
        self.select_max_versions_statement = SQL(
            "SELECT id AS originator_id, last.version FROM unnest({ids}) AS id, LATERAL "
            "(SELECT MAX(originator_version) AS version FROM {table} WHERE originator_id = id) AS last "
            "WHERE last.version IS NOT NULL"
        ).format(table=table, ids=ids)
        self.select_events_many_statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {table} "
            "WHERE originator_id = ANY({ids}) ORDER BY originator_id, originator_version"
        ).format(table=table, ids=ids)
        self.select_notifications_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {table}"
        ).format(table=table)
        self.select_notification_page_statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {table} "
            "WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        ).format(table=table)
        self.select_chain_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state, chain_hash "
            "FROM {table} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        ).format(table=table)

    def create_table(self) -> None:
        """Create the events table and its indexes, unless the table exists: a server whose role may only
        read and append (`salur db grant`) has no right to run CREATE in the schema, even IF NOT EXISTS."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.table_exists_statement, prepare=False)
            row = curs.fetchone()
        if row is None or row["found"] is None:
            super().create_table()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Append the events in one transaction and return their notification ids (a signed head the
        write called for follows them, `head_signer`).

        A duplicate (originator_id, originator_version) raises eventsourcing's ``IntegrityError``
        and writes nothing.
        """
        written: tuple[list[int], int | None] | None = self._insert_chained(stored_events, **kwargs)
        if written is None:
            return None
        positions, head = written
        if head is not None and self.head_signer is not None:
            self.head_signer.signed(head)
        return positions

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_chained(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> tuple[list[int], int | None] | None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)  # tracking, for process recorders
            if not stored_events:
                return None
            return self._append_chained(curs, stored_events)

    def _append_chained(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]
    ) -> tuple[list[int], int | None]:
        """Write the rows after the last link, under the writers' lock; (their positions, the row of
        the head signed after them or None)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self.select_last_link_statement, prepare=True)
        last = curs.fetchone()
        position, prev = (last["notification_id"], bytes(last["chain_hash"])) if last else (0, GENESIS)
        first = position + 1
        signer = self.head_signer
        topics = {e.topic for e in stored_events}
        due = (
            signer.due(position + len(stored_events), topics, lambda: self._last_head(curs))
            if signer
            else None
        )
        curs.adapters.register_dumper(bytes, _BYTES)  # this cursor's adapters only
        with curs.copy(self.copy_statement) as copy:
            copy.set_types(_COPY_TYPES)
            for event in stored_events:
                position += 1
                originator_id = event.originator_id
                if not isinstance(originator_id, UUID):
                    originator_id = UUID(originator_id)
                prev = link_hash(
                    prev, position, originator_id, event.originator_version, event.topic, event.state
                )
                copy.write_row(
                    (position, originator_id, event.originator_version, event.topic, event.state, prev)
                )
            head = signer.head(due, position, prev) if signer and due else None
            if head is not None:
                prev = link_hash(
                    prev, position + 1, NOTARY_ID, head.originator_version, head.topic, head.state
                )
                copy.write_row(
                    (position + 1, NOTARY_ID, head.originator_version, head.topic, head.state, prev)
                )
        return list(range(first, position + 1)), (position + 1 if head is not None else None)

    def _last_head(self, curs: Cursor[DictRow]) -> tuple[int, int] | None:
        """The store's last signed head: (its version, its row)."""
        curs.execute(self.select_last_head_statement, (NOTARY_ID,), prepare=True)
        row = curs.fetchone()
        return (row["originator_version"], row["notification_id"]) if row else None

    @contextmanager
    def serialised(self, name: str) -> Iterator[None]:
        """Run the block as the only holder of `name` on this store, across processes: a transaction-level
        advisory lock, held on a connection of its own until the block ends (waiting as long as the
        holder before takes; a holder whose process dies releases it with its connection)."""
        key = f"{self.serial_prefix} {name}"
        with (
            process_lock(key),
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            curs.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            curs.execute("SET LOCAL lock_timeout = 0")
            curs.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
            yield

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """Up to ``limit`` notifications from ``start`` (to ``stop``), optionally of some topics only."""
        conditions: list[Composed | SQL] = []
        params: list[Any] = []
        if start is not None:
            conditions.append(SQL("notification_id >= %s" if inclusive_of_start else "notification_id > %s"))
            params.append(start)
        if stop is not None:
            conditions.append(SQL("notification_id <= %s"))
            params.append(stop)
        if topics:
            conditions.append(SQL("topic = ANY(%s)"))
            params.append(list(topics))
        statement = self.select_notifications_statement
        if conditions:
            statement = SQL("{} WHERE {}").format(statement, SQL(" AND ").join(conditions))
        statement = SQL("{} ORDER BY notification_id LIMIT %s").format(statement)
        params.append(limit)
        return [_notification(*row) for row in self._rows(statement, params)]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notification_page(self, start: int, limit: int) -> list[Notification]:
        """Up to ``limit`` notifications from ``start`` on, each originator id as its text (`str(UUID)`):
        the projection keeps ids as text, and a UUID per event would be made only to be printed."""
        rows = self._rows(self.select_notification_page_statement, (start, limit))
        return [_notification(*row) for row in rows]

    def _rows(self, statement: Composed, params: Sequence[Any]) -> list[TupleRow]:
        """All rows of a prepared read, as tuples in the binary format."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(statement, params, prepare=True)
            return curs.fetchall()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def existing_originator_ids(self, ids: Sequence[UUID]) -> set[UUID]:
        """Return those of ``ids`` that have at least one stored event."""
        if not ids:
            return set()
        return {i for (i,) in self._rows(self.select_existing_ids_statement, (joined_ids(ids),))}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def max_originator_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """Return the highest stored version of each of ``ids`` that has events."""
        if not ids:
            return {}
        return dict(self._rows(self.select_max_versions_statement, (joined_ids(ids),)))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Return every stored event of ``ids`` in one query, ordered by aggregate and version."""
        if not ids:
            return []
        return [
            es_persistence.StoredEvent(originator_id=i, originator_version=v, topic=topic, state=state)
            for i, v, topic, state in self._rows(self.select_events_many_statement, (joined_ids(ids),))
        ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_chain(self, start: int, limit: int) -> list[ChainRow]:
        """Return up to ``limit`` rows from notification id ``start`` on, in notification order."""
        return [ChainRow(*row) for row in self._rows(self.select_chain_statement, (start, limit))]


class ChainedPostgresProcessRecorder(es_postgres.PostgresProcessRecorder, ChainedPostgresApplicationRecorder):
    """Process recorder (events plus tracking in one transaction) over the chained events table."""


class ChainedPostgresFactory(es_postgres.PostgresFactory):
    """eventsourcing's PostgreSQL factory with the chained recorders; creates the schema if needed."""

    application_recorder_class = ChainedPostgresApplicationRecorder
    process_recorder_class = ChainedPostgresProcessRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        if self.env_create_table():
            schema = self.datastore.schema
            with self.datastore.transaction(commit=True) as curs:
                curs.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
                if curs.fetchone() is None:
                    curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))


Factory = ChainedPostgresFactory

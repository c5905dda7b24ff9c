"""Bulk reads of the chained events table for the audit, on PostgreSQL and on SQLite.

`select_chain` builds a named row and a `UUID` object per event, which costs three times the
hashing itself; the verifier instead streams plain tuples (the originator id as its 16 raw bytes)
from one server-side cursor (one snapshot, however long the store). Evidence reads fetch rows
together with the previous row's hash, so that each exported line verifies alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from salur_cases.store.chain import GENESIS
from salur_cases.store.postgres import ChainedPostgresApplicationRecorder

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence

    from eventsourcing.persistence import ApplicationRecorder

STREAM_BATCH = 20_000
"""Rows per round trip while streaming."""

KEYS_PER_QUERY = 500
"""Ids or positions per evidence query (well under SQLite's parameter limit)."""

RawLink = tuple[int, bytes, int, str, bytes, bytes]
"""position, originator id (16 bytes), originator version, topic, state, chain hash."""


class Link(NamedTuple):
    """One stored event with its chain hash and the previous row's (GENESIS before the first row)."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    chain_hash: bytes
    prev_hash: bytes


def stream_chain(recorder: ApplicationRecorder, topics: Collection[str] = ()) -> Iterator[RawLink]:
    """Every row of the chain (or those with one of `topics`) in notification order, from one snapshot."""
    if isinstance(recorder, ChainedPostgresApplicationRecorder):
        where = SQL("WHERE topic = ANY(%s) ") if topics else SQL("")
        statement = SQL(
            "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state, chain_hash "
            "FROM {} {}ORDER BY notification_id"
        ).format(_pg_table(recorder), where)
        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor("salur_audit_chain", row_factory=tuple_row) as cursor,
        ):
            cursor.itersize = STREAM_BATCH
            cursor.execute(statement, (list(topics),) if topics else None, binary=True)
            yield from cursor
        return
    table = _sqlite_table(recorder)
    only = f"WHERE topic IN ({','.join('?' * len(topics))}) " if topics else ""
    with recorder.datastore.transaction(commit=False) as wrapped, wrapped as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state, chain_hash "  # noqa: S608
            f"FROM {table} {only}ORDER BY notification_id",
            list(topics),
        )
        while rows := cursor.fetchmany(STREAM_BATCH):
            for position, oid, version, topic, state, digest in rows:
                yield position, bytes.fromhex(oid), version, topic, state, digest


def links_of(recorder: ApplicationRecorder, originator_ids: Sequence[UUID]) -> list[Link]:
    """Every row of these aggregates, with the previous row's hash, in notification order."""
    return _links(recorder, "e.originator_id", list(originator_ids))


def links_at(recorder: ApplicationRecorder, positions: Sequence[int]) -> list[Link]:
    """The rows at these positions, with the previous row's hash, in notification order."""
    return _links(recorder, "e.notification_id", list(positions))


_SELECT_LINKS = (
    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, e.chain_hash, "
    "p.chain_hash FROM {table} e LEFT JOIN {table} p ON p.notification_id = e.notification_id - 1 "
)


def _links(recorder: ApplicationRecorder, column: str, keys: list[Any]) -> list[Link]:
    links: list[Link] = []
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        if isinstance(recorder, ChainedPostgresApplicationRecorder):
            statement = SQL(_SELECT_LINKS + "WHERE " + column + " = ANY(%s)").format(
                table=_pg_table(recorder)
            )
            with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(statement, (chunk,))
                rows = cursor.fetchall()
        else:
            params = [k.hex if isinstance(k, UUID) else k for k in chunk]
            statement_text = _SELECT_LINKS.format(table=_sqlite_table(recorder))
            with recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
                cursor.execute(f"{statement_text}WHERE {column} IN ({','.join('?' * len(params))})", params)
                rows = cursor.fetchall()
        links.extend(
            Link(
                position,
                oid if isinstance(oid, UUID) else UUID(oid),
                version,
                topic,
                bytes(state),
                bytes(digest),
                bytes(prev) if prev is not None else (GENESIS if position == 1 else b""),
            )
            for position, oid, version, topic, state, digest, prev in rows
        )
    links.sort(key=lambda link: link.position)
    return links


def _pg_table(recorder: ChainedPostgresApplicationRecorder) -> Composed:
    return SQL("{}.{}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))


def _sqlite_table(recorder: ApplicationRecorder) -> str:
    """The events table's name (from the factory, never from input)."""
    return str(recorder.events_table_name)  # type: ignore[attr-defined]

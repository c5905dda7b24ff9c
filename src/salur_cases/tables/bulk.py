"""Bulk reads and writes of whole rows, for the projection's batches and the intake's loads.

Rows are dicts of column values, all of one batch with the same keys.
- PostgreSQL: rows new to a table are COPYed straight in, in the binary format (typed values: no
  text to format here or to parse in the server); rows that may exist are COPYed into a temporary
  staging table and upserted with one INSERT ... ON CONFLICT DO UPDATE. Rows are read by id with
  one query of an index probe per id, the ids travelling as one text (`salur_cases.store.pglist`).
- SQLite: one executemany of the driver with values converted by the columns' own SQLAlchemy types
  (exactly what SQLAlchemy would store), without its per-statement compilation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
from psycopg.adapt import PyFormat
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier
from psycopg.types.json import set_json_loads
from sqlalchemy import JSON, Connection, Table

from salur_cases.domain.clock import WIB
from salur_cases.store.pglist import SPLIT, joined
from salur_cases.store.sealed import SEALED_TYPES, PartlySealedJSON, opened, sealing, sealing_json
from salur_cases.tables.base import UTCDateTime

if TYPE_CHECKING:
    from psycopg import Copy, Cursor
    from sqlalchemy.engine import Dialect

Row = dict[str, Any]
"""A row: column name to value."""

LOAD_CHUNK = 500
"""Ids per query of `select_in` on SQLite."""

_JSON = msgspec.json.Encoder()
_BYTES = psycopg.adapters.get_dumper(bytes, PyFormat.BINARY)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=WIB) if value is not None and value.tzinfo is None else value


@lru_cache(maxsize=4096)
def _sqlite_time(value: datetime | None) -> str | None:
    """A recorded time as SQLAlchemy stores `UTCDateTime` in SQLite (naive UTC, microseconds).

    Remembers the last few thousand: an event's time is written to several tables."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = (value if value.tzinfo else value.replace(tzinfo=WIB)).astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _json_text(value: Any) -> str | None:
    return None if value is None else _JSON.encode(value).decode()


def _json_bytes(value: Any) -> bytes | None:
    return None if value is None else _JSON.encode(value)


def _converters(dialect: Dialect, table: Table, columns: Sequence[str]) -> list[tuple[int, Any]]:
    """(index, function) for the columns whose values need converting before the driver sees them.

    Sealed columns sealed (`salur_cases.store.sealed`); JSON as compact text (msgspec; PostgreSQL:
    its UTF-8 bytes, see `_pg_types`); recorded times aware (PostgreSQL, naive = WIB) or as
    SQLAlchemy's SQLite text; other SQLite columns through their own SQLAlchemy bind processors
    (dates, booleans).
    """
    postgres = dialect.name == "postgresql"
    out: list[tuple[int, Any]] = []
    for index, name in enumerate(columns):
        kind = table.c[name].type
        if postgres and isinstance(kind, PartlySealedJSON):
            out.append((index, sealing_json(dialect)))
        elif isinstance(kind, SEALED_TYPES):
            out.append((index, sealing(kind, dialect)))
        elif isinstance(kind, UTCDateTime):
            out.append((index, _aware if postgres else _sqlite_time))
        elif kind._type_affinity is JSON:  # `json` on PostgreSQL (`JSONDoc`)
            out.append((index, _json_bytes if postgres else _json_text))
        elif not postgres:
            processor = kind.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                out.append((index, processor))
    return out


def _values(
    dialect: Dialect, table: Table, rows: Sequence[Row], columns: list[str] | None = None
) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """The column names (`columns`, else all the rows' keys) and the rows' values as the driver takes them."""
    columns = columns or list(rows[0])
    getter = itemgetter(*columns)
    values = map(getter, rows) if len(columns) > 1 else ((getter(row),) for row in rows)
    return columns, _converted(dialect, table, columns, values)


def _converted(
    dialect: Dialect, table: Table, columns: Sequence[str], values: Iterable[Sequence[Any]]
) -> Iterator[Sequence[Any]]:
    """Values in `columns`' order, converted for the driver (`_converters`)."""
    converters = _converters(dialect, table, columns)
    if not converters:
        yield from values
        return
    for value in values:
        out = list(value)
        for index, convert in converters:
            out[index] = convert(out[index])
        yield out


@dataclass(frozen=True, slots=True)
class Prepared:
    """Rows of one table converted to the values the driver takes (`prepare_rows`, `prepare_values`),
    to write later."""

    table: Table
    columns: list[str]
    values: list[Sequence[Any]]


def prepare_rows(
    dialect: Dialect, table: Table, rows: Sequence[Row], columns: list[str] | None = None
) -> Prepared:
    """Convert `rows` (all with the same keys; only `columns` of them if given) now: sealed, JSON as
    text, times as the database takes them; on any thread, for `insert_prepared`, `upsert_prepared`
    or `update_prepared` to write later."""
    if not rows:
        return Prepared(table, [], [])
    columns, values = _values(dialect, table, rows, columns)
    return Prepared(table, columns, list(values))


def prepare_values(
    dialect: Dialect, table: Table, columns: list[str], values: Iterable[Sequence[Any]]
) -> Prepared:
    """`prepare_rows` for rows given as their values in `columns`' order."""
    return Prepared(table, columns, list(_converted(dialect, table, columns, values)))


def insert_prepared(conn: Connection, prepared: Prepared) -> None:
    """Insert prepared rows (none there yet) in bulk (COPY on PostgreSQL)."""
    if prepared.values:
        _write_values(conn, prepared.table, prepared.columns, prepared.values, None)


def upsert_prepared(conn: Connection, prepared: Prepared) -> None:
    """Insert or replace prepared rows by primary key, in bulk.

    PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE from it.
    SQLite: one executemany of the same upsert.
    """
    if prepared.values:
        keys = [c.name for c in prepared.table.primary_key]
        _write_values(conn, prepared.table, prepared.columns, prepared.values, keys)


def upsert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """`upsert_prepared` of `rows` (all with the same keys)."""
    upsert_prepared(conn, prepare_rows(conn.dialect, table, rows))


def update_prepared(conn: Connection, prepared: Prepared) -> None:
    """Update the prepared columns of rows (all there already; the columns include the primary key)
    by primary key.

    PostgreSQL: COPY into a temporary table of just those columns, then one UPDATE ... FROM it.
    SQLite: one executemany of the UPDATE.
    """
    if not prepared.values:
        return
    table, columns, values = prepared.table, prepared.columns, prepared.values
    keys = [c.name for c in table.primary_key]
    changed = [c for c in columns if c not in keys]
    if conn.dialect.name != "postgresql":
        sets = ", ".join(f'"{c}" = ?' for c in changed)
        where = " AND ".join(f'"{k}" = ?' for k in keys)
        order = [columns.index(c) for c in [*changed, *keys]]
        driver: Any = conn.connection.driver_connection
        driver.executemany(
            f'UPDATE "{table.name}" SET {sets} WHERE {where}',  # noqa: S608 - the table's own names
            ([value[i] for i in order] for value in values),
        )
        return
    names = SQL(", ").join(Identifier(c) for c in columns)
    target, stage = Identifier(table.name), Identifier(f"stage_update_{table.name}")
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(
            SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} WITH NO DATA"
            ).format(stage, names, target)
        )
        _copy(cursor, stage, names, _pg_types(conn.dialect, table, tuple(columns)), values)
        cursor.execute(
            SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE {}").format(
                target,
                SQL(", ").join(SQL("{0} = s.{0}").format(Identifier(c)) for c in changed),
                stage,
                SQL(" AND ").join(SQL("t.{0} = s.{0}").format(Identifier(k)) for k in keys),
            )
        )
        cursor.execute(SQL("DELETE FROM {}").format(stage))


def _write_values(
    conn: Connection,
    table: Table,
    columns: list[str],
    values: Iterable[Sequence[Any]],
    keys: list[str] | None,
) -> None:
    if conn.dialect.name == "postgresql":
        _pg_write(conn, table, columns, values, keys)
        return
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})'  # noqa: S608
    if keys is not None:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
        conflict = ", ".join(f'"{k}"' for k in keys)
        statement += f" ON CONFLICT ({conflict}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
    driver: Any = conn.connection.driver_connection
    driver.executemany(statement, values)


def _pg_write(
    conn: Connection,
    table: Table,
    columns: list[str],
    values: Iterable[Sequence[Any]],
    keys: list[str] | None,
) -> None:
    """COPY rows into `table`, or (with `keys`) upsert them through a temporary staging table."""
    names = SQL(", ").join(Identifier(c) for c in columns)
    target = Identifier(table.name)
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor:
        into = target
        if keys is not None:
            into = Identifier(f"stage_{table.name}")
            cursor.execute(
                SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(into, target)
            )
        _copy(cursor, into, names, _pg_types(conn.dialect, table, tuple(columns)), values)
        if keys is None:
            return
        updates = SQL(", ").join(
            SQL("{0} = EXCLUDED.{0}").format(Identifier(c)) for c in columns if c not in keys
        )
        cursor.execute(
            SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO UPDATE SET {}").format(
                target, names, names, into, SQL(", ").join(Identifier(k) for k in keys), updates
            )
        )
        cursor.execute(SQL("DELETE FROM {}").format(into))


@cache
def _pg_types(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> list[str]:
    """The type names `columns` are dumped as in a binary COPY (`varchar`, `bigint`, `timestamp with
    time zone`, ...). A `json` column's binary form is its UTF-8 text: the values arrive as those
    bytes (`_converters`) and are dumped as `bytea`, whose binary form is the bytes themselves (a
    binary COPY names no types: the server reads each field as its column's)."""
    names = [table.c[c].type.compile(dialect=dialect).partition("(")[0].lower() for c in columns]
    return ["bytea" if name == "json" else name for name in names]


def _copy(
    cursor: Cursor[Any], into: Identifier, names: Any, types: list[str], values: Iterable[Sequence[Any]]
) -> None:
    """COPY `values` into the `names` columns of `into` in the binary format."""
    with _copying(cursor, into, names, types) as copy:
        for value in values:
            copy.write_row(value)


@contextmanager
def _copying(cursor: Cursor[Any], into: Identifier, names: Any, types: list[str]) -> Iterator[Copy]:
    """A COPY into the `names` columns of `into` in the binary format, ended with the block.

    Bytes are dumped by psycopg's compiled dumper: by the bytea oid, `set_types` would take the DB-API
    `Binary` wrapper's, which first checks each value in Python.
    """
    cursor.adapters.register_dumper(bytes, _BYTES)  # this cursor's adapters only
    with cursor.copy(SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(into, names)) as copy:
        copy.set_types(types)
        yield copy


def _json_loads(data: bytes | bytearray | memoryview | str) -> Any:
    return msgspec.json.decode(data)


def select_in(
    conn: Connection, table: Table, column: str, ids: Iterable[str], columns: Sequence[str] | None = None
) -> list[Row]:
    """Rows (all their columns, or only `columns`) whose `column` is one of `ids` (PostgreSQL: one
    query; SQLite: in chunks, each value through its column's own SQLAlchemy result processor, the
    sealed ones opened by theirs)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    names = list(columns) if columns is not None else [c.name for c in table.c]
    if conn.dialect.name == "postgresql":
        driver: Any = conn.connection.driver_connection
        with driver.cursor(row_factory=dict_row) as cursor:
            set_json_loads(_json_loads, cursor)
            query = SQL(  # an index probe per id: `= ANY` may scan the whole table instead
                "SELECT r.* FROM unnest({}) AS wanted(id), LATERAL "
                "(SELECT {} FROM {} AS x WHERE x.{} = wanted.id OFFSET 0) AS r"
            ).format(
                SQL(SPLIT),
                SQL(", ").join(Identifier(n) for n in names),
                Identifier(table.name),
                Identifier(column),
            )
            return opened(conn.dialect, table, list(cursor.execute(query, [joined(wanted)])))
    dialect = conn.dialect
    kinds = [table.c[n].type.dialect_impl(dialect) for n in names]
    processors = [(i, p) for i, kind in enumerate(kinds) if (p := kind.result_processor(dialect, None))]
    chosen = ", ".join(f'"{n}"' for n in names)
    lite: Any = conn.connection.driver_connection
    rows: list[Row] = []
    for chunk in _chunks(wanted, LOAD_CHUNK):
        marks = ", ".join("?" * len(chunk))
        statement = f'SELECT {chosen} FROM "{table.name}" WHERE "{column}" IN ({marks})'  # noqa: S608 - the table's own names
        for value in lite.execute(statement, chunk):
            out = list(value)
            for index, process in processors:
                out[index] = process(out[index])
            rows.append(dict(zip(names, out, strict=True)))
    return rows

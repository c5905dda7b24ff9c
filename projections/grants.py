"""`salur db grant ROLE`: what the server's PostgreSQL role may do, and no more.

Run it as the owner of the schema (the role that ran `salur db upgrade`), then run the server as ROLE.
ROLE may read the event store and append to it: INSERT and SELECT, never UPDATE, DELETE or TRUNCATE,
so no bug or stolen server credential can rewrite history. Writers serialise on an advisory lock,
which needs no privilege on the table. The read models, imports and idempotency tables (everything
else in the schema) are the server's working state: it may read, insert, update and delete their rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg.sql import SQL, Composed, Identifier

from salur_cases.domain.errors import InvalidCommand
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

if TYPE_CHECKING:
    import argparse

    from salur_cases.store.postgres import ChainedPostgresApplicationRecorder


def grant_statements(schema: str, events_table: str, other_tables: list[str], role: str) -> list[Composed]:
    """The statements that give `role` the server's privileges in `schema`, and take away any others."""
    who, where = Identifier(role), Identifier(schema)
    events = SQL("{}.{}").format(where, Identifier(events_table))
    statements = [
        SQL("GRANT USAGE ON SCHEMA {} TO {}").format(where, who),
        SQL("REVOKE ALL ON {} FROM {}").format(events, who),
        SQL("GRANT SELECT, INSERT ON {} TO {}").format(events, who),
    ]
    for table in other_tables:
        name = SQL("{}.{}").format(where, Identifier(table))
        statements += [
            SQL("REVOKE ALL ON {} FROM {}").format(name, who),
            SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(name, who),
        ]
    statements.append(SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(where, who))
    return statements


def grant(runtime: Runtime, role: str) -> list[str]:
    """Give `role` the server's privileges on the runtime's schema; return the tables it may change."""
    if not runtime.settings.is_postgres:
        raise InvalidCommand("SALUR_DATABASE_URL", "`salur db grant` is for PostgreSQL (SQLite has no roles)")
    recorder: ChainedPostgresApplicationRecorder = runtime.app.recorder  # type: ignore[assignment]
    schema = recorder.datastore.schema
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if cursor.fetchone() is None:
            raise InvalidCommand(
                "ROLE", f"no PostgreSQL role {role!r}: create it first (CREATE ROLE ... LOGIN)"
            )
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> %s ORDER BY tablename",
            (schema, recorder.events_table_name),
        )
        others = [row["tablename"] for row in cursor.fetchall()]
        for statement in grant_statements(schema, recorder.events_table_name, others, role):
            cursor.execute(statement)
    return others


def grant_command(args: argparse.Namespace) -> int:
    """`salur db grant ROLE`: print what ROLE may now do."""
    runtime = Runtime(get_settings())
    try:
        others = grant(runtime, args.role)
        events = runtime.app.recorder.events_table_name  # type: ignore[attr-defined]
    finally:
        runtime.close()
    print(f"{args.role}: SELECT, INSERT on {events} (no UPDATE, DELETE or TRUNCATE)")
    print(f"{args.role}: SELECT, INSERT, UPDATE, DELETE on {len(others)} other tables: {', '.join(others)}")
    return 0

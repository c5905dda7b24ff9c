"""Schema migrations (alembic) of the read side: `salur db upgrade` and the start-up check.

The alembic Config is built in code and the scripts are found beside the installed
`salur_cases.migrations` package, so this works from a wheel and from any working directory.
Every area has its own branch of revisions; an upgrade goes to all `heads`.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Connection, text

from salur_cases.keyring import record_keys
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Set

UPGRADE_COMMAND = "salur db upgrade"
_LOCK_KEY = 727_100_001
"""PostgreSQL advisory lock taken while migrating (two processes never migrate at once)."""


class SchemaOutOfDate(RuntimeError):
    """The database's read-side schema is not at the code's migration heads."""


def scripts_dir() -> Path:
    """The installed migration scripts (env.py, versions/)."""
    return Path(str(resources.files("salur_cases.migrations")))


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config built in code; `connection` is handed to env.py."""
    config = Config()
    config.set_main_option("script_location", str(scripts_dir()))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def code_heads() -> Set[str]:
    """The migration heads this code expects (one per area's branch)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_heads(runtime: Runtime) -> Set[str]:
    """The revisions the database is at (empty before the first upgrade)."""
    with runtime.engine.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())


def upgrade(runtime: Runtime) -> None:
    """Apply every pending migration, in one transaction (creating the URL's schema if needed), and
    record the keys' check values (or refuse keys that are not the database's)."""
    with runtime.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            if runtime.schema:
                statement = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(runtime.schema))
                conn.exec_driver_sql(statement.as_string(None))
        command.upgrade(alembic_config(conn), "heads")
        record_keys(conn, runtime.settings)


def ensure_current(runtime: Runtime) -> None:
    """Raise SchemaOutOfDate, naming the command to run, unless the database is at the code's heads."""
    expected, actual = code_heads(), database_heads(runtime)
    if expected != actual:
        missing = ", ".join(sorted(expected - actual)) or "none"
        raise SchemaOutOfDate(
            f"the database schema is not up to date (missing revisions: {missing}); run `{UPGRADE_COMMAND}`"
        )


def upgrade_command(args: argparse.Namespace) -> int:  # noqa: ARG001 - the CLI's handler signature
    """`salur db upgrade`: apply the migrations and print the heads reached."""
    runtime = Runtime(get_settings())
    try:
        upgrade(runtime)
        heads = ", ".join(sorted(database_heads(runtime)))
    finally:
        runtime.close()
    print(f"database schema up to date (heads: {heads})")
    return 0

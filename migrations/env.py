"""Alembic environment: every table of `salur_cases.tables.metadata`.

`salur db upgrade` (see `salur_cases.projections.migrate`) builds the alembic Config in code and
hands over an open connection in `config.attributes["connection"]`. Run by the `alembic` command
instead (developers: `alembic -c migrations/alembic.ini revision --autogenerate --head BRANCH@head`),
it connects to the configured SALUR_DATABASE_URL itself. Each area has its own branch of revisions
("projections", "intake", "audit"); upgrades go to `heads`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from salur_cases.tables import metadata

target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL for the URL in the config (`alembic upgrade heads --sql`)."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the given connection, or over the configured database's."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from salur_cases.runtime import Runtime  # noqa: PLC0415 - only when run by the alembic command
    from salur_cases.settings import get_settings  # noqa: PLC0415

    runtime = Runtime(get_settings())
    try:
        with runtime.engine.begin() as conn:
            _run(conn)
    finally:
        runtime.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

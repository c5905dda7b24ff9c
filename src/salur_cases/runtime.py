"""One place that turns settings into the running parts: the application and the SQL engine.

A PostgreSQL URL may carry `?schema=NAME` (the project's own convention): the event store and the
read models then live in that schema, which is how each test gets a fresh one. The name is checked as
an identifier when the settings load, and quoted wherever it is used.

A new SQLite database file is created with mode 0600 (SQLite gives its `-wal` and `-shm` files the
same mode). Engines never put statement parameters (names, NIKs) into the text of their errors.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from psycopg import sql
from sqlalchemy import create_engine, event, make_url

from salur_cases.settings import Settings, split_schema, to_sqlalchemy_url

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from salur_cases.application import SalurApplication


__all__ = ["Runtime", "create_private_file", "split_schema"]


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600, unless it exists (a database file nobody else may read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@dataclass
class Runtime:
    """The application and the engine for one process, built lazily from the settings."""

    settings: Settings

    def __post_init__(self) -> None:
        if (path := self.settings.sqlite_path) is not None:
            create_private_file(path)

    @cached_property
    def schema(self) -> str | None:
        """The PostgreSQL schema the URL names, if any."""
        return split_schema(self.settings.database_url)[1]

    @cached_property
    def engine(self) -> Engine:
        """SQLAlchemy engine for the read models (same database as the event store)."""
        return self._create_engine()

    @cached_property
    def reader(self) -> Engine:
        """An engine for reads that need no transaction. Its connections are born autocommit and are
        not reset when they return to the pool: no BEGIN, ROLLBACK or isolation-level switch around
        each query (what the API's lookups and explanations pay most)."""
        return self._create_engine(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)

    def _create_engine(self, **options: Any) -> Engine:
        """An engine on the settings' database. PostgreSQL sessions run with `jit = off` (added to any
        `options` the URL gives): the projection's batch reads probe an index per id, the planner cannot
        count the ids in their one array parameter, guesses a costly plan and compiled it with LLVM
        (3.3 s of compiling in 37 batches' roster reads at scale 0.3)."""
        url = to_sqlalchemy_url(split_schema(self.settings.database_url)[0])
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True, **options
            )

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
                cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

            return engine
        address = make_url(url)
        given = address.query.get("options", ())
        settings = [*((given,) if isinstance(given, str) else given), "-cjit=off"]
        if self.schema:
            settings.append("-csearch_path=" + sql.Identifier(self.schema).as_string(None))
        return create_engine(
            address.difference_update_query(["options"]),
            connect_args={"options": " ".join(settings)},
            pool_size=10,
            max_overflow=10,
            hide_parameters=True,
            **options,
        )

    @cached_property
    def app(self) -> SalurApplication:
        """The application service over the event store, matching against the loaded population extract."""
        from salur_cases.application import SalurApplication  # noqa: PLC0415 - heavy import, on demand
        from salur_cases.intake.population import PopulationTable  # noqa: PLC0415

        return SalurApplication(
            self.settings, schema=self.schema, population=PopulationTable(self.engine, self.settings.id_key)
        )

    def close(self) -> None:
        """Release connections."""
        if "app" in self.__dict__:
            self.app.close()
        for engine in ("engine", "reader"):
            if engine in self.__dict__:
                self.__dict__[engine].dispose()

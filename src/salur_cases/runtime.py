"""One place that turns settings into the running parts: the application and the SQL engine.

A PostgreSQL URL may carry `?schema=NAME` (the project's own convention): the event store and the
read models then live in that schema, which is how each test gets a fresh one. The name is checked as
an identifier when the settings load, and quoted wherever it is used.

A new SQLite database file is created with mode 0600 (SQLite gives its `-wal` and `-shm` files the
same mode). Engines never put statement parameters (names, NIKs) into the text of their errors.

With ``SALUR_READ_DATABASE_URL`` set, the read side's queries (``reader``) go to that PostgreSQL hot
standby; the event store, the projections and every write stay on the primary (``engine``).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from psycopg import sql
from sqlalchemy import URL, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import OperationalError

from salur_cases.keyring import verify_keys
from salur_cases.settings import DatabaseMissing, Settings, split_schema, to_sqlalchemy_url
from salur_cases.store.keys import read_model_sealer
from salur_cases.store.sealed import attach_sealer

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from salur_cases.application import SalurApplication


__all__ = ["EVENT_TABLES", "Runtime", "create_private_file", "require_database", "split_schema"]

EVENT_TABLES = ("stored_events", "salur_events")
"""The event store's table: eventsourcing names it ``stored_events`` on SQLite, after the application
(``salur_events``) on PostgreSQL."""


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600, unless it exists (a database file nobody else may read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@dataclass
class Runtime:
    """The application and the engine for one process, built lazily from the settings."""

    settings: Settings
    create: bool = True
    """Whether a missing SQLite file is created (mode 0600); commands that only read pass False."""

    def __post_init__(self) -> None:
        if self.create and (path := self.settings.sqlite_path) is not None:
            create_private_file(path)

    @cached_property
    def schema(self) -> str | None:
        """The PostgreSQL schema the URL names, if any."""
        return split_schema(self.settings.database_url)[1]

    @cached_property
    def engine(self) -> Engine:
        """SQLAlchemy engine for the read models (same database as the event store); their personal
        columns are sealed with the key derived from `SALUR_ENCRYPTION_KEY` (`salur_cases.store.sealed`)."""
        return self._create_engine()

    @cached_property
    def reader(self) -> Engine:
        """An engine for reads that need no transaction, on the standby when one is configured. Its
        connections are born autocommit and are not reset when they return to the pool: no BEGIN,
        ROLLBACK or isolation-level switch around each query (what the API's lookups and explanations
        pay most)."""
        return self._create_engine(
            self.settings.read_database_url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
        )

    @property
    def has_standby(self) -> bool:
        """Whether the read side's queries go to a standby."""
        return self.settings.read_database_url is not None

    def _create_engine(self, database_url: str | None = None, **options: Any) -> Engine:
        engine = self._connect(database_url, **options)
        attach_sealer(engine.dialect, read_model_sealer(self.settings.encryption_key))
        return engine

    def _connect(self, database_url: str | None = None, **options: Any) -> Engine:
        """An engine on ``database_url`` (default the settings' database). PostgreSQL sessions run with
        `jit = off` (added to any `options` the URL gives): the projection's batch reads probe an index
        per id, the planner cannot count the ids in their one array parameter, guesses a costly plan and
        compiled it with LLVM (3.3 s of compiling in 37 batches' roster reads at scale 0.3)."""
        url, schema = split_schema(database_url or self.settings.database_url)
        url = to_sqlalchemy_url(url)
        schema = schema or self.schema  # a standby holds the primary's schemas
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
        address, session = _session_options(url, schema)
        return create_engine(
            address,
            connect_args={"options": session},
            pool_size=10,
            max_overflow=10,
            hide_parameters=True,
            **options,
        )

    def reader_conninfo(self) -> tuple[str, str]:
        """PostgreSQL: the libpq URL of the reader's database and its sessions' ``options`` (as the
        engines' connections have them), for a driver-level pool of the read side."""
        url, schema = split_schema(self.settings.read_database_url or self.settings.database_url)
        address, session = _session_options(to_sqlalchemy_url(url), schema or self.schema)
        return address.set(drivername="postgresql").render_as_string(hide_password=False), session

    @cached_property
    def app(self) -> SalurApplication:
        """The application service over the event store, matching against the loaded population extract.

        Raises :class:`KeysMismatch` when the configured keys are not those the database was made with.
        """
        with self.engine.connect() as conn:
            verify_keys(conn, self.settings)
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


def _session_options(url: str, schema: str | None) -> tuple[URL, str]:
    """A PostgreSQL URL without its ``options``, and those options with ``jit`` off and the schema's
    ``search_path`` added."""
    address = make_url(url)
    given = address.query.get("options", ())
    settings = [*((given,) if isinstance(given, str) else given), "-cjit=off"]
    if schema:
        settings.append("-csearch_path=" + sql.Identifier(schema).as_string(None))
    return address.difference_update_query(["options"]), " ".join(settings)


def require_database(settings: Settings, *, needs_events: bool = False) -> None:
    """Refuse (:class:`DatabaseMissing`) a database this product did not make (no event store, no
    migrations), or without events when ``needs_events``, and (:class:`KeysMismatch`) keys that are
    not the database's. Creates nothing: for the commands that only read."""
    path = settings.sqlite_path
    if path is not None and not path.is_file():
        raise DatabaseMissing(f"no database at {path}: set SALUR_DATABASE_URL to the database's URL")
    runtime = Runtime(settings, create=False)
    try:
        with runtime.engine.connect() as conn:
            tables = inspect(conn)
            store = next((name for name in EVENT_TABLES if tables.has_table(name)), None)
            if store is None and not tables.has_table("alembic_version"):
                raise DatabaseMissing("the database of SALUR_DATABASE_URL is not a salur database: check it")
            verify_keys(conn, settings)
            if needs_events and (
                store is None or conn.execute(text(f"SELECT 1 FROM {store} LIMIT 1")).first() is None  # noqa: S608 - a name of ours
            ):
                raise DatabaseMissing("the database of SALUR_DATABASE_URL holds no events: nothing to check")
    except OperationalError:
        raise DatabaseMissing("cannot open the database of SALUR_DATABASE_URL: check it") from None
    finally:
        runtime.close()

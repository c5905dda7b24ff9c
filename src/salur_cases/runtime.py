"""One place that turns settings into the running parts: the application and the SQL engine.

A PostgreSQL URL may carry `?schema=NAME` (the project's own convention): the event store and the
read models then live in that schema, which is how each test gets a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from sqlalchemy import create_engine, event, make_url

from salur_cases.settings import Settings, to_sqlalchemy_url
from salur_cases.store.keys import read_model_sealer
from salur_cases.store.sealed import attach_sealer
from salur_cases.store.sqlite import create_private

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from salur_cases.application import SalurApplication


def split_schema(url: str) -> tuple[str, str | None]:
    """The URL without its `schema` query parameter, and that schema (PostgreSQL only)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return url, None
    query = parse_qs(parts.query)
    schema = query.pop("schema", [None])[-1]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), schema


@dataclass
class Runtime:
    """The application and the engine for one process, built lazily from the settings."""

    settings: Settings

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
        """An engine for reads that need no transaction. Its connections are born autocommit and are
        not reset when they return to the pool: no BEGIN, ROLLBACK or isolation-level switch around
        each query (what the API's lookups and explanations pay most)."""
        return self._create_engine(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)

    def _create_engine(self, **options: Any) -> Engine:
        engine = self._connect(**options)
        attach_sealer(engine.dialect, read_model_sealer(self.settings.encryption_key))
        return engine

    def _connect(self, **options: Any) -> Engine:
        """An engine on the settings' database. PostgreSQL sessions run with `jit = off` (added to any
        `options` the URL gives): the projection's batch reads probe an index per id, the planner cannot
        count the ids in their one array parameter, guesses a costly plan and compiled it with LLVM
        (3.3 s of compiling in 37 batches' roster reads at scale 0.3)."""
        url = to_sqlalchemy_url(split_schema(self.settings.database_url)[0])
        if url.startswith("sqlite"):
            if self.settings.sqlite_path is not None:
                create_private(str(self.settings.sqlite_path))
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)

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
            settings.append(f"-csearch_path={self.schema}")
        return create_engine(
            address.difference_update_query(["options"]),
            connect_args={"options": " ".join(settings)},
            pool_size=10,
            max_overflow=10,
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

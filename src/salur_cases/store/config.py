"""Map the project's single database URL onto eventsourcing's environment variables."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

SQLITE_MODULE = "salur_cases.store.sqlite"
POSTGRES_MODULE = "salur_cases.store.postgres"
MAPPER_TOPIC = "salur_cases.store.transcoder:EventMapper"

SQLITE_SHARED_MEMORY = "file:salur_mem?mode=memory&cache=shared"
"""What ``sqlite:///:memory:`` becomes: one in-memory database shared by the process's connections."""

LOCK_TIMEOUT_SECONDS = "10"

_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})


def eventsourcing_env(database_url: str, schema: str | None = None) -> dict[str, str]:
    """Return the eventsourcing env for ``database_url``.

    Accepted: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``sqlite:///:memory:`` and
    ``postgresql://user:pw@host:port/db[?schema=NAME]``. ``schema`` overrides the URL's ``schema``.
    SQLite files run in WAL mode (eventsourcing switches them), so other connections can read while
    the application writes. Events are mapped by :class:`salur_cases.store.transcoder.EventMapper`.
    """
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        if parts.netloc or parts.query:
            msg = f"unsupported SQLite URL (expected sqlite:///path): {database_url!r}"
            raise ValueError(msg)
        path = parts.path[1:]
        if not path:
            msg = f"SQLite URL names no file: {database_url!r}"
            raise ValueError(msg)
        return {
            "PERSISTENCE_MODULE": SQLITE_MODULE,
            "MAPPER_TOPIC": MAPPER_TOPIC,
            "SQLITE_DBNAME": SQLITE_SHARED_MEMORY if path == ":memory:" else path,
            "SQLITE_LOCK_TIMEOUT": LOCK_TIMEOUT_SECONDS,
            "CREATE_TABLE": "y",
        }
    if parts.scheme in _POSTGRES_SCHEMES:
        query = parse_qs(parts.query, strict_parsing=bool(parts.query))
        unknown = set(query) - {"schema"}
        if unknown:
            msg = f"unsupported PostgreSQL URL parameters: {sorted(unknown)}"
            raise ValueError(msg)
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            msg = f"PostgreSQL URL names no database: {database_url!r}"
            raise ValueError(msg)
        return {
            "PERSISTENCE_MODULE": POSTGRES_MODULE,
            "MAPPER_TOPIC": MAPPER_TOPIC,
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "localhost",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": schema or query.get("schema", ["public"])[-1],
            "POSTGRES_LOCK_TIMEOUT": LOCK_TIMEOUT_SECONDS,
            "POSTGRES_CONNECT_TIMEOUT": LOCK_TIMEOUT_SECONDS,
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            "CREATE_TABLE": "y",
        }
    msg = f"unsupported database URL scheme {parts.scheme!r} (use sqlite:/// or postgresql://)"
    raise ValueError(msg)

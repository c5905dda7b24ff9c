"""Configuration from the environment (12-factor): every ``SALUR_*`` variable is read here, once.

Secrets (see :mod:`salur_cases.keys`) are at least 32 random bytes, written as hex or base64, and
differ from each other. With PostgreSQL, ``SALUR_ID_KEY``, ``SALUR_SECRET_KEY`` and
``SALUR_SIGNING_KEY`` are required, and ``SALUR_ENCRYPTION_KEY`` too unless
``SALUR_ALLOW_PLAINTEXT=1``. With SQLite, missing secrets are generated together into
``<database file>.keys`` (JSON, mode 0600) beside a new database, with a warning; a database that
already holds events never gets new keys (:class:`KeysMissing`), and a command that only reads never
generates any (``load_settings(..., create=False)``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from salur_cases.keys import (
    KEY_VARIABLES,
    SIGNING_SEED_BYTES,
    BadKey,
    decode_secret,
    generate_key_set,
    keys_file_for,
    read_keys_file,
    require_distinct,
    write_keys_file,
)
from salur_cases.logging import get_logger

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_TEST_DATABASE_URL",
    "ConfigError",
    "DatabaseMissing",
    "KeysMissing",
    "Settings",
    "get_settings",
    "load_settings",
    "log_format_from_env",
    "reset_settings_cache",
    "split_schema",
]

DEFAULT_DATABASE_URL = "sqlite:///./salur.db"
DEFAULT_TEST_DATABASE_URL = "postgresql://127.0.0.1:5432/test"
DEFAULT_PROJECTION_BATCH = 20_000
LOG_FORMATS = ("console", "json")
PREVIOUS_SECRET_VARIABLE = "SALUR_PREVIOUS_SECRET_KEY"  # noqa: S105 - a variable's name, not a secret
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class ConfigError(ValueError):
    """A missing or invalid setting; the message names the variable."""


class DatabaseMissing(ConfigError):
    """A command that only reads, pointed at a database that does not exist (or holds nothing)."""


class KeysMissing(ConfigError):
    """A database that holds events, or a command that only reads, without the database's keys."""


@dataclass(frozen=True)
class Settings:
    """The process's settings; build with :func:`load_settings` or :func:`get_settings`."""

    database_url: str = DEFAULT_DATABASE_URL
    id_key: bytes = field(default=b"", repr=False)
    secret_key: bytes = field(default=b"", repr=False)
    previous_secret_keys: tuple[bytes, ...] = field(default=(), repr=False)
    """Token secrets still accepted during a rotation window (``SALUR_PREVIOUS_SECRET_KEY``)."""
    encryption_key: bytes | None = field(default=None, repr=False)
    signing_key: bytes | None = field(default=None, repr=False)
    allow_plaintext: bool = False
    log_format: str = "json"
    test_database_url: str = DEFAULT_TEST_DATABASE_URL
    max_body_bytes: int = 16 * 1024
    """``SALUR_MAX_BODY_BYTES``: the largest request body of a JSON route (and of ``/public/status``)."""
    import_max_bytes: int = 64 * 1024 * 1024
    """``SALUR_IMPORT_MAX_BYTES``: the largest import file (the request body of ``POST /imports``)."""
    import_max_unpacked_bytes: int = 256 * 1024 * 1024
    """``SALUR_IMPORT_MAX_UNPACKED_BYTES``: the most an XLSX workbook may unpack to."""
    import_max_rows: int = 2_000_000
    """``SALUR_IMPORT_MAX_ROWS``: the most data rows an import file may have."""
    import_max_cell_chars: int = 1000
    """``SALUR_IMPORT_MAX_CELL_CHARS``: the longest cell of an import file."""
    bulk_workers: int | None = None
    projection_batch: int = DEFAULT_PROJECTION_BATCH
    api_board: str | None = None
    """The shared-memory file of a multi-worker server (``SALUR_API_BOARD``, set by ``salur serve``)."""
    read_database_url: str | None = None
    """A PostgreSQL hot standby of the database that answers the read side's queries (unset: the database)."""

    @property
    def is_postgres(self) -> bool:
        """Whether the database URL selects PostgreSQL."""
        return self.database_url.startswith(_POSTGRES_SCHEMES)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database URL selects SQLite."""
        return self.database_url.startswith("sqlite:")

    @property
    def sqlalchemy_url(self) -> str:
        """The URL for SQLAlchemy: ``postgresql://`` becomes ``postgresql+psycopg://`` (psycopg 3)."""
        return to_sqlalchemy_url(self.database_url)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL or an in-memory database."""
        return sqlite_path(self.database_url)

    @property
    def token_secrets(self) -> tuple[bytes, ...]:
        """Secrets a token may be signed with: the current one first, then those being rotated out."""
        return (self.secret_key, *self.previous_secret_keys)


def to_sqlalchemy_url(url: str) -> str:
    """Rewrite ``postgresql://`` / ``postgres://`` to ``postgresql+psycopg://``; others unchanged."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def split_schema(url: str) -> tuple[str, str | None]:
    """The URL without its ``schema`` query parameter, and that schema (PostgreSQL only).

    The schema must be an identifier (a letter or ``_``, then letters, digits or ``_``; at most 63).
    """
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return url, None
    query = parse_qs(parts.query)
    schema = query.pop("schema", [None])[-1]
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise ConfigError(
            "SALUR_DATABASE_URL: its schema must be letters, digits and _, not starting with a digit"
        )
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), schema


def sqlite_path(url: str) -> Path | None:
    """``sqlite:///./x.db`` -> ``./x.db``; ``sqlite:////abs/x.db`` -> ``/abs/x.db``; memory -> None."""
    if not url.startswith("sqlite:"):
        return None
    rest = url[len("sqlite:") :]
    if not rest.startswith("//"):
        raise ConfigError("SALUR_DATABASE_URL: a SQLite URL looks like sqlite:///./salur.db")
    rest = rest[2:]  # after "sqlite://" comes the (empty) host, then "/" and the path
    path = rest.split("?", 1)[0]
    path = path.removeprefix("/")
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        return None
    return Path(path)


def log_format_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``SALUR_LOG_FORMAT`` if set, else ``console`` on a terminal and ``json`` otherwise."""
    env = os.environ if environ is None else environ
    value = env.get("SALUR_LOG_FORMAT", "").strip().lower()
    if not value:
        return "console" if sys.stderr.isatty() else "json"
    if value not in LOG_FORMATS:
        raise ConfigError("SALUR_LOG_FORMAT must be 'console' or 'json'")
    return value


def load_settings(environ: Mapping[str, str] | None = None, *, create: bool = True) -> Settings:
    """Read the settings from ``environ`` (default ``os.environ``); raise :class:`ConfigError`.

    ``create=False`` (commands that only read) never creates anything: a SQLite file that does not
    exist is refused with :class:`DatabaseMissing`, one without its keys with :class:`KeysMissing`.
    """
    env = os.environ if environ is None else environ
    database_url = env.get("SALUR_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not database_url.startswith(("sqlite:", *_POSTGRES_SCHEMES)):
        raise ConfigError("SALUR_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    split_schema(database_url)
    allow_plaintext = _flag(env, "SALUR_ALLOW_PLAINTEXT")
    given = {name: env.get(variable, "").strip() for name, variable in KEY_VARIABLES.items()}
    if database_url.startswith(_POSTGRES_SCHEMES):
        _require_postgres_keys(given, allow_plaintext=allow_plaintext)
        texts = given
    else:
        path = sqlite_path(database_url)
        if not create and path is not None and not (path.is_file() and path.stat().st_size):
            raise DatabaseMissing(
                f"no database at {path}: set SALUR_DATABASE_URL to the database's URL, or run where it is"
            )
        texts = _sqlite_keys(path, given, allow_plaintext=allow_plaintext, create=create)
    keys = _decode_keys(texts)
    previous = tuple(
        _decoded(PREVIOUS_SECRET_VARIABLE, text)
        for text in env.get(PREVIOUS_SECRET_VARIABLE, "").replace(",", " ").split()
    )
    _distinct({KEY_VARIABLES[name]: raw for name, raw in keys.items() if raw is not None}, previous)
    return Settings(
        database_url=database_url,
        id_key=keys["id_key"] or b"",
        secret_key=keys["secret_key"] or b"",
        previous_secret_keys=previous,
        encryption_key=keys["encryption_key"],
        signing_key=keys["signing_key"],
        allow_plaintext=allow_plaintext,
        log_format=log_format_from_env(env),
        test_database_url=env.get("SALUR_TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL,
        max_body_bytes=_positive_int(env, "SALUR_MAX_BODY_BYTES", Settings.max_body_bytes),
        import_max_bytes=_positive_int(env, "SALUR_IMPORT_MAX_BYTES", Settings.import_max_bytes),
        import_max_unpacked_bytes=_positive_int(
            env, "SALUR_IMPORT_MAX_UNPACKED_BYTES", Settings.import_max_unpacked_bytes
        ),
        import_max_rows=_positive_int(env, "SALUR_IMPORT_MAX_ROWS", Settings.import_max_rows),
        import_max_cell_chars=_positive_int(
            env, "SALUR_IMPORT_MAX_CELL_CHARS", Settings.import_max_cell_chars
        ),
        bulk_workers=_positive_int(env, "SALUR_BULK_WORKERS", 0) or None,
        projection_batch=_positive_int(env, "SALUR_PROJECTION_BATCH", DEFAULT_PROJECTION_BATCH),
        api_board=env.get("SALUR_API_BOARD", "").strip() or None,
        read_database_url=_read_database_url(env, database_url),
    )


def _positive_int(env: Mapping[str, str], variable: str, default: int) -> int:
    """A limit: a positive whole number (``_`` may group digits), or ConfigError naming the variable."""
    value = env.get(variable, "").strip().replace("_", "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) <= 0:
        raise ConfigError(f"{variable} must be a positive whole number")
    return int(value)


def _flag(env: Mapping[str, str], variable: str) -> bool:
    value = env.get(variable, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{variable} must be 1 or 0")


def _read_database_url(env: Mapping[str, str], database_url: str) -> str | None:
    """``SALUR_READ_DATABASE_URL``: a standby only follows a PostgreSQL primary."""
    url = env.get("SALUR_READ_DATABASE_URL", "").strip() or None
    if url is not None and not (
        url.startswith(_POSTGRES_SCHEMES) and database_url.startswith(_POSTGRES_SCHEMES)
    ):
        raise ConfigError(
            "SALUR_READ_DATABASE_URL must be a postgresql:// URL, beside a PostgreSQL SALUR_DATABASE_URL"
        )
    return url


def _require_postgres_keys(given: dict[str, str], *, allow_plaintext: bool) -> None:
    for name, variable in KEY_VARIABLES.items():
        if given[name] or (name == "encryption_key" and allow_plaintext):
            continue
        hint = " (or SALUR_ALLOW_PLAINTEXT=1)" if name == "encryption_key" else ""
        raise ConfigError(f"{variable} is required when SALUR_DATABASE_URL is PostgreSQL{hint}")


def _decoded(variable: str, text: str, *, exact: int | None = None) -> bytes:
    try:
        return decode_secret(variable, text, exact=exact)
    except BadKey as error:
        raise ConfigError(str(error)) from None


def _decode_keys(texts: dict[str, str]) -> dict[str, bytes | None]:
    return {
        name: _decoded(variable, texts[name], exact=SIGNING_SEED_BYTES if name == "signing_key" else None)
        if texts.get(name)
        else None
        for name, variable in KEY_VARIABLES.items()
    }


def _distinct(named: dict[str, bytes], previous: tuple[bytes, ...]) -> None:
    with_previous = dict(named)
    for number, raw in enumerate(previous, 1):
        with_previous[f"{PREVIOUS_SECRET_VARIABLE} (#{number})"] = raw
    try:
        require_distinct(with_previous)
    except BadKey as error:
        raise ConfigError(str(error)) from None


def _sqlite_keys(
    db_path: Path | None, given: dict[str, str], *, allow_plaintext: bool, create: bool
) -> dict[str, str]:
    """The SQLite database's keys: the environment's, else its ``.keys`` file's, else new ones."""
    wanted = [n for n in KEY_VARIABLES if not (n == "encryption_key" and allow_plaintext)]
    missing = [name for name in wanted if not given[name]]
    if not missing:
        return given
    log = get_logger(__name__)
    if db_path is None:
        generated = generate_key_set()
        log.warning(
            "generated keys for an in-memory database; they are lost at exit",
            variables=[KEY_VARIABLES[name] for name in missing],
        )
        return given | {name: generated[name] for name in missing}
    path = keys_file_for(db_path)
    try:
        stored = read_keys_file(path)
    except BadKey as error:
        raise ConfigError(str(error)) from None
    absent = [name for name in missing if not stored.get(name)]
    if absent:
        _refuse_new_keys(db_path, path, [KEY_VARIABLES[name] for name in absent], create=create)
        if stored:  # a keys file from an older version that held fewer secrets: never rewrite it
            raise KeysMissing(
                f"the keys file {path} lacks {', '.join(KEY_VARIABLES[n] for n in absent)}: set them"
            )
        fresh = generate_key_set()
        stored = write_keys_file(path, {name: fresh[name] for name in wanted if not given[name]})
        log.warning(
            "generated secret keys beside the SQLite database; keep that file, or set the variables",
            variables=[KEY_VARIABLES[name] for name in absent],
            keys_file=str(path),
        )
    return {name: given[name] or stored.get(name, "") for name in KEY_VARIABLES}


def _refuse_new_keys(db_path: Path, keys_file: Path, variables: list[str], *, create: bool) -> None:
    """Keys are made only with a new database, and only by a command that may create it."""
    if _holds_events(db_path):
        raise KeysMissing(
            f"the database {db_path} holds events but its keys are missing ({', '.join(variables)}): "
            f"restore {keys_file} or set the variables; new keys would make its records unreadable"
        )
    if not create:
        raise KeysMissing(
            f"no keys for the database {db_path} ({', '.join(variables)}): check SALUR_DATABASE_URL, "
            f"or restore {keys_file}"
        )


def _holds_events(db_path: Path) -> bool:
    """Whether a SQLite file exists with at least one stored event (read-only, creates nothing)."""
    if not db_path.is_file() or db_path.stat().st_size == 0:
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT 1 FROM stored_events LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False


@functools.cache
def get_settings() -> Settings:
    """The process's settings, loaded once from the environment."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests that change the environment)."""
    get_settings.cache_clear()

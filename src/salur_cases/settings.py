"""Configuration from the environment (12-factor): the ``SALUR_*`` variables of the contract.

With SQLite, missing ``SALUR_ID_KEY`` / ``SALUR_SECRET_KEY`` are generated once into
``<database file>.keys`` (JSON, mode 0600) beside the database and re-read on later runs, with a
warning: losing that file makes the stored keyed ids unrecomputable. With PostgreSQL both keys
are required.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import os
import secrets
import string
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_TEST_DATABASE_URL",
    "ConfigError",
    "Settings",
    "get_settings",
    "load_settings",
    "log_format_from_env",
    "reset_settings_cache",
]

DEFAULT_DATABASE_URL = "sqlite:///./salur.db"
DEFAULT_TEST_DATABASE_URL = "postgresql://127.0.0.1:5432/test"
LOG_FORMATS = ("console", "json")
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
_KEY_VARIABLES = {"id_key": "SALUR_ID_KEY", "secret_key": "SALUR_SECRET_KEY"}
_SECRET_VARIABLES = {"encryption_key": "SALUR_ENCRYPTION_KEY", "signing_key": "SALUR_SIGNING_KEY"}
SECRET_MIN_BYTES = 32
SIGNING_SEED_BYTES = 32


class ConfigError(ValueError):
    """A missing or invalid setting; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """The process's settings; build with :func:`load_settings` or :func:`get_settings`."""

    database_url: str = DEFAULT_DATABASE_URL
    id_key: bytes = field(default=b"", repr=False)
    secret_key: bytes = field(default=b"", repr=False)
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


def to_sqlalchemy_url(url: str) -> str:
    """Rewrite ``postgresql://`` / ``postgres://`` to ``postgresql+psycopg://``; others unchanged."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default ``os.environ``); raise :class:`ConfigError`."""
    env = os.environ if environ is None else environ
    database_url = env.get("SALUR_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not database_url.startswith(("sqlite:", *_POSTGRES_SCHEMES)):
        raise ConfigError("SALUR_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    postgres = database_url.startswith(_POSTGRES_SCHEMES)
    given = {name: env.get(var, "").strip() for name, var in _KEY_VARIABLES.items()}
    if postgres:
        for name, var in _KEY_VARIABLES.items():
            if not given[name]:
                raise ConfigError(f"{var} is required when SALUR_DATABASE_URL is PostgreSQL")
    allow_plaintext = env.get("SALUR_ALLOW_PLAINTEXT", "").strip() == "1"
    secrets_given = {name: env.get(var, "").strip() for name, var in _SECRET_VARIABLES.items()}
    if postgres:
        if not secrets_given["encryption_key"] and not allow_plaintext:
            raise ConfigError(
                "SALUR_ENCRYPTION_KEY is required when SALUR_DATABASE_URL is PostgreSQL "
                "(or set SALUR_ALLOW_PLAINTEXT=1 to store personal data unencrypted)"
            )
        if not secrets_given["signing_key"]:
            raise ConfigError("SALUR_SIGNING_KEY is required when SALUR_DATABASE_URL is PostgreSQL")
    else:
        secrets_given = _sqlite_secrets(sqlite_path(database_url), secrets_given, allow_plaintext)
    secret = {name: _secret(_SECRET_VARIABLES[name], value) for name, value in secrets_given.items()}
    if secret["signing_key"] is not None and len(secret["signing_key"]) != SIGNING_SEED_BYTES:
        raise ConfigError("SALUR_SIGNING_KEY must be an Ed25519 seed: exactly 32 bytes (64 hex digits)")
    keys = given if postgres else _sqlite_keys(sqlite_path(database_url), given)
    return Settings(
        database_url=database_url,
        id_key=keys["id_key"].encode(),
        secret_key=keys["secret_key"].encode(),
        encryption_key=secret["encryption_key"],
        signing_key=secret["signing_key"],
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
    )


def _positive_int(env: Mapping[str, str], variable: str, default: int) -> int:
    """A limit: a positive whole number (``_`` may group digits), or ConfigError naming the variable."""
    value = env.get(variable, "").strip().replace("_", "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) <= 0:
        raise ConfigError(f"{variable} must be a positive whole number")
    return int(value)


def _secret(variable: str, text: str) -> bytes | None:
    """A secret given as hex digits or base64, at least 32 bytes; None when not given."""
    if not text:
        return None
    try:
        hexadecimal = all(c in string.hexdigits for c in text)
        raw = bytes.fromhex(text) if hexadecimal else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) < SECRET_MIN_BYTES:
        raise ConfigError(f"{variable} must be at least 32 random bytes, written as hex digits or base64")
    return raw


def _sqlite_secrets(db_path: Path | None, given: dict[str, str], allow_plaintext: bool) -> dict[str, str]:
    """The encryption and signing secrets of a SQLite database: generated with its keys file (no
    encryption secret with `SALUR_ALLOW_PLAINTEXT=1`).

    A keys file made before them (a database that so far stored personal data unencrypted) gets a
    signing key but no encryption secret: its stored events could not be read together with new ones.
    """
    if db_path is None or all(given.values()):
        return given
    path = keys_file_for(db_path)
    stored = _read_keys(path)
    in_clear = allow_plaintext or ("id_key" in stored and "encryption_key" not in stored)
    wanted = [name for name in given if not (in_clear and name == "encryption_key")]
    generated = [name for name in wanted if not given[name] and not stored.get(name)]
    if generated:
        for name in generated:
            stored[name] = secrets.token_hex(SECRET_MIN_BYTES)
        stored = _write_keys(path, stored, replace=path.exists())
    return {name: value or stored.get(name, "") for name, value in given.items()}


def keys_file_for(db_path: Path) -> Path:
    """Where generated keys of the SQLite database ``db_path`` are kept."""
    return db_path.with_name(db_path.name + ".keys")


def _sqlite_keys(db_path: Path | None, given: dict[str, str]) -> dict[str, str]:
    missing = [name for name, value in given.items() if not value]
    if not missing:
        return given
    from salur_cases.logging import get_logger  # noqa: PLC0415 - logging imports settings lazily

    log = get_logger(__name__)
    if db_path is None:
        for name in missing:
            given[name] = secrets.token_urlsafe(32)
        log.warning(
            "generated keys for an in-memory database; they are lost at exit",
            variables=[_KEY_VARIABLES[name] for name in missing],
        )
        return given
    path = keys_file_for(db_path)
    stored = _read_keys(path)
    generated = [name for name in missing if not stored.get(name)]
    if generated:
        for name in generated:
            stored[name] = secrets.token_urlsafe(32)
        stored = _write_keys(path, stored, replace=path.exists())
        log.warning(
            "generated secret keys beside the SQLite database; keep that file, or set the variables",
            variables=[_KEY_VARIABLES[name] for name in generated],
            keys_file=str(path),
        )
    return {name: given[name] or stored[name] for name in given}


def _read_keys(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the generated keys file {path}: set SALUR_ID_KEY") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"the generated keys file {path} is not a JSON object")
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _write_keys(path: Path, keys: dict[str, str], *, replace: bool) -> dict[str, str]:
    """Write ``keys`` with mode 0600; a concurrent first run that wins the race is re-read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(keys, handle)
        if replace:
            tmp.replace(path)
            return keys
        try:
            os.link(tmp, path)  # atomic create-if-absent: a concurrent first run keeps one set of keys
        except FileExistsError:
            winner = _read_keys(path)
            if all(winner.get(name) for name in keys):
                return winner
            merged = keys | {k: v for k, v in winner.items() if v}
            return _write_keys(path, merged, replace=True)
        return keys
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@functools.cache
def get_settings() -> Settings:
    """The process's settings, loaded once from the environment."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests that change the environment)."""
    get_settings.cache_clear()

"""Which keys a database was made with: keyed check values, so that it is never opened with others.

``salur db upgrade`` (and every command that migrates) records, for the id key and the encryption
key, an HMAC of a fixed text under that key (``none`` without encryption). Opening the application on
a database whose recorded values differ from the configured keys raises :class:`KeysMismatch`, naming
the variable: new keys would make every stored id unreachable and every encrypted payload unreadable.
The token secret is not recorded (it may be rotated), nor the signing key (verifiers hold its public
half).
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Connection, inspect, select

from salur_cases.settings import ConfigError, Settings
from salur_cases.tables import key_check

__all__ = ["CHECKED_KEYS", "KeysMismatch", "check_values", "record_keys", "verify_keys"]

CHECKED_KEYS = {"id_key": "SALUR_ID_KEY", "encryption_key": "SALUR_ENCRYPTION_KEY"}
_TEXT = b"salur-cases key check"


class KeysMismatch(ConfigError):
    """The configured keys are not those the database was made with."""


def check_values(settings: Settings) -> dict[str, str]:
    """The check value of each checked key of ``settings``."""
    values = {}
    for name in CHECKED_KEYS:
        key: bytes | None = getattr(settings, name)
        values[name] = hmac.new(key, _TEXT, hashlib.sha256).hexdigest() if key else "none"
    return values


def _stored(conn: Connection) -> dict[str, str] | None:
    """The recorded check values; None before the table exists (a database not migrated yet)."""
    if not inspect(conn).has_table(key_check.name):
        return None
    return {row.name: row.check_value for row in conn.execute(select(key_check))}


def _compare(stored: dict[str, str], expected: dict[str, str]) -> None:
    for name, variable in CHECKED_KEYS.items():
        if name in stored and stored[name] != expected[name]:
            raise KeysMismatch(
                f"{variable} is not the key this database was made with: restore that key "
                "(a database holding records is never re-keyed)"
            )


def verify_keys(conn: Connection, settings: Settings) -> None:
    """Raise :class:`KeysMismatch` unless the database's recorded keys are the configured ones."""
    stored = _stored(conn)
    if stored:
        _compare(stored, check_values(settings))


def record_keys(conn: Connection, settings: Settings) -> None:
    """Record the configured keys' check values (in the caller's transaction), or verify them."""
    stored = _stored(conn) or {}
    expected = check_values(settings)
    _compare(stored, expected)
    missing = [{"name": name, "check_value": expected[name]} for name in CHECKED_KEYS if name not in stored]
    if missing:
        conn.execute(key_check.insert(), missing)

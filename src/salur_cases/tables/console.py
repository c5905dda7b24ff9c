"""The console's tables: accounts, sign-in attempts, server-side sessions, the last chain check.

``console_user.password_hash`` is an argon2id hash (PHC string); ``kelurahan`` the code of a
kelurahan officer's kelurahan. ``console_sign_in`` keeps every attempt (``ok`` or not) for the lock
after ten failures. ``console_session.key_hash`` is a SHA-256 of the cookie's session id, so a
reader of the database cannot take over a session. ``console_chain_check`` remembers the last
``verify`` run from the console. Migration: ``migrations/versions/console_0001_accounts.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from salur_cases.tables.base import UTCDateTime, metadata

console_user = Table(
    "console_user",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("kelurahan", String(20), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

console_sign_in = Table(
    "console_sign_in",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("ok", Boolean, nullable=False),
)
Index("ix_console_sign_in_name_at", console_sign_in.c.name, console_sign_in.c.at)

console_session = Table(
    "console_session",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
)
Index("ix_console_session_expires_ms", console_session.c.expires_ms)

console_chain_check = Table(
    "console_chain_check",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("checked_at", UTCDateTime(), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("checked", BigInteger, nullable=False),
    Column("head_position", BigInteger, nullable=False),
    Column("head_hash", String(128), nullable=False),
    Column("first_broken", BigInteger, nullable=True),
)

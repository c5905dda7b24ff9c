"""Server-side console sessions kept in the database, so that every worker of the server sees them.

Litestar's ``ServerSideSessionConfig`` keeps the session id in an HttpOnly, SameSite=Strict cookie
and the data in a ``Store``; :class:`DatabaseStore` is that store over ``console_session``. The
id is stored only as its SHA-256, and each request renews the expiry: a session ends after 8 hours
without a request, or at sign-out.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import anyio.to_thread
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.stores.base import Store
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from salur_cases.tables.console import console_session

__all__ = ["IDLE_SECONDS", "SESSION_STORE", "DatabaseStore", "session_config"]

IDLE_SECONDS = 8 * 3600
SESSION_STORE = "console_sessions"
COOKIE = "salur_session"


def session_config(*, secure: bool) -> ServerSideSessionConfig:
    """Sessions for the console's paths: 8 h idle expiry, the cookie Secure behind TLS."""
    return ServerSideSessionConfig(
        key=COOKIE,
        store=SESSION_STORE,
        path="/console",
        max_age=IDLE_SECONDS,
        renew_on_access=True,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def _key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _seconds(value: int | timedelta | None) -> int | None:
    return int(value.total_seconds()) if isinstance(value, timedelta) else value


class DatabaseStore(Store):
    """A Litestar ``Store`` over the ``console_session`` table (SQLAlchemy, run in a worker thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        """Store ``value`` under ``key``, replacing what was there."""
        data = value.encode() if isinstance(value, str) else value
        await anyio.to_thread.run_sync(self._set, _key(key), data, _seconds(expires_in))

    def _set(self, key_hash: str, data: bytes, expires_in: int | None) -> None:
        expires = int((time.time() + expires_in) * 1000) if expires_in else None
        with self.engine.begin() as conn:
            conn.execute(delete(console_session).where(console_session.c.key_hash == key_hash))
            conn.execute(insert(console_session).values(key_hash=key_hash, data=data, expires_ms=expires))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        """The value under ``key`` unless it expired; ``renew_for`` resets its expiry."""
        return await anyio.to_thread.run_sync(self._get, _key(key), _seconds(renew_for))

    def _get(self, key_hash: str, renew_for: int | None) -> bytes | None:
        now_ms = int(time.time() * 1000)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(console_session.c.data, console_session.c.expires_ms).where(
                    console_session.c.key_hash == key_hash
                )
            ).first()
            if row is None:
                return None
            if row.expires_ms is not None and row.expires_ms <= now_ms:
                conn.execute(delete(console_session).where(console_session.c.key_hash == key_hash))
                return None
            if renew_for:
                conn.execute(
                    update(console_session)
                    .where(console_session.c.key_hash == key_hash)
                    .values(expires_ms=now_ms + renew_for * 1000)
                )
            return bytes(row.data)

    async def delete(self, key: str) -> None:
        """Forget ``key``."""
        await anyio.to_thread.run_sync(self._delete, _key(key))

    def _delete(self, key_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(console_session).where(console_session.c.key_hash == key_hash))

    async def delete_all(self) -> None:
        """Forget every session."""
        await anyio.to_thread.run_sync(self._delete_all)

    def _delete_all(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(console_session))

    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds an unexpired value."""
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        """Seconds until ``key`` expires (None when it never does or is unknown)."""
        key_hash = _key(key)

        def read() -> int | None:
            with self.engine.connect() as conn:
                expires = conn.execute(
                    select(console_session.c.expires_ms).where(console_session.c.key_hash == key_hash)
                ).scalar()
            return None if expires is None else max(0, int(expires / 1000 - time.time()))

        return await anyio.to_thread.run_sync(read)

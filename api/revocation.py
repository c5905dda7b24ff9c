"""Revoked tokens: ``salur token revoke JTI`` writes the denylist, every API worker reads it.

A worker keeps the denylist in memory and reads it again at most once a second (the first request
after that second reads it, in a thread), so a revocation reaches every worker within a second without
a query per request. Rows outlive the longest token lifetime, then are purged.
"""

from __future__ import annotations

import argparse
import re
import threading
import time

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from salur_cases.domain.errors import InvalidCommand
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings
from salur_cases.tables import revoked_tokens

__all__ = ["REFRESH_SECONDS", "Denylist", "revoke", "revoke_command"]

REFRESH_SECONDS = 1.0
KEEP_MS = (90 * 24 * 3600 + 60) * 1000
"""A revoked token expires within 90 days (the lifetime cap): its row is kept that long."""
_JTI = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Denylist:
    """The revoked token ids, as last read from ``revoked_tokens``."""

    def __init__(self, engine: Engine, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self._ids: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether the list should be read again before it is trusted."""
        return time.monotonic() - self._read_at >= self.refresh_seconds

    def refresh(self) -> None:
        """Read the list again (one query; concurrent callers share it)."""
        with self._lock:
            if not self.due():
                return
            with self.engine.connect() as conn:
                self._ids = frozenset(conn.execute(select(revoked_tokens.c.jti)).scalars())
            self._read_at = time.monotonic()

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._ids


def revoke(engine: Engine, token_id: str) -> bool:
    """Put a token on the denylist; False when it already was. Old rows are purged on the way."""
    if not _JTI.match(token_id):
        raise InvalidCommand("JTI", "must be the token id printed by `salur token` (letters, digits, - or _)")
    now = int(time.time() * 1000)
    try:
        with engine.begin() as conn:
            conn.execute(delete(revoked_tokens).where(revoked_tokens.c.revoked_ms < now - KEEP_MS))
            conn.execute(revoked_tokens.insert().values(jti=token_id, revoked_ms=now))
    except IntegrityError:
        return False
    return True


def revoke_command(args: argparse.Namespace) -> int:
    """``salur token revoke JTI``: every worker refuses that token (401) from then on."""
    runtime = Runtime(get_settings())
    try:
        fresh = revoke(runtime.engine, args.jti)
    finally:
        runtime.close()
    print(f"token {args.jti} {'revoked' if fresh else 'was already revoked'}")
    return 0

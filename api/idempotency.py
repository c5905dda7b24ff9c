"""``Idempotency-Key`` on every POST: a replay returns the first response and writes nothing.

The first request with a key claims it (a row in ``api_idempotency``, so every worker sees it and it
survives restarts), runs, and stores its answer when that answer is an outcome (2xx, or a 409
refusal). A later request with the same key and principal gets the stored answer back when its body
is the same (JSON compared after normalising, multipart without its random boundary) and 422 when
it differs. A request that arrives while the first still runs waits for it (up to 10 s), then 409.
Answers that are not outcomes (401, 403, 412, 428, ...) release the key, so the client may retry.
Records expire after 24 hours.

The stored answers hold households (NIKs, names), so they are encrypted (AES-GCM, a key derived from
``SALUR_SECRET_KEY``, bound to the record's key); the record's keys are HMACs, never plain hashes a
NIK could be recovered from by enumeration.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

import anyio.to_thread
import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPReceiveMessage,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from salur_cases.api.auth import Principal
from salur_cases.api.problems import PROBLEM_JSON, FieldError, make_problem
from salur_cases.tables import api_idempotency as records

__all__ = ["IdempotencyMiddleware", "IdempotencyStore"]


TTL_MS = 24 * 3600 * 1000
ABANDONED_MS = 5 * 60 * 1000
WAIT_SECONDS = 10.0
MAX_BODY = 64 * 1024 * 1024
KEPT_HEADERS = frozenset({b"content-type", b"etag", b"location", b"x-salur-position", b"retry-after"})
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


_Stored = tuple[list[tuple[bytes, bytes]], bytes]


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Claim:
    """What the store says about a key: run the request, replay a stored answer, or refuse."""

    outcome: Literal["new", "replay", "mismatch", "busy", "unreadable"]
    status: int = 0
    headers: list[tuple[bytes, bytes]] | None = None
    body: bytes = b""


class IdempotencyStore:
    """The ``api_idempotency`` table, its keyed hashes and its encrypted answers."""

    def __init__(self, engine: Engine, secret: bytes) -> None:
        self.engine = engine
        self._mac_key = hmac.new(secret, b"salur-api-idempotency-mac", hashlib.sha256).digest()
        self._aead = AESGCM(hmac.new(secret, b"salur-api-idempotency-aead", hashlib.sha256).digest())
        self._purged_ms = 0

    def digest(self, *parts: bytes) -> str:
        """A keyed hash of these parts (length-prefixed, so no two sequences collide)."""
        mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)
        for part in parts:
            mac.update(len(part).to_bytes(8, "big"))
            mac.update(part)
        return mac.hexdigest()

    def claim(self, scope_key: str, request_hash: str) -> Claim:
        """Claim a key for a request, or say what became of its first use."""
        now = _now_ms()
        self._purge(now)
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(records).values(scope_key=scope_key, request_hash=request_hash, created_ms=now)
                    )
            except IntegrityError:
                pass
            else:
                return Claim("new")
            with self.engine.connect() as conn:
                row = conn.execute(select(records).where(records.c.scope_key == scope_key)).one_or_none()
            if row is None:
                continue  # released meanwhile: claim again
            expired = row.created_ms < now - TTL_MS or (
                row.status is None and row.created_ms < now - ABANDONED_MS
            )
            if expired:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(records).where(
                            records.c.scope_key == scope_key, records.c.created_ms == row.created_ms
                        )
                    )
                continue
            if row.request_hash != request_hash:
                return Claim("mismatch")
            if row.status is None:
                return Claim("busy")
            try:
                stored = bytes(row.response or b"")
                headers, body = msgspec.msgpack.decode(
                    self._aead.decrypt(stored[:12], stored[12:], scope_key.encode()), type=_Stored
                )
            except (InvalidTag, ValueError, msgspec.DecodeError):
                return Claim("unreadable")
            return Claim("replay", row.status, headers, body)
        return Claim("busy")

    def complete(self, scope_key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Store the first response."""
        kept = [(k, v) for k, v in headers if k.lower() in KEPT_HEADERS]
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, msgspec.msgpack.encode((kept, body)), scope_key.encode())
        with self.engine.begin() as conn:
            conn.execute(
                update(records).where(records.c.scope_key == scope_key).values(status=status, response=sealed)
            )

    def release(self, scope_key: str) -> None:
        """Forget a claim whose request did not reach an outcome."""
        with self.engine.begin() as conn:
            conn.execute(delete(records).where(records.c.scope_key == scope_key, records.c.status.is_(None)))

    def _purge(self, now: int) -> None:
        if now - self._purged_ms < 600_000:  # noqa: PLR2004 - at most every 10 minutes per process
            return
        self._purged_ms = now
        with self.engine.begin() as conn:
            conn.execute(delete(records).where(records.c.created_ms < now - TTL_MS))


def request_parts(method: str, path: str, query: bytes, content_type: str, body: bytes) -> tuple[bytes, ...]:
    """What makes two requests "the same": method, path, query and the body's meaning."""
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    elif kind.startswith("multipart/") and (match := _BOUNDARY.search(content_type)):
        body = body.replace(match.group(1).encode("latin-1"), b"")
    return method.encode(), path.encode(), query, kind.encode(), body


class IdempotencyMiddleware:
    """ASGI middleware applying the store to every authenticated POST that carries an ``Idempotency-Key``.

    The route's guards run first, so a missing token (401) or a role the route refuses (403) is
    answered before the key or the body is looked at.
    """

    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Claim, replay or refuse; otherwise run the request and keep its answer."""
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"idempotency-key")
        method = scope.get("method", "")
        if scope["type"] != ScopeType.HTTP or method != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        if handler is not None:  # the token and the role first: a 401 or 403 comes before any key check
            await handler.authorize_connection(ASGIConnection(scope, receive, send))
        principal = scope.get("user")
        if not isinstance(principal, Principal):  # a public endpoint: nothing to scope a key to
            await self.app(scope, receive, send)
            return
        text = key.decode("latin-1")
        if not _KEY.match(text):
            await _problem(
                send,
                422,
                "the Idempotency-Key is not valid",
                [FieldError("Idempotency-Key", "must be 1 to 255 visible ASCII characters")],
            )
            return
        body = await _read_body(receive)
        if body is None:
            await _problem(send, 413, "the request body is too large")
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        parts = request_parts(method, scope["path"], scope.get("query_string", b""), content_type, body)
        fingerprint = self.store.digest(*parts)
        scope_key = self.store.digest(principal.identity.encode(), key)
        claim = await self._claim(scope_key, fingerprint)
        if claim.outcome == "unreadable":
            await _problem(
                send,
                409,
                "the first answer to this Idempotency-Key cannot be read back; use a new key",
                code="IDEMPOTENCY_RECORD_UNREADABLE",
            )
        elif claim.outcome == "mismatch":
            await _problem(
                send,
                422,
                "this Idempotency-Key was used with another request",
                [FieldError("Idempotency-Key", "was used with another request")],
            )
        elif claim.outcome == "busy":
            await _problem(
                send,
                409,
                "a request with this Idempotency-Key is still running",
                code="REQUEST_IN_PROGRESS",
                headers=[(b"retry-after", b"1")],
            )
        elif claim.outcome == "replay":
            replayed = [*(claim.headers or []), (b"idempotent-replayed", b"true")]
            await send(
                HTTPResponseStartEvent(type="http.response.start", status=claim.status, headers=replayed)
            )
            await send(HTTPResponseBodyEvent(type="http.response.body", body=claim.body, more_body=False))
        else:
            await self._run(scope, body, send, scope_key)

    async def _claim(self, scope_key: str, fingerprint: str) -> Claim:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            claim = await anyio.to_thread.run_sync(self.store.claim, scope_key, fingerprint)
            if claim.outcome != "busy" or time.monotonic() > deadline:
                return claim
            await asyncio.sleep(0.05)

    async def _run(self, scope: Scope, body: bytes, send: Send, scope_key: str) -> None:
        sent = False

        async def replay_body() -> HTTPReceiveMessage:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await anyio.to_thread.run_sync(self.store.release, scope_key)
            raise
        if 200 <= status < 300 or status == 409:  # noqa: PLR2004 - outcomes, replayed as they were
            await anyio.to_thread.run_sync(
                self.store.complete, scope_key, status, response_headers, b"".join(chunks)
            )
        else:
            await anyio.to_thread.run_sync(self.store.release, scope_key)


async def _read_body(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _problem(
    send: Send,
    status: int,
    detail: str,
    errors: list[FieldError] | None = None,
    *,
    code: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    slug = "validation" if status == HTTPStatus.UNPROCESSABLE_ENTITY else None
    body = msgspec.json.encode(make_problem(status, detail, code=code, errors=errors, slug=slug))
    start = [(b"content-type", PROBLEM_JSON.encode()), *(headers or [])]
    await send(HTTPResponseStartEvent(type="http.response.start", status=status, headers=start))
    await send(HTTPResponseBodyEvent(type="http.response.body", body=body, more_body=False))

"""The access log, and the limit on a request's target.

Access log: one structlog line per request, with a request id and no identifier in clear.

``X-Request-ID`` is honoured when it looks like an id (else one is generated) and returned on every
answer; it is bound to structlog's context, so every line logged while serving the request carries it.
Every NIK or No. KK in the path, in any form the API accepts (16 digits, spaces between them allowed),
is blanked, and the query string is not logged. The request id is logged exactly as it is returned.

Target limit: a request whose path and query string together are longer than ``MAX_TARGET_CHARS`` is
answered 414 ``URI_TOO_LONG`` before it is routed. Litestar remembers the routes, path parameters and
query strings of the last 1,024 requests of each kind, keyed by what the client sent: the limit bounds
the bytes they hold (some 16 MiB at most), which the HTTP parser's own limit (80 KiB) would not.
"""

from __future__ import annotations

import re
import secrets
import time

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from salur_cases.api.problems import PROBLEM_JSON, make_problem
from salur_cases.identifiers import WRITTEN_IDENTIFIER
from salur_cases.logging import get_logger

__all__ = ["MAX_TARGET_CHARS", "AccessLogMiddleware", "TargetLimit", "mask_path"]

MAX_TARGET_CHARS = 4096


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

log = get_logger("salur_cases.api.access")


def mask_path(path: str) -> str:
    """The path with every run of 16 or more digits (spaces between them allowed) blanked."""
    return WRITTEN_IDENTIFIER.sub(lambda m: "*" * len(m.group(0)), path)


class AccessLogMiddleware:
    """ASGI middleware: request id in and out, one access-log line out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then log it."""
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(16)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*(message.get("headers") or []), (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log.info(
                    "request",
                    method=scope.get("method", ""),
                    path=mask_path(scope["path"]),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


class TargetLimit:
    """ASGI wrapper of the whole app: 414 for a path and query string above ``MAX_TARGET_CHARS``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an overlong target; pass anything else on."""
        if (
            scope["type"] == ScopeType.HTTP
            and len(scope["path"]) + len(scope["query_string"]) > MAX_TARGET_CHARS
        ):
            detail = f"the request's path and query string are longer than {MAX_TARGET_CHARS} characters"
            body = msgspec.json.encode(make_problem(414, detail, code="URI_TOO_LONG"))
            headers = [(b"content-type", PROBLEM_JSON.encode())]
            await send({"type": "http.response.start", "status": 414, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self.app(scope, receive, send)

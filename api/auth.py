"""Bearer tokens for the API, and the guards that check them.

A token is a compact JWT (HS256) signed with ``SALUR_SECRET_KEY``: claims ``sub`` (the officer or
system, recorded as the actor on every event it writes), ``role``, ``kel`` (the kelurahan code, for
the kelurahan role only), ``iat`` and ``exp``. It is built and checked here with :mod:`hmac`, so any
JWT library can read it too. ``salur token`` prints one.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from salur_cases import wilayah
from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.settings import get_settings

__all__ = [
    "API_ROLES",
    "Principal",
    "allow",
    "authenticate",
    "issue_token",
    "parse_ttl",
    "token_command",
]

API_ROLES = frozenset({Role.ADMIN, Role.DINSOS, Role.KELURAHAN, Role.DUKCAPIL, Role.INSPECTOR})
MAX_TTL_SECONDS = 90 * 24 * 3600
_HEADER = {"alg": "HS256", "typ": "JWT"}
_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for: a subject, a role, and for kelurahan operators their kelurahan code."""

    subject: str
    role: Role
    kelurahan: str | None = None

    @property
    def actor(self) -> Actor:
        """The actor recorded on the events this principal writes."""
        return Actor(self.subject, self.role)

    @property
    def identity(self) -> str:
        """A stable string naming the principal (scopes idempotency keys)."""
        return f"{self.role}|{self.kelurahan or ''}|{self.subject}"

    def may_see(self, kelurahan_code: str | None) -> bool:
        """Whether this principal may act on a household of that kelurahan (only operators are confined)."""
        return self.role is not Role.KELURAHAN or (
            kelurahan_code is not None and kelurahan_code == self.kelurahan
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, signing_input: str) -> str:
    return _b64(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def issue_token(secret: bytes, principal: Principal, ttl_seconds: int, now: float | None = None) -> str:
    """A signed token for ``principal`` that expires after ``ttl_seconds``."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": str(principal.role),
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if principal.kelurahan:
        claims["kel"] = principal.kelurahan
    signing_input = (
        _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    return signing_input + "." + _sign(secret, signing_input)


def authenticate(secret: bytes, authorization: str | None, now: float | None = None) -> Principal:
    """The principal of an ``Authorization: Bearer`` header, or NotAuthorizedException (401)."""
    if not authorization:
        raise NotAuthorizedException("a bearer token is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("a bearer token is required")
    principal, expires = _verified(secret, token.strip())
    if expires <= (time.time() if now is None else now):
        raise NotAuthorizedException("the token has expired")
    return principal


@lru_cache(maxsize=4096)
def _verified(secret: bytes, token: str) -> tuple[Principal, int]:
    """A token's principal and expiry, once its signature and claims check out.

    A client sends the same token with every request: the checks run once per token (refusals are
    not cached), the expiry at every use.
    """
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - header.payload.signature
        raise NotAuthorizedException("the token is malformed")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        expected = _sign(secret, f"{parts[0]}.{parts[1]}")
    except (ValueError, UnicodeError):
        raise NotAuthorizedException("the token is malformed") from None
    if not hmac.compare_digest(expected.encode(), parts[2].encode("ascii", "replace")):
        raise NotAuthorizedException("the token's signature is not valid")
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise NotAuthorizedException("the token is malformed")
    exp = claims.get("exp")
    if not isinstance(exp, int):
        raise NotAuthorizedException("the token has expired")
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise NotAuthorizedException("the token's role is unknown") from None
    subject, kelurahan = claims.get("sub"), claims.get("kel")
    if role not in API_ROLES or not isinstance(subject, str) or not subject:
        raise NotAuthorizedException("the token's claims are not valid")
    if role is Role.KELURAHAN and not isinstance(kelurahan, str):
        raise NotAuthorizedException("a kelurahan token names its kelurahan")
    return Principal(subject, role, kelurahan if role is Role.KELURAHAN else None), exp


def allow(*roles: Role) -> Any:
    """A guard: a valid token (401 otherwise) whose role is one of ``roles`` (403 otherwise).

    The principal is kept in the connection's scope as ``user`` (``request.user``). Guards here are
    coroutines: Litestar runs a plain function guard in a worker thread, a costly hop for no I/O.
    """
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        principal = authenticate(connection.app.state["secret_key"], connection.headers.get("authorization"))
        connection.scope["user"] = principal
        if principal.role not in allowed:
            raise PermissionDeniedException(f"the {principal.role} role may not do this")

    guard.__name__ = f"allow_{'_'.join(sorted(allowed))}"
    return guard


def parse_ttl(text: str) -> int:
    """``30m``, ``8h``, ``7d``, ``90s`` or plain seconds, at most 90 days."""
    match = _TTL.match(text or "")
    if match is None:
        raise InvalidCommand("ttl", "must look like 30m, 8h or 7d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds <= MAX_TTL_SECONDS:
        raise InvalidCommand("ttl", "must be more than 0 and at most 90 days")
    return seconds


def token_command(args: argparse.Namespace) -> int:
    """``salur token``: print a signed bearer token, alone on the last line."""
    role = Role(args.role)
    kelurahan: str | None = None
    if role is Role.KELURAHAN:
        if not args.kelurahan:
            raise InvalidCommand("kelurahan", "is required for the kelurahan role")
        found = wilayah.kelurahan(args.kelurahan)
        if found is None:
            raise InvalidCommand("kelurahan", "is not a kelurahan of Kota Bogor (or is ambiguous)")
        kelurahan = found.code
    elif args.kelurahan:
        raise InvalidCommand("kelurahan", "is only for the kelurahan role")
    subject = (args.subject or "").strip()
    if not subject:
        raise InvalidCommand("subject", "is required")
    ttl = parse_ttl(args.ttl)
    print(issue_token(get_settings().secret_key, Principal(subject, role, kelurahan), ttl))
    return 0

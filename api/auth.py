"""Bearer tokens for the API, and the guards that check them.

A token is a JWT (HS256, PyJWT) signed with ``SALUR_SECRET_KEY``: claims ``iss`` and ``aud`` (this
service), ``sub`` (the officer or system, recorded as the actor on every event it writes), ``role``,
``kel`` (the kelurahan code, for the kelurahan role only), ``iat``, ``exp`` and ``jti`` (its id, for
``salur token revoke``). Every one of them is required. A token is refused when its lifetime
(``exp - iat``) exceeds 90 days, when it was issued in the future or has expired (a clock skew of
5 s is tolerated), when its header names a critical extension (``crit``), or when it was revoked.
During a rotation the secrets of ``SALUR_PREVIOUS_SECRET_KEY`` are accepted too. ``salur token``
prints one (its id and expiry go to stderr).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import anyio.to_thread
import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from salur_cases import wilayah
from salur_cases.api.revocation import Denylist
from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.settings import get_settings

__all__ = [
    "API_ROLES",
    "AUDIENCE",
    "ISSUER",
    "Principal",
    "TokenCheck",
    "allow",
    "authenticate",
    "issue_token",
    "parse_ttl",
    "token_command",
]

API_ROLES = frozenset({Role.ADMIN, Role.DINSOS, Role.KELURAHAN, Role.DUKCAPIL, Role.INSPECTOR})
ISSUER = "salur-cases"
AUDIENCE = "salur-cases-api"
ALGORITHM = "HS256"
MAX_TTL_SECONDS = 90 * 24 * 3600
"""The longest lifetime a token may have, checked when it is issued and when it is used."""
CLOCK_SKEW_SECONDS = 5
"""How far the issuer's clock may be ahead of (``iat``) or behind (``exp``) the server's."""
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti")
_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for: a subject, a role, and for kelurahan operators their kelurahan code."""

    subject: str
    role: Role
    kelurahan: str | None = None
    token_id: str | None = field(default=None, compare=False)
    """The token's ``jti`` (what ``salur token revoke`` names)."""

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


def issue_token(secret: bytes, principal: Principal, ttl_seconds: int, now: float | None = None) -> str:
    """A signed token for ``principal`` that expires after ``ttl_seconds``, with a fresh ``jti``."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": principal.subject,
        "role": str(principal.role),
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": principal.token_id or uuid.uuid4().hex,
    }
    if principal.kelurahan:
        claims["kel"] = principal.kelurahan
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def authenticate(secrets: Sequence[bytes], authorization: str | None, now: float | None = None) -> Principal:
    """The principal of an ``Authorization: Bearer`` header, or NotAuthorizedException (401).

    ``secrets``: the current token secret first, then those still accepted during a rotation.
    """
    if not authorization:
        raise NotAuthorizedException("a bearer token is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("a bearer token is required")
    principal, issued, expires = _verified(tuple(secrets), token.strip())
    moment = time.time() if now is None else now
    if issued > moment + CLOCK_SKEW_SECONDS:
        raise NotAuthorizedException("the token was issued in the future")
    if expires <= moment - CLOCK_SKEW_SECONDS:
        raise NotAuthorizedException("the token has expired")
    return principal


@lru_cache(maxsize=4096)
def _verified(secrets: tuple[bytes, ...], token: str) -> tuple[Principal, int, int]:
    """A token's principal, ``iat`` and ``exp``, once its header, signature and claims check out.

    A client sends the same token with every request: these checks run once per token (refusals are
    not cached); the times are compared at every use, the denylist by the guard.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise NotAuthorizedException("the token is malformed") from None
    if "crit" in header or header.get("alg") != ALGORITHM:
        raise NotAuthorizedException("the token's header is not accepted")
    claims = _claims(secrets, token)
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, int) or not isinstance(expires, int) or expires - issued > MAX_TTL_SECONDS:
        raise NotAuthorizedException("the token's lifetime is longer than allowed")
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise NotAuthorizedException("the token's role is unknown") from None
    subject, kelurahan, token_id = claims.get("sub"), claims.get("kel"), claims.get("jti")
    if role not in API_ROLES or not isinstance(subject, str) or not subject or not isinstance(token_id, str):
        raise NotAuthorizedException("the token's claims are not valid")
    if role is Role.KELURAHAN and not isinstance(kelurahan, str):
        raise NotAuthorizedException("a kelurahan token names its kelurahan")
    principal = Principal(subject, role, kelurahan if role is Role.KELURAHAN else None, token_id)
    return principal, issued, expires


def _claims(secrets: tuple[bytes, ...], token: str) -> dict[str, Any]:
    """The claims, signed with one of ``secrets``, of this issuer and for this audience."""
    for secret in secrets:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError:
            raise NotAuthorizedException("the token's claims are not valid") from None
        return claims
    raise NotAuthorizedException("the token's signature is not valid")


@dataclass
class TokenCheck:
    """What the guards check a request's token against: the accepted secrets and the denylist."""

    secrets: tuple[bytes, ...]
    denylist: Denylist

    async def principal(self, authorization: str | None) -> Principal:
        """The request's principal; 401 for a missing, invalid, expired or revoked token."""
        principal = authenticate(self.secrets, authorization)
        if self.denylist.due():
            await anyio.to_thread.run_sync(self.denylist.refresh)
        if principal.token_id in self.denylist:
            raise NotAuthorizedException("the token has been revoked")
        return principal


def allow(*roles: Role) -> Any:
    """A guard: a valid token (401 otherwise) whose role is one of ``roles`` (403 otherwise).

    The principal is kept in the connection's scope as ``user`` (``request.user``). Guards here are
    coroutines: Litestar runs a plain function guard in a worker thread, a costly hop for no I/O.
    """
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        check: TokenCheck = connection.app.state["tokens"]
        principal = await check.principal(connection.headers.get("authorization"))
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
    """``salur token``: print a signed bearer token, alone on the last line (its id and expiry before it)."""
    if not args.role:
        raise InvalidCommand("--role", "is required")
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
    principal = Principal(subject, role, kelurahan, uuid.uuid4().hex)
    issued = int(time.time())
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued + ttl))
    note = f"token id {principal.token_id} (salur token revoke ID refuses it), expires {expires}"
    print(note, file=sys.stderr)
    print(issue_token(get_settings().secret_key, principal, ttl, now=issued))
    return 0

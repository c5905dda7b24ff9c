"""What the console's pages share: templates, the signed-in officer, guards, and HTML error pages.

A page handler takes a :class:`Viewer` (the signed-in principal, the language, the request) and
answers :func:`page`. The ``signed_in`` guard reads the session's account on every request, so a
disabled account is signed out at its next click; roles are the API's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from salur_cases.api.auth import Principal
from salur_cases.api.console.accounts import principal_of
from salur_cases.api.console.i18n import DEFAULT_LANG, LANG_COOKIE, LANGS, Words, long_date, number, rupiah
from salur_cases.api.context import ApiContext
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.vocabulary import Role
from salur_cases.identifiers import InvalidIdentifier

__all__ = [
    "LOGIN_PATH",
    "PACKAGE_DIR",
    "Query",
    "Seen",
    "Segment",
    "SignInRequired",
    "Viewer",
    "answer",
    "environment",
    "error_handlers",
    "optional_number",
    "page",
    "signed_in",
]

PACKAGE_DIR = Path(__file__).parent
LOGIN_PATH = "/console/login"
OFFICERS = frozenset({Role.DINSOS, Role.KELURAHAN, Role.INSPECTOR})
"""Who may find and read households (the API's readers)."""
AUDITORS = frozenset({Role.INSPECTOR, Role.ADMIN})


def environment() -> Environment:
    """The Jinja environment of the console's templates (autoescaped), with Rupiah and date filters."""
    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rupiah"] = rupiah
    env.filters["number"] = number
    env.filters["long_date"] = long_date
    return env


class SignInRequired(NotAuthorizedException):
    """No signed-in account: the console sends the browser to the sign-in page."""


@dataclass(frozen=True)
class Viewer:
    """The request as a page sees it: who is signed in (None on the sign-in page) and in which language."""

    request: Request[Any, Any, Any]
    principal: Principal | None
    lang: str

    @property
    def ctx(self) -> ApiContext:
        """The app's shared context (runtime, positions)."""
        return cast("ApiContext", self.request.app.state["ctx"])

    @property
    def words(self) -> Words:
        """The console's words in the viewer's language."""
        return Words(self.lang)

    def may(self, *roles: Role) -> bool:
        """Whether the signed-in role is one of ``roles``."""
        return self.principal is not None and self.principal.role in roles


Seen = NamedDependency[Viewer]
"""A page handler's parameter: the request as the page sees it."""
Segment = Annotated[str, PathParameter(max_length=64)]
"""A path segment: a household's keyed id, a complaint id, a report's file name."""
Query = Annotated[str | None, QueryParameter(max_length=100, required=False)]
"""A form's field sent in the query; left empty it means nothing chosen."""


def optional_number(text: str | None, field: str) -> int | None:
    """A form's number field: None when left empty, InvalidCommand when not a number."""
    value = (text or "").strip()
    if not value:
        return None
    if not (value.isdigit() and len(value) <= 4):  # noqa: PLR2004 - tahap and page numbers
        raise InvalidCommand(field, "must be a number")
    return int(value)


def lang_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The language chosen by the switch (a cookie), Indonesian by default."""
    chosen = connection.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return chosen if chosen in LANGS else DEFAULT_LANG


def provide_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """The handler's :class:`Viewer` (the principal was set by the ``signed_in`` guard, if any)."""
    user = request.scope.get("user")
    return Viewer(request, user if isinstance(user, Principal) else None, lang_of(request))


def signed_in(*roles: Role) -> Any:
    """A guard: a signed-in, enabled account (else the sign-in page) whose role is one of ``roles`` (403)."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        name = connection.session.get("user") if connection.session else None
        ctx: ApiContext = connection.app.state["ctx"]
        principal = await anyio.to_thread.run_sync(principal_of, ctx.runtime, name) if name else None
        if principal is None:
            raise SignInRequired("sign in first")
        connection.scope["user"] = principal
        if allowed and principal.role not in allowed:
            raise PermissionDeniedException("forbidden")

    guard.__name__ = f"signed_in_{'_'.join(sorted(allowed)) or 'any'}"
    return guard


def page(viewer: Viewer, template: str, status_code: int = 200, **context: Any) -> Template:
    """The console page ``template`` with the viewer's words, roles and the CSRF token."""
    return Template(
        template_name=template,
        context={
            "t": viewer.words,
            "lang": viewer.lang,
            "viewer": viewer.principal,
            "Role": Role,
            "path": viewer.request.url.path,
            **context,
        },
        status_code=status_code,
    )


def _sign_in_first(_request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    return Redirect(LOGIN_PATH, status_code=303)


def _error(request: Request[Any, Any, Any], status: int, message_key: str, detail: str = "") -> Template:
    viewer = provide_viewer(request)
    return page(viewer, "error.html", status, message=viewer.words(message_key), detail=detail)


def _forbidden(request: Request[Any, Any, Any], exc: Exception) -> Template:
    detail = str(getattr(exc, "detail", ""))
    key = "csrf_refused" if "CSRF" in detail else "outside" if detail == "outside" else "forbidden"
    return _error(request, 403, key)


def _refused(request: Request[Any, Any, Any], exc: Refusal) -> Template:
    unknown = str(exc.code).startswith("UNKNOWN")
    return _error(request, 404 if unknown else 409, "not_found" if unknown else "refused", exc.message)


def _invalid(request: Request[Any, Any, Any], exc: InvalidCommand | InvalidIdentifier) -> Template:
    return _error(request, 422, "invalid", f"{exc.field}: {exc.message}")


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    if exc.status_code == 400:  # noqa: PLR2004 - a form that does not decode
        return _error(request, 422, "invalid", str(exc.detail))
    return _error(request, exc.status_code, "not_found" if exc.status_code == 404 else "forbidden")  # noqa: PLR2004


error_handlers: Mapping[Any, Any] = {
    SignInRequired: _sign_in_first,
    PermissionDeniedException: _forbidden,
    Refusal: _refused,
    InvalidCommand: _invalid,
    InvalidIdentifier: _invalid,
    HTTPException: _http,
}
"""The console answers errors as pages (the API keeps its problem details)."""


async def answer(
    send: Send, status: int, media: str, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send a whole answer from ASGI middleware (not cached)."""
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", media.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *headers,
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


class SecureCookiesOverTLS:
    """ASGI middleware: over HTTPS, every cookie the console sets is also ``Secure``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v + b"; Secure" if k.lower() == b"set-cookie" and b"secure" not in v.lower() else v)
                    for k, v in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, secure)

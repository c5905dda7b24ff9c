"""The console's router: its pages under ``/console`` with sessions, CSRF and HTML errors; its assets.

``console_router`` is mounted by ``create_app``; sessions and CSRF are the console's own middleware,
so the bearer-token API is not affected. The API documentation's Swagger UI assets are served from
the ``swagger-ui-py`` package under ``/static/docs`` (nothing is loaded from the internet).
"""

from __future__ import annotations

import hashlib
import hmac
from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, ControllerRouterHandler, Receive, Scope, Send

from salur_cases.api.console import inspector, officer, signin
from salur_cases.api.console.i18n import Words
from salur_cases.api.console.sessions import session_config
from salur_cases.api.console.web import (
    PACKAGE_DIR,
    SecureCookiesOverTLS,
    answer,
    environment,
    error_handlers,
    lang_of,
    provide_viewer,
)

__all__ = ["DOCS_ASSETS", "console_routes"]

DOCS_ASSETS = "/static/docs"
CSRF_COOKIE = "salur_csrf"


class CSRFChecked(CSRFMiddleware):
    """Litestar's CSRF check, whose refusal is answered here as the console's 403 page.

    Raised from middleware, the refusal would pass the access log as an unanswered request (500).
    """

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)
        self.page = environment().get_template("error.html")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            request: Request[Any, Any, Any] = Request(scope)
            words = Words(lang_of(request))
            body = self.page.render(
                t=words, lang=words.lang, viewer=None, path=request.url.path, message=words("csrf_refused")
            )
            await answer(send, 403, "text/html; charset=utf-8", body.encode())


def _swagger_dir() -> Path:
    return Path(str(files("swagger_ui") / "static"))


def console_routes(secret_key: bytes) -> list[ControllerRouterHandler]:
    """The console's router and the static assets (the console's and the API docs')."""
    csrf = CSRFConfig(
        secret=hmac.new(secret_key, b"salur console csrf", hashlib.sha256).hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_path="/console",
        cookie_httponly=True,
        cookie_samesite="strict",
    )
    console = Router(
        "/",
        route_handlers=[*signin.ROUTES, *officer.ROUTES, *inspector.ROUTES],
        middleware=[
            SecureCookiesOverTLS,
            session_config(secure=False).middleware,
            DefineMiddleware(CSRFChecked, config=csrf),
        ],
        dependencies={"viewer": Provide(provide_viewer, sync_to_thread=False)},
        exception_handlers=dict(error_handlers),
        include_in_schema=False,
    )
    return [
        console,
        create_static_files_router(
            "/console/static", directories=[PACKAGE_DIR / "static"], include_in_schema=False, name="console"
        ),
        create_static_files_router(
            DOCS_ASSETS, directories=[_swagger_dir()], include_in_schema=False, name="docs"
        ),
    ]

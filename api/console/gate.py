"""While ``salur demo --serve`` builds the city: the console shows the build's progress, the data waits.

:class:`BuildGate` wraps the whole ASGI app (before Litestar routes anything). Until the build
is ready, routes that need the data (``/api/v1/...`` and ``/health/ready``) answer 503 with
``Retry-After``, the console's pages answer the progress page, and ``/console/progress`` its
figures as JSON (the page polls it). The API documentation, the console's assets and
``/health/live`` are served as usual.
"""

from __future__ import annotations

import json

from jinja2 import Environment
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from salur_cases.api.console.i18n import DEFAULT_LANG, LANG_COOKIE, LANGS, Words
from salur_cases.api.console.progress import BuildProgress
from salur_cases.api.console.web import answer, environment
from salur_cases.runtime import Runtime

RETRY_AFTER_SECONDS = 5
PROGRESS_PATH = "/console/progress"
_PASS = ("/console/static/", "/static/", "/schema", "/health/live", "/console/lang/")
_WAIT = ("/api/", "/health/")


class BuildGate:
    """Holds back the data routes while ``progress`` is not ready."""

    def __init__(self, app: ASGIApp, progress: BuildProgress, runtime: Runtime) -> None:
        self.app = app
        self.progress = progress
        self.runtime = runtime
        self.env: Environment = environment()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == ScopeType.HTTP and path == PROGRESS_PATH:
            await answer(send, 200, "application/json", json.dumps(self.figures()).encode())
        elif scope["type"] != ScopeType.HTTP or self.progress.ready or path.startswith(_PASS):
            await self.app(scope, receive, send)
        elif path.startswith(_WAIT) and self.progress.failed:
            problem = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": f"the demo city could not be built ({self.progress.failed}): see the server's log",
                "code": "BUILD_FAILED",
            }
            await answer(send, 503, "application/problem+json", json.dumps(problem).encode())
        elif path.startswith(_WAIT):
            problem = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "the demo city is still being built; try again shortly",
                "code": "BUILDING",
            }
            await answer(
                send,
                503,
                "application/problem+json",
                json.dumps(problem).encode(),
                [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
            )
        else:
            await answer(send, 200, "text/html; charset=utf-8", self.page(scope).encode())

    def figures(self) -> dict[str, object]:
        """The step, its label, events written so far, the percent done, and whether it is ready."""
        p = self.progress
        return {
            "step": p.step,
            "steps": p.steps,
            "label": p.label,
            "events": self.runtime.app.recorder.max_notification_id() or 0,
            "percent": p.percent,
            "ready": p.ready,
            "failed": p.failed,
        }

    def page(self, scope: Scope) -> str:
        """The progress page in the language of the switch's cookie."""
        lang = _cookie(scope, LANG_COOKIE) or DEFAULT_LANG
        lang = lang if lang in LANGS else DEFAULT_LANG
        template = self.env.get_template("building.html")
        return template.render(
            t=Words(lang), lang=lang, viewer=None, path=scope.get("path", ""), figures=self.figures()
        )


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None

"""The Litestar application: ``create_app(runtime)``.

Routes live in small modules (``programs``, ``households``, ``imports``, ``inspection``, ``public``);
this module wires them under ``/api/v1`` with the problem-details handlers, the access log, the
idempotency store and the OpenAPI document (``/schema``, ``/schema/openapi.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, is_dataclass, replace
from typing import Any

import msgspec
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.enums import ParamType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPI,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from salur_cases.api import households, imports, inspection, letters, programs, public, schemas
from salur_cases.api.auth import TokenCheck
from salur_cases.api.common import DEPENDENCIES, require_if_match
from salur_cases.api.console.routes import DOCS_ASSETS, console_routes
from salur_cases.api.console.sessions import SESSION_STORE, DatabaseStore
from salur_cases.api.console.web import environment
from salur_cases.api.context import ApiContext, RateLimit
from salur_cases.api.idempotency import IdempotencyMiddleware, IdempotencyStore
from salur_cases.api.middleware import AccessLogMiddleware, TargetLimit
from salur_cases.api.problems import exception_handlers
from salur_cases.api.revocation import REFRESH_SECONDS, Denylist
from salur_cases.api.shared import Board
from salur_cases.domain import commands
from salur_cases.fields import IDEMPOTENCY_KEY_PATTERN
from salur_cases.runtime import Runtime

__all__ = ["API_VERSION", "create_app"]

API_VERSION = "1.0.0"

DESCRIPTION = """\
Kota Bogor's social-aid ledger (SALUR): households, programs and their tahap, padan and verval,
allocations, payments, removals, and why a household's aid changed.

Authenticate with `Authorization: Bearer <token>` from `salur token --role ROLE`. Errors are RFC 9457
problem details. Household writes need `If-Match` with the household's `ETag`; every write answers
`X-Salur-Position`, and reads wait for the projections to reach it (or `?min_position=`).
`Idempotency-Key` makes any POST safe to retry.
"""


def create_app(
    runtime: Runtime,
    *,
    public_per_minute: float = 20,
    public_burst: int = 10,
    board: Board | None = None,
    revocation_refresh_seconds: float = REFRESH_SECONDS,
    on_shutdown: Sequence[Callable[[], object]] = (),
) -> Litestar:
    """The API and the console over ``runtime``; the citizen self-check allows a burst, then a rate per
    client address.

    ``board`` is what the server's workers share (positions written, rate limits); alone, a private one.
    A revoked token is refused by every worker within ``revocation_refresh_seconds``.
    """
    ctx = ApiContext(
        runtime,
        board=board or Board.private(),
        public_limit=RateLimit(per_minute=public_per_minute, burst=public_burst),
    )
    tokens = TokenCheck(runtime.settings.token_secrets, Denylist(runtime.reader, revocation_refresh_seconds))
    api = Router(
        "/api/v1",
        route_handlers=[
            *programs.ROUTES,
            *households.ROUTES,
            *letters.ROUTES,
            imports.router(runtime.settings.import_max_bytes),
            *inspection.ROUTES,
        ],
        security=[{"bearer": []}],
    )
    app = Litestar(
        route_handlers=[api, *public.ROUTES, *console_routes(runtime.settings.secret_key)],
        dependencies=DEPENDENCIES,
        exception_handlers=exception_handlers,
        middleware=[
            AccessLogMiddleware,
            DefineMiddleware(
                IdempotencyMiddleware, store=IdempotencyStore(runtime.engine, runtime.settings.secret_key)
            ),
        ],
        state=State({"ctx": ctx, "tokens": tokens}),
        stores={SESSION_STORE: DatabaseStore(runtime.engine)},
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment())),
        openapi_config=OpenAPIConfig(
            title="salur-cases",
            version=API_VERSION,
            description=DESCRIPTION,
            path="/schema",
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/swagger", "/"],
                    js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/favicon-32x32.png'>",
                )
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT",
                        description="from `salur token --role ROLE`",
                    )
                }
            ),
            use_handler_docstrings=True,
        ),
        request_max_body_size=runtime.settings.max_body_bytes,  # imports: their own router's cap
        logging_config=None,
        on_startup=[ctx.lookups.open],
        on_shutdown=[ctx.lookups.close, *on_shutdown],
        debug=False,
    )
    _finish_openapi(app)
    app.asgi_handler = TargetLimit(app.asgi_handler)  # before routing, which remembers what clients sent
    return app


def _finish_openapi(app: Litestar) -> None:
    """Complete the OpenAPI document.

    Each handler's ``opt["example"]`` goes on its success answer; the ``If-Match`` and
    ``Idempotency-Key`` headers (read by a guard and by middleware) are declared; Litestar's 400
    answer is dropped (validation errors are 422 here); every POST declares the 413 of a body above
    its route's limit.
    """
    examples: dict[str, Any] = {}
    needs_if_match: set[str] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            operation_id = str(handler.operation_id)
            if "example" in handler.opt:
                examples[operation_id] = handler.opt["example"]
            if require_if_match in (handler.guards or ()):
                needs_if_match.add(operation_id)
    schema: OpenAPI = app.openapi_schema
    _name_commands(schema)
    _refuse_unknown_fields(schema)
    for path, path_item in (schema.paths or {}).items():
        for method in ("get", "post"):
            operation: Operation | None = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            operation.responses.pop("400", None)
            invalid = operation.responses.get("422")
            if method == "post" and isinstance(invalid, OpenAPIResponse):
                operation.responses["413"] = replace(invalid, description=TOO_LARGE)
            headers = []
            if operation.operation_id in needs_if_match:
                headers.append(IF_MATCH)
            if method == "post" and path.startswith("/api/v1/") and "/public/" not in path:
                headers.append(IDEMPOTENCY_KEY)
            operation.parameters = [*(operation.parameters or []), *headers] or None
            success = sorted(code for code in operation.responses if code.startswith("2"))
            response = operation.responses[success[0]] if success else None
            if operation.operation_id in examples:
                for media in (getattr(response, "content", None) or {}).values():
                    example = Example(summary="an answer", value=examples[operation.operation_id])
                    media.examples = {"example": example}


def _name_commands(schema: OpenAPI) -> None:
    """A command's body keeps the component name the API has always given it (its `__schema_name__`).

    Litestar names a component after its class; the domain names its commands by their decisions.
    """
    components = schema.components.schemas or {}
    renamed = {name: _schema_name(struct) for name, struct in COMMANDS.items() if name in components}
    for name, shown in renamed.items():
        components[shown] = components.pop(name)
    schema.components.schemas = dict(sorted(components.items()))
    _rename_references(schema, {f"{COMPONENTS}{n}": f"{COMPONENTS}{s}" for n, s in renamed.items()})


def _schema_name(struct: type[msgspec.Struct]) -> str:
    return str(vars(struct)["__schema_name__"])


def _rename_references(node: Any, refs: dict[str, str]) -> None:
    """Point every reference in the document tree below `node` at its component's new name."""
    if isinstance(node, Reference):
        node.ref = refs.get(node.ref, node.ref)
    elif isinstance(node, dict):
        for value in node.values():
            _rename_references(value, refs)
    elif isinstance(node, list | tuple):
        for value in node:
            _rename_references(value, refs)
    elif is_dataclass(node):
        for field in fields(node):
            _rename_references(getattr(node, field.name), refs)


def _refuse_unknown_fields(schema: OpenAPI) -> None:
    """The request bodies that refuse unknown fields say so (``additionalProperties: false``)."""
    for name, component in (schema.components.schemas or {}).items():
        struct = REQUESTS.get(name)
        if struct is not None and struct.__struct_config__.forbid_unknown_fields:
            component.additional_properties = False


COMMANDS: dict[str, type[msgspec.Struct]] = {
    name: value
    for name, value in vars(commands).items()
    if isinstance(value, type) and issubclass(value, msgspec.Struct) and "__schema_name__" in vars(value)
}
"""The commands by class name."""
REQUESTS: dict[str, type[msgspec.Struct]] = {
    **{
        name: value
        for name, value in vars(schemas).items()
        if isinstance(value, type) and issubclass(value, msgspec.Struct)
    },
    **{_schema_name(struct): struct for struct in COMMANDS.values()},
}
"""The API's request Structs by component name."""
COMPONENTS = "#/components/schemas/"
TOO_LARGE = "The request body is above the route's limit (`PAYLOAD_TOO_LARGE`)"
IF_MATCH = Parameter(
    name="If-Match",
    param_in=ParamType.HEADER,
    required=True,
    schema=Schema(type=OpenAPIType.STRING),
    description='the household\'s ETag as read (e.g. "7"), or * for any version',
    examples={"etag": Example(value='"1"')},
)
IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN),
    description="a replay with the same key and body returns the first answer and writes nothing",
    examples={"key": Example(value="6f1c2a9e-2b7d-4c1e-9f0a-1d2e3f4a5b6c")},
)

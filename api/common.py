"""Helpers the route modules share: dependencies, query parameters, write answers, If-Match, scope."""

from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import QueryParameter

from salur_cases.api.auth import Principal
from salur_cases.api.context import ApiContext
from salur_cases.api.problems import ApiProblem
from salur_cases.domain.parsing import parse_time
from salur_cases.processes.unit_of_work import HouseholdOutcome
from salur_cases.projections.schemas import HouseholdRead
from salur_cases.projections.views import household_view

MinPosition = Annotated[
    int | None,
    QueryParameter(
        name="min_position",
        ge=0,
        le=2**62,
        required=False,
        schema_extra={"minimum": 0},
        description="wait (at most 5 s) for the projections to reach it (default: this server's last write)",
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="items per page (at most 500)")]
Cursor = Annotated[
    str | None, QueryParameter(max_length=500, required=False, description="from a previous page")
]
AsOf = Annotated[
    str | None,
    QueryParameter(
        name="as_of",
        max_length=64,
        required=False,
        schema_extra={"format": OpenAPIFormat.DATE_TIME},
        description="as recorded at this time (ISO 8601; no offset means WIB)",
    ),
]


Ctx = NamedDependency[ApiContext]
"""A handler's parameter for the app's shared context."""
Caller = NamedDependency[Principal]
"""A handler's parameter for the principal of the request's token."""


def provide_ctx(state: State) -> ApiContext:
    """The app's shared context."""
    return cast("ApiContext", state["ctx"])


def provide_principal(request: Request[Any, Any, Any], ctx: Ctx) -> Principal:  # noqa: ARG001
    """The token's principal (set by the ``allow`` guard).

    It takes ``ctx`` only to be resolved after it: Litestar resolves dependencies of one level
    concurrently, in an anyio task group per request, a cost far above two dictionary lookups.
    """
    return cast("Principal", request.scope["user"])


DEPENDENCIES = {
    "ctx": Provide(provide_ctx, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}


def parse_as_of(value: str | None) -> Any:
    """``as_of`` as an aware datetime (None when absent)."""
    return parse_time(value, "as_of") if value else None


async def require_if_match(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """A guard: a household write needs ``If-Match`` (428), checked before the body is read."""
    if connection.headers.get("if-match") is None:
        raise ApiProblem(
            428,
            "a household write needs If-Match with the ETag of the household read",
            code="IF_MATCH_REQUIRED",
        )


def expected_version(request: Request[Any, Any, Any]) -> int | None:
    """The version ``If-Match`` names (``*``: any); 412 when it names none."""
    raw = (request.headers.get("if-match") or "").strip()
    if raw == "*":
        return None
    tag = raw.removeprefix("W/").strip().strip('"')
    if not tag.isdigit() or len(tag) > 18:  # noqa: PLR2004 - a version, not an arbitrary number
        raise ApiProblem(412, "If-Match names no version of this household", code="STALE_VERSION")
    return int(tag)


def write_headers(position: int | None, version: int | None = None) -> dict[str, str]:
    """``X-Salur-Position`` (and the new ``ETag``) of a write."""
    headers = {"X-Salur-Position": str(position or 0)}
    if version is not None:
        headers["ETag"] = f'"{version}"'
    return headers


def household_answer(
    ctx: ApiContext, outcome: HouseholdOutcome, status: int = 200
) -> Response[HouseholdRead]:
    """A household write's answer: the household, its new ETag and the write's position."""
    ctx.positions.wrote(outcome.position)
    if outcome.household is None:
        raise ApiProblem(500, "the write returned no household")
    view = household_view(outcome.household)
    return Response(view, status_code=status, headers=write_headers(outcome.position, view.version))


def check_kelurahan(principal: Principal, kelurahan_code: str | None) -> None:
    """403 when a kelurahan operator acts on a household of another kelurahan."""
    if not principal.may_see(kelurahan_code):
        raise ApiProblem(403, "this household is not in your kelurahan", code="OUTSIDE_KELURAHAN")


def kelurahan_of_view(view: HouseholdRead) -> str | None:
    """The kelurahan code of a household view."""
    return view.address.kelurahan if view.address else None

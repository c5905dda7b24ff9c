"""What needs no token: the citizen's self-check and the health probes.

The self-check answers only the status of the household of a NIK whose member's name matches, with
the name masked, and one plain sentence of why (its first reason, without the names of the officers
who recorded it) with what to do next. A wrong name answers exactly as an unknown NIK does (the query
function always does the same work and compares names in constant time), and the endpoint is rate
limited per client address, so it cannot be used to learn who is registered.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body
from sqlalchemy import text

from salur_cases.api.common import Ctx
from salur_cases.api.context import ApiContext
from salur_cases.api.problems import ApiProblem, problem_responses
from salur_cases.api.schemas import HealthRead, PublicStatusRequest
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.parsing import parse_nik
from salur_cases.fields import EXAMPLE_NAME, EXAMPLE_NIK
from salur_cases.logging import get_logger
from salur_cases.projections.schemas import PublicStatusRead

log = get_logger(__name__)


async def rate_limited(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """A guard: 429 with ``Retry-After`` when this client address has used its requests."""
    ctx: ApiContext = connection.app.state["ctx"]
    client = connection.client.host if connection.client else "unknown"
    wait = ctx.public_limit.take(ctx.board, client)
    if wait:
        raise ApiProblem(
            429,
            "too many status checks from this address; try again later",
            code="RATE_LIMITED",
            headers={"Retry-After": str(wait)},
        )


@post(
    "/api/v1/public/status",
    guards=[rate_limited],
    sync_to_thread=True,
    status_code=200,
    operation_id="publicStatus",
    summary="A citizen checks their own status",
    tags=["public"],
    security=[],
    responses=problem_responses(422, 429),
    opt={
        "example": {"status": "RECEIVING", "masked_name": "B*** S******", "program": "WALIKOTA", "tahap": 1}
    },
)
def public_status(
    ctx: Ctx,
    data: Annotated[
        PublicStatusRequest,
        Body(
            examples=[Example(summary="own NIK and name", value={"nik": EXAMPLE_NIK, "name": EXAMPLE_NAME})]
        ),
    ],
) -> PublicStatusRead:
    """RECEIVING, NOT_RECEIVING or NOT_FOUND (also for a wrong name); nothing about anyone else."""
    from salur_cases.projections import queries  # noqa: PLC0415 - projections load lazily
    from salur_cases.projections.explain import citizen_reason  # noqa: PLC0415 - projections load lazily

    nik = parse_nik(data.nik)
    name = " ".join(data.name.split())
    if not name:
        raise InvalidCommand("name", "is required")
    ctx.positions.wait(ctx.runtime, None)
    found = queries.public_status(ctx.runtime, nik, name)
    if found.status != "NOT_FOUND":
        found.reason, found.next_step = citizen_reason(
            ctx.runtime, nik, found.program, found.tahap, data.lang
        )
    return found


@get(
    "/health/live",
    operation_id="healthLive",
    summary="The process answers",
    tags=["health"],
    security=[],
    opt={"example": {"status": "ok"}},
)
async def live() -> HealthRead:
    """Always ``ok`` while the process serves."""
    return HealthRead(status="ok")


@get(
    "/health/ready",
    sync_to_thread=True,
    operation_id="healthReady",
    tags=["health"],
    security=[],
    summary="The database answers and the projections are close behind (503 otherwise)",
    responses={
        503: ResponseSpec(data_container=HealthRead, description="not ready", generate_examples=False)
    },
    opt={"example": {"status": "ready", "database": True, "projection_lag": 0}},
)
def ready(ctx: Ctx) -> Response[HealthRead]:
    """Ready when the database answers and the projections lag by at most 1,000 events; with a read
    standby, also when it answers and has replayed the projections to within 1,000 events."""
    from salur_cases.projections.queries import projection_lag, standby_lag  # noqa: PLC0415

    database, lag = False, None
    try:
        with ctx.runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database = True
        lag = projection_lag(ctx.runtime)
    except Exception as exc:
        log.warning("not ready", error=type(exc).__name__)
    ok = database and lag is not None and lag <= ctx.max_ready_lag
    standby, behind = None, None
    if ctx.runtime.has_standby:
        try:
            behind = standby_lag(ctx.runtime)
            standby = True
        except Exception as exc:
            standby = False
            log.warning("standby not ready", error=type(exc).__name__)
        ok = ok and behind is not None and behind <= ctx.max_ready_lag
    return Response(
        HealthRead(
            status="ready" if ok else "not_ready",
            database=database,
            projection_lag=lag,
            standby=standby,
            standby_lag=behind,
        ),
        status_code=200 if ok else 503,
    )


ROUTES = [public_status, live, ready]

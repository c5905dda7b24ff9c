"""Programs and their tahap: define, open, allocate, pay, certify, and read a roster."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter

from salur_cases.api.auth import allow
from salur_cases.api.common import (
    AsOf,
    Caller,
    Ctx,
    Cursor,
    Limit,
    MinPosition,
    parse_as_of,
    write_headers,
)
from salur_cases.api.problems import problem_responses
from salur_cases.api.schemas import AllocationRead, CertificationRead, ItemIssue, PaymentsRead
from salur_cases.domain.commands import AllocateTahap, CertifyTahap, DefineProgram, OpenTahap, RecordPayments
from salur_cases.domain.vocabulary import Role
from salur_cases.fields import CODE_PATTERN, EXAMPLE_NO_KK
from salur_cases.processes import allocation, disbursement, programs
from salur_cases.processes.unit_of_work import Rejection
from salur_cases.projections.schemas import ChainHead, ProgramRead, RosterPage, TahapRead
from salur_cases.projections.views import program_view, tahap_view

POSITION_HEADER = ResponseHeader(
    name="X-Salur-Position", documentation_only=True, description="the position of the write's last event"
)
Code = Annotated[str, PathParameter(max_length=40, description="program code", pattern=CODE_PATTERN)]
Number = Annotated[int, PathParameter(ge=1, le=1000, description="tahap number")]
LIST_BODY_BYTES = 8 * 1024 * 1024
"""The body cap of the two routes that take a list of households (an outside roster's No. KKs, a payer's
items): a city's roster of 60,000 households is about 1.2 MB of JSON, over the other routes' few KiB."""

_TAHAP_EXAMPLE = {
    "program": "WALIKOTA",
    "number": 1,
    "starts_on": "2020-04-27",
    "ends_on": "2020-05-26",
    "quota": 19904,
    "amount_idr": 500000,
    "budget_ceiling_idr": 9952000000,
    "decree_ref": "027.45-312",
    "assigned": 0,
    "certified": False,
}


def _issues(items: list[Rejection]) -> list[ItemIssue]:
    return [ItemIssue(r.index, str(r.code), r.message, r.field) for r in items]


@post(
    "/programs",
    guards=[allow(Role.ADMIN, Role.DINSOS)],
    sync_to_thread=True,
    status_code=201,
    operation_id="defineProgram",
    summary="Define an aid program",
    tags=["programs"],
    response_headers=[POSITION_HEADER],
    responses=problem_responses(401, 403, 409, 422),
    opt={
        "example": {
            "code": "WALIKOTA",
            "name": "Bantuan Walikota",
            "budget_source": "APBD_KOTA",
            "group": "NON_DTKS",
            "tahap": [],
        }
    },
)
def define_program(
    ctx: Ctx,
    principal: Caller,
    data: Annotated[
        DefineProgram,
        Body(
            examples=[
                Example(
                    summary="the mayor's aid",
                    value={
                        "code": "WALIKOTA",
                        "name": "Bantuan Walikota",
                        "budget_source": "APBD_KOTA",
                        "group": "NON_DTKS",
                    },
                )
            ]
        ),
    ],
) -> Response[ProgramRead]:
    """Define a program; 409 PROGRAM_EXISTS when its code is taken."""
    program, written = programs.define_program(ctx.runtime.app, data, principal.actor)
    ctx.positions.wrote(written.position)
    return Response(program_view(program), status_code=201, headers=write_headers(written.position))


@post(
    "/programs/{code:str}/tahap",
    guards=[allow(Role.ADMIN, Role.DINSOS)],
    sync_to_thread=True,
    status_code=201,
    operation_id="openTahap",
    summary="Open a tahap of a program",
    tags=["programs"],
    response_headers=[POSITION_HEADER],
    responses=problem_responses(401, 403, 404, 409, 422),
    opt={"example": _TAHAP_EXAMPLE},
)
def open_tahap(
    ctx: Ctx,
    principal: Caller,
    code: Code,
    data: Annotated[
        OpenTahap,
        Body(
            examples=[
                Example(
                    summary="tahap I",
                    value={
                        k: v
                        for k, v in _TAHAP_EXAMPLE.items()
                        if k not in {"program", "assigned", "certified"}
                    },
                )
            ]
        ),
    ],
) -> Response[TahapRead]:
    """Open a tahap with its period, quota, amount, budget ceiling and decree."""
    tahap, written = programs.open_tahap(ctx.runtime.app, code, data, principal.actor)
    ctx.positions.wrote(written.position)
    return Response(
        tahap_view(code.strip().upper(), tahap),
        status_code=201,
        headers=write_headers(written.position),
    )


@post(
    "/programs/{code:str}/tahap/{n:int}/allocations",
    guards=[allow(Role.DINSOS)],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=LIST_BODY_BYTES,
    operation_id="allocateTahap",
    summary="Allocate a tahap's seats",
    tags=["programs"],
    response_headers=[POSITION_HEADER],
    responses=problem_responses(401, 403, 404, 409, 422),
    opt={"example": {"assigned": 19904, "left_out": 1200, "cutoff": 19904, "warnings": []}},
)
def allocate(
    ctx: Ctx,
    principal: Caller,
    code: Code,
    n: Number,
    data: Annotated[
        AllocateTahap,
        Body(
            description="`{}` for the city's rule, or `authority` and `no_kk` for an outside complete list",
            examples=[
                Example(summary="the city's rule", value={}),
                Example(
                    summary="Kemensos' roster",
                    value={"authority": "KEMENSOS", "no_kk": [EXAMPLE_NO_KK], "effective_on": "2020-05-01"},
                ),
            ],
        ),
    ],
) -> Response[AllocationRead]:
    """Assign seats by the city's rule, or record an outside authority's roster (facts, with warnings)."""
    outcome = allocation.allocate_tahap(ctx.runtime.app, code, n, data, principal.actor)
    ctx.positions.wrote(outcome.position)
    body = AllocationRead(outcome.assigned, outcome.left_out, outcome.cutoff, _issues(outcome.warnings))
    return Response(body, headers=write_headers(outcome.position))


@post(
    "/programs/{code:str}/tahap/{n:int}/payments",
    guards=[allow(Role.DINSOS)],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=LIST_BODY_BYTES,
    operation_id="recordPayments",
    summary="Record payments of a tahap",
    tags=["programs"],
    response_headers=[POSITION_HEADER],
    responses=problem_responses(401, 403, 404, 409, 422),
    opt={
        "example": {
            "accepted": 1,
            "rejected": [
                {"index": 1, "code": "NOT_ASSIGNED", "message": "the household holds no seat in this tahap"}
            ],
            "warnings": [],
        }
    },
)
def record_payments(
    ctx: Ctx,
    principal: Caller,
    code: Code,
    n: Number,
    data: Annotated[
        RecordPayments,
        Body(
            examples=[
                Example(
                    summary="one payment",
                    value={
                        "items": [
                            {
                                "no_kk": EXAMPLE_NO_KK,
                                "amount_idr": 500000,
                                "paid_at": "2020-05-02T10:00:00+07:00",
                                "status": "PAID",
                                "reference": "POS-1",
                            }
                        ]
                    },
                )
            ]
        ),
    ],
) -> Response[PaymentsRead]:
    """Record the city's payments; an item a rule refuses is listed in ``rejected`` and the others stand."""
    items = data.parsed()
    outcome = disbursement.record_payments(ctx.runtime.app, code, n, items, principal.actor, as_fact=False)
    ctx.positions.wrote(outcome.position)
    body = PaymentsRead(outcome.accepted, _issues(outcome.rejected), _issues(outcome.warnings))
    return Response(body, headers=write_headers(outcome.position))


@post(
    "/programs/{code:str}/tahap/{n:int}/certification",
    guards=[allow(Role.DINSOS)],
    sync_to_thread=True,
    status_code=201,
    operation_id="certifyTahap",
    summary="Certify a tahap's roster",
    tags=["programs"],
    response_headers=[POSITION_HEADER],
    responses=problem_responses(401, 403, 404, 409, 422),
    opt={
        "example": {
            "roster_hash": "9f2c" + "0" * 60,
            "households": 19904,
            "chain_head": {"position": 812345, "hash": "ab12" + "0" * 60},
        }
    },
)
def certify(
    ctx: Ctx,
    principal: Caller,
    code: Code,
    n: Number,
    data: Annotated[  # noqa: ARG001 - decoding it refuses fields a certification does not have
        CertifyTahap | None, Body(examples=[Example(summary="no fields", value={})])
    ] = None,
) -> Response[CertificationRead]:
    """Fix the roster: its hash, its size and the chain head it was fixed at; 409 TAHAP_CERTIFIED after."""
    digest, households, head, written = programs.certify(ctx.runtime.app, code, n, principal.actor)
    ctx.positions.wrote(written.position)
    body = CertificationRead(digest, households, ChainHead(head["position"], head["hash"]))
    return Response(body, status_code=201, headers=write_headers(written.position))


@get(
    "/programs/{code:str}/tahap/{n:int}/roster",
    guards=[allow(Role.DINSOS, Role.INSPECTOR)],
    sync_to_thread=True,
    operation_id="readRoster",
    summary="A tahap's roster",
    tags=["programs"],
    responses=problem_responses(401, 403, 404, 422),
    opt={
        "example": {
            "items": [{"no_kk": EXAMPLE_NO_KK, "state": "PAID", "amount_idr": 500000}],
            "next_cursor": None,
        }
    },
)
def read_roster(
    ctx: Ctx,
    code: Code,
    n: Number,
    as_of: AsOf = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> RosterPage:
    """The households holding a seat in the tahap (as recorded at ``as_of``), with their state and amount."""
    from salur_cases.projections.queries import roster  # noqa: PLC0415

    moment = parse_as_of(as_of)
    ctx.positions.wait(ctx.runtime, min_position)
    return roster(ctx.runtime, code, n, as_of=moment, limit=limit, cursor=cursor)


ROUTES = [define_program, open_tahap, allocate, record_payments, certify, read_roster]

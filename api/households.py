"""Households: propose, read (now or as of a moment), history, explanations, decisions, lookup by NIK.

Every write under ``/households/{no_kk}/`` needs ``If-Match`` (428 without it, 412 when stale) and
answers the household with its new ``ETag``. Kelurahan operators act only on households of their own
kelurahan (403 elsewhere).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter

from salur_cases.api.auth import allow
from salur_cases.api.common import (
    AsOf,
    Caller,
    Ctx,
    Cursor,
    Limit,
    MinPosition,
    check_kelurahan,
    expected_version,
    household_answer,
    kelurahan_of_view,
    parse_as_of,
    require_if_match,
    write_headers,
)
from salur_cases.api.problems import problem_responses
from salur_cases.api.schemas import ComplaintCreated, LookupRequest
from salur_cases.domain.commands import (
    CorrectHousehold,
    DecideVerval,
    FileComplaint,
    MoveMember,
    ProposeHousehold,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
    ResolveComplaint,
    TransferHousehold,
)
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.parsing import parse_nik, parse_no_kk
from salur_cases.domain.vocabulary import Role
from salur_cases.fields import EXAMPLE_NAME, EXAMPLE_NIK, EXAMPLE_NO_KK, NO_KK_PATTERN
from salur_cases.processes import complaints, padan, registration, verval, withdrawal
from salur_cases.projections.schemas import EventPage, ExplainRead, HouseholdRead, LookupRead

NoKKPath = Annotated[
    str,
    PathParameter(max_length=32, description="No. KK (16 digits)", schema_extra={"pattern": NO_KK_PATTERN}),
]
ETAG_HEADER = ResponseHeader(
    name="ETag", documentation_only=True, description='the household\'s version, e.g. "7"'
)
POSITION_HEADER = ResponseHeader(
    name="X-Salur-Position", documentation_only=True, description="the position of the write's last event"
)
WRITE_HEADERS = [ETAG_HEADER, POSITION_HEADER]
WRITE_PROBLEMS = problem_responses(401, 403, 404, 409, 412, 422, 428)
READERS = (Role.DINSOS, Role.KELURAHAN, Role.INSPECTOR)

HOUSEHOLD_EXAMPLE: dict[str, Any] = {
    "no_kk": EXAMPLE_NO_KK,
    "version": 4,
    "address": {"kecamatan": "32.71.03", "kelurahan": "32.71.03.1005", "rw": "003", "rt": "002"},
    "members": [
        {
            "nik": EXAMPLE_NIK,
            "name": EXAMPLE_NAME,
            "relationship": "KEPALA KELUARGA",
            "birth_date": "1975-07-15",
        }
    ],
    "sources": [{"kind": "KELURAHAN", "reference": ""}],
    "padan": {"result": "MATCHED", "checked_on": "2020-05-02"},
    "verval": {"decision": "ELIGIBLE", "decided_on": "2020-04-24"},
    "programs": [
        {"program": "WALIKOTA", "tahap": 1, "state": "PAID", "amount_idr": 500000, "authority": None}
    ],
    "removals": [],
    "complaints": [],
}
_UNKNOWN = "no household with this No. KK"


def _household_write(
    path: str,
    *roles: Role,
    operation_id: str,
    summary: str,
    status_code: int = 200,
    example: Any = HOUSEHOLD_EXAMPLE,
) -> post:
    """A decision on one household: ``roles`` may make it, with ``If-Match``; it answers the household."""
    return post(
        path,
        guards=[allow(*roles), require_if_match],
        sync_to_thread=True,
        status_code=status_code,
        operation_id=operation_id,
        summary=summary,
        tags=["households"],
        response_headers=WRITE_HEADERS,
        responses=WRITE_PROBLEMS,
        opt={"example": example},
    )


def _household_in_scope(ctx: Ctx, principal: Caller, no_kk: str) -> str:
    """The parsed No. KK, after checking a kelurahan operator's scope on the household as it stands."""
    no_kk = parse_no_kk(no_kk)
    if principal.role is Role.KELURAHAN:
        household = ctx.runtime.app.household(no_kk)
        check_kelurahan(principal, household.address.kelurahan if household.address else None)
    return no_kk


# --- proposals and reads ------------------------------------------------------------------------


@post(
    "/households",
    guards=[allow(Role.DINSOS, Role.KELURAHAN)],
    sync_to_thread=True,
    status_code=201,
    operation_id="proposeHousehold",
    summary="Propose a household (new: 201, re-proposed: 200)",
    tags=["households"],
    response_headers=[*WRITE_HEADERS, ResponseHeader(name="Location", documentation_only=True)],
    responses={
        200: ResponseSpec(data_container=HouseholdRead, description="re-proposed", generate_examples=False),
        **problem_responses(401, 403, 409, 422),
    },
    opt={"example": HOUSEHOLD_EXAMPLE},
)
def propose_household(
    ctx: Ctx,
    principal: Caller,
    data: Annotated[
        ProposeHousehold,
        Body(
            examples=[
                Example(
                    summary="proposed by its kelurahan",
                    value={
                        "no_kk": EXAMPLE_NO_KK,
                        "source": {"kind": "KELURAHAN", "reference": ""},
                        "address": {
                            "kecamatan": "Bogor Tengah",
                            "kelurahan": "Sempur",
                            "rw": "003",
                            "rt": "002",
                        },
                        "members": [
                            {
                                "nik": EXAMPLE_NIK,
                                "name": EXAMPLE_NAME,
                                "relationship": "KEPALA KELUARGA",
                                "birth_date": "1975-07-15",
                            }
                        ],
                    },
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Record a proposal: a new household (201), or a new proposal of a known one (200)."""
    proposal = data.parsed()
    app = ctx.runtime.app
    if principal.role is Role.KELURAHAN:
        check_kelurahan(principal, proposal.address.kelurahan if proposal.address else None)
        try:
            known = app.household(proposal.no_kk)
        except Refusal:
            known = None
        if known is not None:
            check_kelurahan(principal, known.address.kelurahan if known.address else None)
    outcome = registration.register(app, proposal, principal.actor)
    response = household_answer(ctx, outcome, 201 if outcome.created else 200)
    response.headers["Location"] = f"/api/v1/households/{proposal.no_kk}"
    return response


@get(
    "/households/{no_kk:str}",
    guards=[allow(*READERS)],
    operation_id="readHousehold",
    summary="A household, now or as of a moment",
    tags=["households"],
    response_headers=[ETAG_HEADER],
    responses=problem_responses(401, 403, 404, 422),
    opt={"example": HOUSEHOLD_EXAMPLE},
)
async def read_household(
    ctx: Ctx,
    principal: Caller,
    no_kk: NoKKPath,
    as_of: AsOf = None,
    effective_on: Annotated[
        date | None, QueryParameter(required=False, description="by effective date")
    ] = None,
    min_position: MinPosition = None,
) -> Response[HouseholdRead]:
    """The household; its ``ETag`` (the version) goes into ``If-Match`` of the next write."""
    from salur_cases.projections.queries import household_read  # noqa: PLC0415

    no_kk = parse_no_kk(no_kk)
    moment = parse_as_of(as_of)
    await ctx.positions.reach(ctx.runtime, min_position)
    view = household_read(ctx.runtime, no_kk, as_of=moment, effective_on=effective_on)
    if view is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, _UNKNOWN)
    check_kelurahan(principal, kelurahan_of_view(view))
    headers = {"ETag": f'"{view.version}"'} if moment is None and effective_on is None else {}
    return Response(view, headers=headers)


@get(
    "/households/{no_kk:str}/events",
    guards=[allow(Role.DINSOS, Role.INSPECTOR)],
    sync_to_thread=True,
    operation_id="listHouseholdEvents",
    summary="A household's events",
    tags=["households"],
    responses=problem_responses(401, 403, 404, 422),
    opt={
        "example": {
            "items": [
                {
                    "position": 17,
                    "event_id": "5b0f8a52-2d7e-5c61-9d0e-3f1a2b4c5d6e",
                    "type": "household.Assigned",
                    "recorded_at": "2020-04-27T09:00:00+07:00",
                    "effective_on": "2020-04-27",
                    "actor": "petugas-dinsos",
                    "role": "dinsos",
                    "data": {"program": "WALIKOTA", "tahap": 1},
                }
            ],
            "next_cursor": None,
        }
    },
)
def household_events(
    ctx: Ctx,
    no_kk: NoKKPath,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> EventPage:
    """The household's events in commit order, with who recorded them and when they take effect."""
    from salur_cases.projections import queries  # noqa: PLC0415

    no_kk = parse_no_kk(no_kk)
    ctx.positions.wait(ctx.runtime, min_position)
    page = queries.household_events(ctx.runtime, no_kk, limit, cursor)
    if not page.items and cursor is None and queries.household_read(ctx.runtime, no_kk) is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, _UNKNOWN)
    return page


@get(
    "/households/{no_kk:str}/explain",
    guards=[allow(*READERS)],
    operation_id="explainHousehold",
    summary="Why a household's aid changed",
    tags=["households"],
    responses=problem_responses(401, 403, 404, 422),
    opt={
        "example": {
            "no_kk": EXAMPLE_NO_KK,
            "program": "BST_KEMENSOS",
            "program_name": "BLT / BST Kemensos",
            "from_tahap": 5,
            "to_tahap": 6,
            "outcome": "DROPPED",
            "summary": "Berhenti menerima: BLT / BST Kemensos, tahap 5 ke tahap 6.",
            "reasons": [
                {
                    "code": "REMOVED_BY_AUTHORITY",
                    "at": "2020-06-03T10:00:00+07:00",
                    "effective_on": "2020-06-01",
                    "authority": "KEMENSOS",
                    "actor": "petugas-dinsos",
                    "reason": "pindah domisili ke Kabupaten Bogor",
                    "decree_ref": "KEP-1",
                    "event_id": "5b0f8a52-2d7e-5c61-9d0e-3f1a2b4c5d6e",
                    "program": "BST_KEMENSOS",
                    "tahap": 6,
                    "text": "KEMENSOS menghapus rumah tangga ini dari BLT / BST Kemensos mulai tahap 6 "
                    'berdasarkan keputusan KEP-1 dengan alasan "pindah domisili ke Kabupaten Bogor", '
                    "berlaku sejak 1 Juni 2020; keputusan ini dicatat pada 3 Juni 2020 pukul 10.00 WIB.",
                }
            ],
            "next_steps": [
                "Ajukan keberatan kepada KEMENSOS melalui Dinas Sosial dengan membawa KTP dan KK, dengan "
                "menyebut keputusan KEP-1 yang berlaku sejak 1 Juni 2020."
            ],
            "payments": [
                {
                    "tahap": 5,
                    "paid_on": "2020-05-12",
                    "amount_idr": 600000,
                    "reference": "POS-5-1",
                    "event_id": "0c1d2e3f-4a5b-5c6d-8e7f-8091a2b3c4d5",
                }
            ],
        }
    },
)
async def explain_household(
    ctx: Ctx,
    principal: Caller,
    no_kk: NoKKPath,
    program: Annotated[str | None, QueryParameter(max_length=40, required=False)] = None,
    from_tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
    to_tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
    lang: Annotated[Literal["id", "en"], QueryParameter(description="id (Indonesian) or en")] = "id",
    min_position: MinPosition = None,
) -> ExplainRead:
    """The events that made the difference between two tahap, who decided them, and what to do next."""
    from salur_cases.projections.explain import explain_read  # noqa: PLC0415
    from salur_cases.projections.queries import household_read  # noqa: PLC0415

    no_kk = parse_no_kk(no_kk)
    await ctx.positions.reach(ctx.runtime, min_position)
    if principal.role is Role.KELURAHAN:
        view = household_read(ctx.runtime, no_kk)
        if view is None:
            raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, _UNKNOWN)
        check_kelurahan(principal, kelurahan_of_view(view))
    return explain_read(ctx.runtime, no_kk, program, from_tahap, to_tahap, lang)


@post(
    "/lookup",
    guards=[allow(*READERS)],
    status_code=200,
    operation_id="lookupByNik",
    summary="The household a NIK belongs to",
    tags=["households"],
    responses=problem_responses(401, 403, 404, 422),
    opt={"example": {"no_kk": EXAMPLE_NO_KK, "household": HOUSEHOLD_EXAMPLE}},
)
async def lookup(
    ctx: Ctx,
    principal: Caller,
    data: Annotated[LookupRequest, Body(examples=[Example(summary="a NIK", value={"nik": EXAMPLE_NIK})])],
    min_position: MinPosition = None,
) -> LookupRead:
    """Find a person's household by NIK (in the body, so the NIK stays out of URLs and logs)."""
    nik = parse_nik(data.nik)
    await ctx.positions.reach(ctx.runtime, min_position)
    view = await ctx.lookups.household_of_nik(nik)
    if view is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household has this NIK")
    check_kelurahan(principal, kelurahan_of_view(view))
    return LookupRead(view.no_kk, view)


# --- decisions on one household -----------------------------------------------------------------


@_household_write(
    "/households/{no_kk:str}/population-matches",
    Role.DUKCAPIL,
    operation_id="recordPopulationMatch",
    summary="Record a padan result",
)
def record_population_match(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        RecordPopulationMatch,
        Body(examples=[Example(summary="matched", value={"result": "MATCHED", "checked_on": "2020-05-02"})]),
    ],
) -> Response[HouseholdRead]:
    """Record a padan result decided by Disdukcapil."""
    outcome = padan.record_padan(
        ctx.runtime.app, parse_no_kk(no_kk), data, principal.actor, expected_version=expected_version(request)
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/verval",
    Role.DINSOS,
    Role.KELURAHAN,
    operation_id="decideVerval",
    summary="Record a verval decision",
)
def decide_verval(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        DecideVerval,
        Body(
            examples=[
                Example(
                    summary="eligible",
                    value={
                        "decision": "ELIGIBLE",
                        "reason": "terdampak",
                        "officer": "petugas-1",
                        "decided_on": "2020-04-24",
                    },
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Record an officer's verval decision (LAYAK = ELIGIBLE, TIDAK_LAYAK = INELIGIBLE)."""
    no_kk = _household_in_scope(ctx, principal, no_kk)
    outcome = verval.decide_verval(
        ctx.runtime.app, no_kk, data, principal.actor, expected_version=expected_version(request)
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/removals",
    Role.DINSOS,
    operation_id="removeHousehold",
    summary="Remove a household from a program from a tahap on",
)
def remove(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        RemoveHousehold,
        Body(
            examples=[
                Example(
                    summary="cleansed by Kemensos",
                    value={
                        "program": "BST_KEMENSOS",
                        "tahap": 6,
                        "authority": "KEMENSOS",
                        "reason": "tidak padan",
                        "decree_ref": "KEP-1",
                        "effective_on": "2020-06-01",
                    },
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Record a removal by an authority; it applies to its tahap and every later one until a reinstatement."""
    outcome = withdrawal.remove(
        ctx.runtime.app, parse_no_kk(no_kk), data, principal.actor, expected_version=expected_version(request)
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/reinstatements",
    Role.DINSOS,
    operation_id="reinstateHousehold",
    summary="Undo a removal from a tahap on",
)
def reinstate(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        ReinstateHousehold,
        Body(
            examples=[
                Example(
                    summary="objection upheld",
                    value={
                        "program": "BST_KEMENSOS",
                        "tahap": 6,
                        "authority": "DINSOS",
                        "reason": "sanggahan diterima",
                    },
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Record a reinstatement; 409 NOT_REMOVED when there is no removal to undo."""
    outcome = withdrawal.reinstate(
        ctx.runtime.app, parse_no_kk(no_kk), data, principal.actor, expected_version=expected_version(request)
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/transfers",
    Role.DINSOS,
    operation_id="transferHousehold",
    summary="Transfer a household to another program",
)
def transfer(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        TransferHousehold,
        Body(
            examples=[
                Example(
                    summary="to Kemensos BLT",
                    value={
                        "from_program": "WALIKOTA",
                        "from_tahap": 2,
                        "to_program": "BST_KEMENSOS",
                        "authority": "DINSOS",
                        "reason": "kuota kota habis",
                    },
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Take the household out of ``from_program`` from ``from_tahap`` on, naming ``to_program``."""
    outcome = withdrawal.transfer(
        ctx.runtime.app, parse_no_kk(no_kk), data, principal.actor, expected_version=expected_version(request)
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/corrections",
    Role.DINSOS,
    operation_id="correctHousehold",
    summary="Correct one field, with evidence",
)
def correct(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        CorrectHousehold,
        Body(
            examples=[
                Example(
                    summary="the RT",
                    value={"field": "address.rt", "new_value": "004", "evidence": "KK terbaru"},
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Correct a field (``members[0].nik``, ``address.rt``, ...); the old value and the evidence are kept."""
    outcome = registration.correct(
        ctx.runtime.app, parse_no_kk(no_kk), data, principal.actor, expected_version=expected_version(request)
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/member-moves",
    Role.DINSOS,
    operation_id="moveMember",
    summary="Move a member to another household",
)
def move_member(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        MoveMember,
        Body(
            examples=[
                Example(
                    summary="moved out",
                    value={
                        "nik": EXAMPLE_NIK,
                        "to_no_kk": "3271031503200002",
                        "reason": "pindah KK",
                        "evidence": "KK baru",
                    },
                )
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Move a person out of this household and into another, with their NIK's claim."""
    outcome = registration.move_member(
        ctx.runtime.app,
        parse_no_kk(no_kk),
        data.parsed(),
        principal.actor,
        expected_version=expected_version(request),
    )
    return household_answer(ctx, outcome)


@_household_write(
    "/households/{no_kk:str}/complaints",
    Role.DINSOS,
    Role.KELURAHAN,
    operation_id="fileComplaint",
    summary="File an aduan",
    status_code=201,
    example={"complaint_id": "4f3c2a1b" * 4},
)
def file_complaint(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    data: Annotated[
        FileComplaint,
        Body(
            examples=[
                Example(
                    summary="not paid",
                    value={"channel": "WHATSAPP", "text": "bantuan tahap 2 belum diterima"},
                )
            ]
        ),
    ],
) -> Response[ComplaintCreated]:
    """Record an aduan; answers its id."""
    no_kk = _household_in_scope(ctx, principal, no_kk)
    complaint_id, outcome = complaints.file_complaint(
        ctx.runtime.app, no_kk, data, principal.actor, expected_version=expected_version(request)
    )
    ctx.positions.wrote(outcome.position)
    version = outcome.household.version if outcome.household else None
    return Response(
        ComplaintCreated(complaint_id),
        status_code=201,
        headers=write_headers(outcome.position, version),
    )


@_household_write(
    "/households/{no_kk:str}/complaints/{complaint_id:str}/resolution",
    Role.DINSOS,
    operation_id="resolveComplaint",
    summary="Answer an aduan",
)
def resolve_complaint(
    ctx: Ctx,
    principal: Caller,
    request: Request[Any, Any, Any],
    no_kk: NoKKPath,
    complaint_id: Annotated[str, PathParameter(max_length=64)],
    data: Annotated[
        ResolveComplaint,
        Body(
            examples=[
                Example(summary="paid again", value={"outcome": "RESOLVED", "note": "sudah dibayar ulang"})
            ]
        ),
    ],
) -> Response[HouseholdRead]:
    """Record the answer to an aduan."""
    outcome = complaints.resolve_complaint(
        ctx.runtime.app,
        parse_no_kk(no_kk),
        complaint_id,
        data,
        principal.actor,
        expected_version=expected_version(request),
    )
    return household_answer(ctx, outcome)


ROUTES = [
    propose_household,
    read_household,
    household_events,
    explain_household,
    lookup,
    record_population_match,
    decide_verval,
    remove,
    reinstate,
    transfer,
    correct,
    move_member,
    file_complaint,
    resolve_complaint,
]

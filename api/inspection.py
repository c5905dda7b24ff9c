"""Inspectors' reads: the budget, anomalies, the chain's check, evidence, and the feed of every event."""

from __future__ import annotations

import itertools
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from litestar.response import Stream

from salur_cases.api.auth import allow
from salur_cases.api.common import Ctx, Cursor, Limit, MinPosition
from salur_cases.api.problems import problem_responses
from salur_cases.commands import parse_no_kk
from salur_cases.domain.vocabulary import Role
from salur_cases.fields import EXAMPLE_NO_KK
from salur_cases.projections.schemas import AnomalyPage, BudgetPage, FeedPage, VerifyRead

AUDITORS = allow(Role.INSPECTOR, Role.ADMIN)
JSON_LINES = "application/x-ndjson"


@get(
    "/audit/budget",
    guards=[AUDITORS],
    sync_to_thread=True,
    operation_id="auditBudget",
    summary="Where the money went, per budget source, program and tahap",
    tags=["audit"],
    responses=problem_responses(401, 403, 422),
    opt={
        "example": {
            "items": [
                {
                    "budget_source": "APBD_KOTA",
                    "program": "WALIKOTA",
                    "tahap": 1,
                    "quota": 19904,
                    "assigned": 19904,
                    "paid": 19850,
                    "failed": 54,
                    "committed_idr": 9952000000,
                    "paid_idr": 9925000000,
                    "returned_idr": 0,
                    "ceiling_idr": 9952000000,
                    "remainder_idr": 27000000,
                    "decree_ref": "027.45-312",
                }
            ],
            "next_cursor": None,
        }
    },
)
def audit_budget(ctx: Ctx, min_position: MinPosition = None) -> BudgetPage:
    """Quota, seats, payments and money per budget source, program and tahap."""
    from salur_cases.projections.audit.budget import budget_rows  # noqa: PLC0415 - audit loads lazily

    ctx.positions.wait(ctx.runtime, min_position)
    return BudgetPage(budget_rows(ctx.runtime))


@get(
    "/audit/anomalies",
    guards=[AUDITORS],
    sync_to_thread=True,
    operation_id="auditAnomalies",
    summary="Recorded facts that break a city rule",
    tags=["audit"],
    responses=problem_responses(401, 403, 422),
    opt={
        "example": {
            "items": [
                {
                    "code": "NOT_PROPOSED_BY_DINSOS",
                    "no_kk": EXAMPLE_NO_KK,
                    "program": "BST_KEMENSOS",
                    "tahap": 5,
                    "evidence": ["5b0f8a52-2d7e-5c61-9d0e-3f1a2b4c5d6e"],
                    "detail": {"authority": "KEMENSOS"},
                }
            ],
            "next_cursor": None,
        }
    },
)
def audit_anomalies(
    ctx: Ctx,
    code: Annotated[
        str | None, QueryParameter(max_length=64, required=False, description="one anomaly code")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> AnomalyPage:
    """Anomalies, each with the events that show it."""
    from salur_cases.projections.audit.findings import anomalies  # noqa: PLC0415

    ctx.positions.wait(ctx.runtime, min_position)
    return anomalies(ctx.runtime, code, limit, cursor)


@get(
    "/audit/verify",
    guards=[AUDITORS],
    sync_to_thread=True,
    operation_id="auditVerify",
    summary="Check the tamper-evident chain and the certified rosters",
    tags=["audit"],
    responses=problem_responses(401, 403),
    opt={
        "example": {
            "ok": True,
            "checked": 812345,
            "head": {"position": 812345, "hash": "ab12" + "0" * 60},
            "first_broken": None,
        }
    },
)
def audit_verify(ctx: Ctx) -> VerifyRead:
    """Whether every stored event still hashes into the chain; the head to remember outside."""
    from salur_cases.projections.audit.verification import verify  # noqa: PLC0415

    return verify(ctx.runtime)


@get(
    "/audit/evidence",
    guards=[AUDITORS],
    sync_to_thread=True,
    operation_id="auditEvidence",
    summary="Evidence as JSON Lines, verifiable offline",
    tags=["audit"],
    media_type=JSON_LINES,
    responses=problem_responses(401, 403, 404, 422),
    opt={
        "example": '{"position": 17, "event_id": "5b0f8a52-2d7e-5c61-9d0e-3f1a2b4c5d6e", "hash": "ab12..."}\n'
    },
)
def audit_evidence(
    ctx: Ctx,
    no_kk: Annotated[str | None, QueryParameter(max_length=32, required=False)] = None,
    program: Annotated[str | None, QueryParameter(max_length=40, required=False)] = None,
    tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
) -> Stream:
    """A household's (``no_kk``) or a tahap's (``program`` and ``tahap``) events with their chain proof."""
    from salur_cases.projections.audit.evidence import evidence_lines  # noqa: PLC0415

    lines = evidence_lines(
        ctx.runtime, no_kk=parse_no_kk(no_kk) if no_kk is not None else None, program=program, tahap=tahap
    )
    first = list(itertools.islice(lines, 1))  # a failure surfaces before the answer starts
    return Stream(itertools.chain(first, lines), media_type=JSON_LINES)


@get(
    "/feed",
    guards=[AUDITORS],
    sync_to_thread=True,
    operation_id="readFeed",
    summary="Every event in commit order",
    tags=["audit"],
    responses=problem_responses(401, 403, 422),
    opt={
        "example": {
            "items": [
                {
                    "position": 18,
                    "event_id": "5b0f8a52-2d7e-5c61-9d0e-3f1a2b4c5d6e",
                    "type": "household.PaymentRecorded",
                    "recorded_at": "2020-05-02T10:00:00+07:00",
                    "effective_on": None,
                    "actor": "pos",
                    "role": "dinsos",
                    "data": {"program": "WALIKOTA", "tahap": 1},
                }
            ],
            "next_after": 18,
        }
    },
)
def read_feed(
    ctx: Ctx,
    after: Annotated[int, QueryParameter(ge=0, le=2**62, description="the last position already read")] = 0,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> FeedPage:
    """Events after a position, for other systems to follow."""
    from salur_cases.projections.queries import feed  # noqa: PLC0415

    ctx.positions.wait(ctx.runtime, min_position)
    return feed(ctx.runtime, after, limit)


ROUTES = [audit_budget, audit_anomalies, audit_verify, audit_evidence, read_feed]

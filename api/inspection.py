"""Inspectors' reads: the budget, anomalies, the payment ledger, the chain's check, evidence, and the feed."""

from __future__ import annotations

import itertools
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from litestar.response import Stream

from salur_cases.api.auth import allow
from salur_cases.api.common import Caller, Ctx, Cursor, Limit, MinPosition
from salur_cases.api.problems import problem_responses
from salur_cases.domain.parsing import parse_no_kk
from salur_cases.domain.vocabulary import BudgetSource, Role
from salur_cases.fields import EXAMPLE_NO_KK, NO_KK_PATTERN, REQUIRED_TEXT
from salur_cases.identifiers import NoKK
from salur_cases.projections.audit.findings import CODES
from salur_cases.projections.schemas import (
    AnomalyPage,
    BudgetPage,
    ChainHead,
    FeedPage,
    PaymentPage,
    VerifyRead,
)
from salur_cases.store.keys import signing_key

ANOMALY_CODES_PATTERN = "^(?:{0})(?:,(?:{0}))*$".format("|".join(CODES))
"""One anomaly code or several, comma-separated."""
AUDITORS = allow(Role.INSPECTOR, Role.ADMIN)
"""Aggregates and the chain's check: the admin manages programs, so it may read these."""
INSPECTORS = allow(Role.INSPECTOR)
"""Citizens' data (evidence, the feed of every event): the inspector only."""
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
            "as_of": "2020-07-06T12:00:00+07:00",
            "chain_head": {"position": 812345, "hash": "ab12" + "0" * 60},
        }
    },
)
def audit_budget(ctx: Ctx, min_position: MinPosition = None) -> BudgetPage:
    """Seats, payments and money per budget source, program and tahap; the as-of time and chain head."""
    from salur_cases.projections.audit.budget import budget_report  # noqa: PLC0415 - audit loads lazily

    ctx.positions.wait(ctx.runtime, min_position)
    rows, stands_on = budget_report(ctx.runtime)
    return BudgetPage(rows, as_of=stands_on.as_of, chain_head=ChainHead(stands_on.position, stands_on.hash))


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
                    "severity": "HIGH",
                    "no_kk": EXAMPLE_NO_KK,
                    "program": "BST_KEMENSOS",
                    "tahap": 5,
                    "amount_idr": 600000,
                    "evidence": ["5b0f8a52-2d7e-5c61-9d0e-3f1a2b4c5d6e"],
                    "detail": {"outside_authority": False, "authority": "KEMENSOS"},
                }
            ],
            "next_cursor": None,
        }
    },
)
def audit_anomalies(
    ctx: Ctx,
    code: Annotated[
        str | None,
        QueryParameter(
            max_length=400,
            required=False,
            description="anomaly codes, comma-separated",
            schema_extra={"pattern": ANOMALY_CODES_PATTERN},
        ),
    ] = None,
    budget_source: Annotated[
        str | None,
        QueryParameter(
            max_length=20,
            required=False,
            description="APBN, APBD_PROVINSI, APBD_KOTA",
            schema_extra={"enum": list(BudgetSource)},
        ),
    ] = None,
    program: Annotated[str | None, QueryParameter(max_length=40, required=False)] = None,
    tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
    authority: Annotated[
        str | None,
        QueryParameter(
            max_length=200,
            required=False,
            description="whose list: an outside authority (lists its findings one by one), or DINSOS",
            schema_extra={"pattern": REQUIRED_TEXT},
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> AnomalyPage:
    """Anomalies with their severity, Rupiah at stake and evidence; other authorities' lists summarised."""
    from salur_cases.projections.audit.triage import Filters, anomalies  # noqa: PLC0415

    filters = Filters.parse(code, budget_source, program, tahap, authority)
    ctx.positions.wait(ctx.runtime, min_position)
    return anomalies(ctx.runtime, filters, limit, cursor)


@get(
    "/audit/payments",
    guards=[allow(Role.INSPECTOR)],
    sync_to_thread=True,
    operation_id="auditPayments",
    summary="The payment ledger: every payer's report line, to reconcile with the bank or PT Pos",
    tags=["audit"],
    responses=problem_responses(401, 403, 422),
    opt={
        "example": {
            "items": [
                {
                    "reference": "POS-BST_KEMENSOS-5-000017",
                    "paid_on": "2020-05-12",
                    "amount_idr": 600000,
                    "status": "PAID",
                    "program": "BST_KEMENSOS",
                    "tahap": 5,
                    "budget_source": "APBN",
                    "no_kk": EXAMPLE_NO_KK,
                }
            ],
            "next_cursor": "17",
        }
    },
)
def audit_payments(
    ctx: Ctx,
    principal: Caller,
    program: Annotated[str | None, QueryParameter(max_length=40, required=False)] = None,
    tahap: Annotated[int | None, QueryParameter(ge=1, le=1000, required=False)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> PaymentPage:
    """Payment attempts in commit order; PAID and RETURNED sums equal the budget's paid and returned."""
    from salur_cases.projections.audit.ledger import payments  # noqa: PLC0415

    ctx.positions.wait(ctx.runtime, min_position)
    return payments(ctx.runtime, principal.role, program, tahap, limit, cursor)


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
            "signatures": 813,
        }
    },
)
def audit_verify(ctx: Ctx, principal: Caller) -> VerifyRead:
    """Whether every stored event still hashes into the chain and is covered by a signed head; the head
    to remember outside. A break names its household's No. KK in full to inspectors only."""
    from salur_cases.projections.audit.verification import verify  # noqa: PLC0415

    seed = ctx.runtime.settings.signing_key
    result = verify(ctx.runtime, public_key=signing_key(seed).public_key() if seed else None)
    broken = result.first_broken
    if broken is not None and broken.household and principal.role is not Role.INSPECTOR:
        broken.household = NoKK(broken.household).masked()
    return result


@get(
    "/audit/evidence",
    guards=[INSPECTORS],
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
    no_kk: Annotated[
        str | None, QueryParameter(max_length=32, required=False, schema_extra={"pattern": NO_KK_PATTERN})
    ] = None,
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
    guards=[INSPECTORS],
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
    after: Annotated[
        int,
        QueryParameter(
            ge=0,
            le=2**62,
            schema_extra={"minimum": 0, "maximum": 2**62},
            description="the last position already read",
        ),
    ] = 0,
    limit: Limit = 50,
    min_position: MinPosition = None,
) -> FeedPage:
    """Events after a position, for other systems to follow."""
    from salur_cases.projections.queries import feed  # noqa: PLC0415

    ctx.positions.wait(ctx.runtime, min_position)
    return feed(ctx.runtime, after, limit)


ROUTES = [audit_budget, audit_anomalies, audit_payments, audit_verify, audit_evidence, read_feed]

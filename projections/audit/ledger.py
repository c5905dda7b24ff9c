"""The payment ledger (`salur report payments`, `GET /audit/payments`): one row per payer's report line.

To reconcile with the bank or PT Pos: every payment attempt as the payer reported it (`reference`,
`paid_on`, `amount_idr`, `status` PAID, FAILED or RETURNED), with its `program`, `tahap`,
`budget_source` and household (`no_kk`, masked for a role that may not see it), in commit order.
Its PAID and RETURNED sums equal the budget report's `paid_idr` and `returned_idr`, per tahap and in
all: both read the same `payment_ledger` rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from salur_cases import tables as t
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import PaymentStatus, Role
from salur_cases.identifiers import NoKK
from salur_cases.projections.audit.provenance import Provenance, provenance
from salur_cases.projections.schemas import PaymentPage, PaymentRead

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Connection, Select

    from salur_cases.runtime import Runtime

LEDGER_FIELDS = ("reference", "paid_on", "amount_idr", "status", "program", "tahap", "budget_source", "no_kk")
"""A ledger row's fields, in the API's order."""

SEES_NO_KK = frozenset({Role.DINSOS, Role.INSPECTOR})
"""Roles that see a household's No. KK in full; others get it masked (`3271********0001`)."""

MAX_LIMIT = 500
pl = t.payment_ledger


def _selected(conn: Connection, program: str | None, tahap: int | None) -> Select[Any]:
    """The ledger's rows for a program and tahap (both optional), validated against what exists."""
    if (
        program is not None
        and conn.execute(select(t.programs.c.code).where(t.programs.c.code == program)).first() is None
    ):
        raise InvalidCommand("program", "is not a defined program")
    if tahap is not None and tahap < 1:
        raise InvalidCommand("tahap", "must be 1 or more")
    query = select(pl.c.position, *(pl.c[f] for f in LEDGER_FIELDS))
    if program is not None:
        query = query.where(pl.c.program == program)
    if tahap is not None:
        query = query.where(pl.c.tahap == tahap)
    return query.order_by(pl.c.position)


def _items(rows: Sequence[Any], *, reveal: bool) -> list[dict[str, Any]]:
    """Ledger rows (position first) as dicts of LEDGER_FIELDS, the No. KK masked unless `reveal`."""
    items = [dict(zip(LEDGER_FIELDS, row[1:], strict=True)) for row in rows]
    if not reveal:
        for item in items:
            item["no_kk"] = NoKK(item["no_kk"]).masked()
    return items


def ledger_report(
    runtime: Runtime, program: str | None = None, tahap: int | None = None
) -> tuple[list[dict[str, Any]], Provenance]:
    """Every ledger row (No. KK in full, for the command line) and what it stands on."""
    with runtime.engine.connect() as conn:
        rows = conn.execute(_selected(conn, program, tahap)).all()
        stands_on = provenance(runtime, conn)
    return _items(rows, reveal=True), stands_on


def payments(
    runtime: Runtime,
    role: str,
    program: str | None = None,
    tahap: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> PaymentPage:
    """One page of the ledger after `cursor` (the last position of the page before) for `role`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCommand("limit", f"must be 1 to {MAX_LIMIT}")
    if cursor is not None and not cursor.isdigit():
        raise InvalidCommand("cursor", "is not a cursor this ledger gave")
    with runtime.engine.connect() as conn:
        query = _selected(conn, program, tahap)
        if cursor is not None:
            query = query.where(pl.c.position > int(cursor))
        rows = conn.execute(query.limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = str(page[-1].position) if len(rows) > limit else None
    return PaymentPage([PaymentRead(**item) for item in _items(page, reveal=role in SEES_NO_KK)], next_cursor)


def ledger_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Rupiah per status: `paid_idr`, `failed_idr`, `returned_idr`, and `rows`."""
    totals = {f"{status.lower()}_idr": 0 for status in PaymentStatus}
    for row in rows:
        totals[f"{row['status'].lower()}_idr"] += row["amount_idr"]
    return {**totals, "rows": len(rows)}

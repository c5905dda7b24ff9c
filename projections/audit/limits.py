"""OVER_QUOTA and OVER_CEILING: a tahap holding more seats than its quota, or more money than its ceiling.

Evidence is the tahap's opening and the seat commitments from the one that crossed the line on.
`amount_idr` is what lies beyond the line: the seats over the quota times the tahap's amount, or the
commitment (or the net payment, whichever is larger) above the ceiling. `detail.authority` names the
outside authority whose roster committed the seats, when there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import case, func, select

from salur_cases import tables as t
from salur_cases.domain import payloads
from salur_cases.domain.program import Program
from salur_cases.projections.audit.findings import Finding, where
from salur_cases.projections.audit.scope import ProgramScope, outside

if TYPE_CHECKING:
    from sqlalchemy import Connection

Commitment = tuple[str, payloads.SeatsCommitted]
pl, pt, roster, tl = t.payment_ledger, t.program_tahap, t.tahap_roster, t.timeline


def over_limits(conn: Connection, scopes: Mapping[str, ProgramScope]) -> list[Finding]:
    """OVER_QUOTA and OVER_CEILING per tahap."""
    per_tahap = (roster.c.program, roster.c.tahap)
    seats = {
        (p, n): count for p, n, count in conn.execute(select(*per_tahap, func.count()).group_by(*per_tahap))
    }
    signed = case(
        (pl.c.status == "PAID", pl.c.amount_idr), (pl.c.status == "RETURNED", -pl.c.amount_idr), else_=0
    )
    net_paid = {
        (p, n): int(net)
        for p, n, net in conn.execute(
            select(pl.c.program, pl.c.tahap, func.sum(signed)).group_by(pl.c.program, pl.c.tahap)
        )
    }
    findings: list[Finding] = []
    for row in conn.execute(select(pt)).all():
        assigned = max(seats.get((row.program, row.tahap), 0), row.assigned)
        net = net_paid.get((row.program, row.tahap), 0)
        committed, ceiling = int(row.committed_idr), int(row.budget_ceiling_idr)
        if assigned <= row.quota and max(committed, net) <= ceiling:
            continue
        commitments = _commitments(conn, row.program, row.tahap)
        accountable = _accountable(commitments, outside=outside(scopes.get(row.program)))
        if assigned > row.quota:
            crossing = _crossing(commitments, row.quota, lambda c: len(c[1].households))
            findings.append(
                Finding(
                    "OVER_QUOTA",
                    row.program,
                    row.tahap,
                    None,
                    None,
                    [row.opened_event_id, *crossing],
                    {**accountable, "quota": row.quota, "assigned": assigned},
                    (assigned - row.quota) * int(row.amount_idr),
                )
            )
        if max(committed, net) > ceiling:
            crossing = _crossing(commitments, ceiling, lambda c: c[1].amount_idr)
            findings.append(
                Finding(
                    "OVER_CEILING",
                    row.program,
                    row.tahap,
                    None,
                    None,
                    [row.opened_event_id, *crossing],
                    {**accountable, "ceiling_idr": ceiling, "committed_idr": committed, "net_paid_idr": net},
                    max(committed, net) - ceiling,
                )
            )
    return findings


def _commitments(conn: Connection, program: str, tahap: int) -> list[Commitment]:
    """The tahap's SeatsCommitted events in order: (event id, data)."""
    rows = conn.execute(
        select(tl.c.event_id, tl.c.data)
        .where(
            tl.c.aggregate_id == str(Program.create_id(program)),
            tl.c.type == payloads.SeatsCommitted.EVENT_TYPE,
            tl.c.data["tahap"].as_integer() == tahap,
        )
        .order_by(tl.c.position)
    )
    return [(event_id, msgspec.convert(data, payloads.SeatsCommitted)) for event_id, data in rows]


def _crossing(commitments: list[Commitment], limit: int, size: Callable[[Commitment], int]) -> list[str]:
    """The commitments from the one that first went past `limit` on."""
    total, crossing = 0, []
    for commitment in commitments:
        total += size(commitment)
        if total > limit:
            crossing.append(commitment[0])
    return crossing


def _accountable(commitments: list[Commitment], *, outside: bool) -> dict[str, Any]:
    """`outside_authority`, `authority` (the first outside authority that committed seats) and all of them."""
    authorities = sorted({c[1].authority for c in commitments if c[1].authority})
    return {**where(authorities[0] if authorities else None, outside=outside), "authorities": authorities}

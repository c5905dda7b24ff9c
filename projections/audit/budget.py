"""The budget ledger (`salur report budget`, `GET /audit/budget`): per budget source, program and tahap.

Set-based SQL over the read models (`program_tahap`, `tahap_roster`, `payment_ledger`):

- `quota`, `ceiling_idr`, `decree_ref`: the tahap as opened;
- `assigned`: households holding a seat; `committed_idr`: what the program committed for its seats;
- `paid`: households whose PAID stands (their latest PAID or RETURNED report is a PAID), seated or not;
  `failed`: households whose latest report is FAILED;
- `paid_idr`: the sum of every PAID report, `returned_idr` of every RETURNED report (so the money that
  stayed out is `paid_idr - returned_idr`);
- `remainder_idr`: `ceiling_idr - committed_idr` (negative when the tahap is over its ceiling).

`budget_totals` adds a subtotal per budget source and the grand total; every export carries the
as-of time and the chain head (`provenance`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select

from salur_cases import tables as t
from salur_cases.projections.audit.provenance import Provenance, provenance
from salur_cases.projections.schemas import BudgetRow

if TYPE_CHECKING:
    from sqlalchemy import Connection, Subquery

    from salur_cases.runtime import Runtime

BUDGET_FIELDS = (
    "budget_source",
    "program",
    "tahap",
    "quota",
    "assigned",
    "paid",
    "failed",
    "committed_idr",
    "paid_idr",
    "returned_idr",
    "ceiling_idr",
    "remainder_idr",
    "decree_ref",
)
"""The fields of a budget row, in the API's order."""

SUMMED_FIELDS = BUDGET_FIELDS[3:-1]
"""The fields a subtotal adds up (counts and Rupiah)."""


def payment_outcomes() -> Subquery:
    """One row per (household, program, tahap) with payments: standing PAID, latest status, amounts."""
    pl = t.payment_ledger
    per_household = (
        select(
            pl.c.household_id,
            pl.c.program,
            pl.c.tahap,
            func.max(case((pl.c.status == "PAID", pl.c.position))).label("last_paid"),
            func.max(case((pl.c.status == "RETURNED", pl.c.position))).label("last_returned"),
            func.max(pl.c.position).label("last_position"),
            func.sum(case((pl.c.status == "PAID", pl.c.amount_idr), else_=0)).label("paid_idr"),
            func.sum(case((pl.c.status == "RETURNED", pl.c.amount_idr), else_=0)).label("returned_idr"),
        )
        .group_by(pl.c.household_id, pl.c.program, pl.c.tahap)
        .subquery("per_household")
    )
    latest = pl.alias("latest")
    standing = and_(
        per_household.c.last_paid.is_not(None),
        or_(
            per_household.c.last_returned.is_(None), per_household.c.last_paid > per_household.c.last_returned
        ),
    )
    return (
        select(
            per_household.c.household_id,
            per_household.c.program,
            per_household.c.tahap,
            case((standing, 1), else_=0).label("paid"),
            case((latest.c.status == "FAILED", 1), else_=0).label("failed"),
            per_household.c.paid_idr,
            per_household.c.returned_idr,
        )
        .join(latest, latest.c.position == per_household.c.last_position)
        .subquery("outcomes")
    )


def tahap_totals(conn: Connection) -> dict[tuple[str, int], dict[str, int]]:
    """Per (program, tahap): `assigned` seats and the payment figures (each a small aggregate query).

    The aggregates are merged here rather than joined in SQL: joined, a planner that misjudges the
    few tahap rows re-runs a ledger-wide aggregate once per tahap.
    """
    roster = t.tahap_roster
    totals: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_TOTALS, 0))
    seats = select(roster.c.program, roster.c.tahap, func.count()).group_by(roster.c.program, roster.c.tahap)
    for program, tahap, assigned in conn.execute(seats).all():
        totals[program, tahap]["assigned"] = int(assigned)
    outcomes = payment_outcomes()
    payments = select(
        outcomes.c.program,
        outcomes.c.tahap,
        func.sum(outcomes.c.paid),
        func.sum(outcomes.c.failed),
        func.sum(outcomes.c.paid_idr),
        func.sum(outcomes.c.returned_idr),
    ).group_by(outcomes.c.program, outcomes.c.tahap)
    for program, tahap, *figures in conn.execute(payments).all():
        totals[program, tahap].update(zip(_TOTALS[1:], map(int, figures), strict=True))
    return totals


def budget_rows(runtime: Runtime) -> list[BudgetRow]:
    """Every tahap of every program, ordered by budget source, program and tahap (fields: BUDGET_FIELDS)."""
    return budget_report(runtime)[0]


def budget_report(runtime: Runtime) -> tuple[list[BudgetRow], Provenance]:
    """The budget rows and what they stand on (as-of time, chain head), read in one transaction."""
    pt = t.program_tahap
    with runtime.engine.connect() as conn:
        tahap = conn.execute(select(pt).order_by(pt.c.budget_source, pt.c.program, pt.c.tahap)).all()
        totals = tahap_totals(conn)
        stands_on = provenance(runtime, conn)
    rows = []
    for row in tahap:
        figures = totals.get((row.program, row.tahap), dict.fromkeys(_TOTALS, 0))
        rows.append(
            BudgetRow(
                budget_source=row.budget_source,
                program=row.program,
                tahap=row.tahap,
                quota=row.quota,
                assigned=figures["assigned"],
                paid=figures["paid"],
                failed=figures["failed"],
                committed_idr=int(row.committed_idr),
                paid_idr=figures["paid_idr"],
                returned_idr=figures["returned_idr"],
                ceiling_idr=int(row.budget_ceiling_idr),
                remainder_idr=int(row.budget_ceiling_idr - row.committed_idr),
                decree_ref=row.decree_ref,
            )
        )
    return rows, stands_on


def budget_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A subtotal per budget source (in the rows' order) and the grand total, as plain sums."""
    sources = list(dict.fromkeys(r["budget_source"] for r in rows))
    totals = []
    for label, members in [
        *((f"subtotal {s}", [r for r in rows if r["budget_source"] == s]) for s in sources),
        ("total", rows),
    ]:
        line: dict[str, Any] = {"budget_source": label, "program": None, "tahap": None, "decree_ref": None}
        line.update({f: sum(r[f] for r in members) for f in SUMMED_FIELDS})
        totals.append(line)
    return totals


_TOTALS = ("assigned", "paid", "failed", "paid_idr", "returned_idr")

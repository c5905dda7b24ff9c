"""The household as API clients see it (CONTRACT.md's `GET /households/{no_kk}` shape).

One rendering for every path that shows a household (a write's answer, a read, a read as of a past
moment), so the shapes never drift apart.
"""

from __future__ import annotations

from typing import Any

from salur_cases.domain.household import Household


def household_view(household: Household) -> dict[str, Any]:
    """Plain JSON-ready data: no_kk, version, address, members, sources, padan, verval, programs, removals."""
    address = household.address
    return {
        "no_kk": household.no_kk,
        "version": household.version,
        "address": address.to_data() if address else None,
        "members": [m.to_data() for m in household.members],
        "sources": [{"kind": s.kind, "reference": s.reference} for s in household.sources],
        "padan": {"result": str(household.padan), "checked_on": _iso(household.padan_on)}
        if household.padan
        else None,
        "verval": {"decision": str(household.verval), "decided_on": _iso(household.verval_on)}
        if household.verval
        else None,
        "programs": [
            {
                "program": seat.program,
                "tahap": seat.tahap,
                "state": "REMOVED" if household.withdrawal(seat.program, seat.tahap) else seat.state,
                "amount_idr": seat.amount_idr,
                "authority": seat.authority,
            }
            for seat in sorted(household.seats.values(), key=lambda s: (s.starts_on, s.program, s.tahap))
        ],
        "removals": [
            {
                "kind": w.kind,
                "program": w.program,
                "tahap": w.tahap,
                "authority": w.authority,
                "reason": w.reason,
                "decree_ref": w.decree_ref,
                "effective_on": w.effective_on.isoformat(),
                "to_program": w.to_program,
                "reinstated": w.reinstated,
            }
            for w in household.withdrawals
        ],
        "complaints": [
            {"complaint_id": cid, "channel": c.channel, "outcome": c.outcome}
            for cid, c in household.complaints.items()
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None

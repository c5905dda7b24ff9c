"""Aggregates as API clients see them: a household, a program, a tahap.

One rendering for every path that shows a household (a write's answer, a read, a read as of a past
moment), so the shapes never drift apart.
"""

from __future__ import annotations

from salur_cases.domain.household import Household
from salur_cases.domain.program import Program, Tahap
from salur_cases.projections.schemas import (
    AddressRead,
    ComplaintRead,
    HouseholdRead,
    MemberRead,
    PadanRead,
    ProgramRead,
    RemovalRead,
    SeatRead,
    SourceRead,
    TahapRead,
    VervalRead,
)


def household_view(household: Household) -> HouseholdRead:
    """The household: address, members, sources, padan, verval, seats, removals and complaints."""
    address = household.address
    return HouseholdRead(
        no_kk=household.no_kk,
        version=household.version,
        address=AddressRead(address.kecamatan, address.kelurahan, address.rw, address.rt)
        if address
        else None,
        members=[MemberRead(m.nik, m.name, m.relationship, m.birth_date) for m in household.members],
        sources=[SourceRead(s.kind, s.reference) for s in household.sources],
        padan=PadanRead(str(household.padan), household.padan_on) if household.padan else None,
        verval=VervalRead(str(household.verval), household.verval_on) if household.verval else None,
        programs=[
            SeatRead(
                program=seat.program,
                tahap=seat.tahap,
                state="REMOVED" if household.withdrawal(seat.program, seat.tahap) else seat.state,
                amount_idr=seat.amount_idr,
                authority=seat.authority,
            )
            for seat in sorted(household.seats.values(), key=lambda s: (s.starts_on, s.program, s.tahap))
        ],
        removals=[
            RemovalRead(
                kind=w.kind,
                program=w.program,
                tahap=w.tahap,
                authority=w.authority,
                reason=w.reason,
                decree_ref=w.decree_ref,
                effective_on=w.effective_on,
                to_program=w.to_program,
                reinstated=w.reinstated,
            )
            for w in household.withdrawals
        ],
        complaints=[ComplaintRead(cid, c.channel, c.outcome) for cid, c in household.complaints.items()],
    )


def program_view(program: Program) -> ProgramRead:
    """A program and its tahap."""
    return ProgramRead(
        code=program.code,
        name=program.name,
        budget_source=program.budget_source,
        group=program.group,
        tahap=[tahap_view(program.code, t) for _, t in sorted(program.tahap.items())],
    )


def tahap_view(code: str, tahap: Tahap) -> TahapRead:
    """A tahap of the program `code`."""
    return TahapRead(
        program=code,
        number=tahap.number,
        starts_on=tahap.starts_on,
        ends_on=tahap.ends_on,
        quota=tahap.quota,
        amount_idr=tahap.amount_idr,
        budget_ceiling_idr=tahap.budget_ceiling_idr,
        decree_ref=tahap.decree_ref,
        assigned=tahap.assigned,
        certified=tahap.certified,
    )

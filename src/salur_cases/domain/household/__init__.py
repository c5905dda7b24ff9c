"""The Household aggregate: one per Kartu Keluarga (No. KK), the unit of aid.

Everything that happens to a household is an immutable event on it (`events`): proposals by sources,
members and address, padan (population match) results, verval decisions, seats in a program's tahap,
being left out of an allocation, payments, removals and reinstatements, transfers, complaints,
corrections and member moves. Every event records who (actor, role) and when (the event's `timestamp`
is the recorded time; `effective_on` is the legal date where a decision has one).

A command method takes its command (`salur_cases.domain.commands`) whole, checks it against the rules
(`state`) and triggers the events, whose `apply` changes the state (and again on every replay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import today
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.events import PayloadAggregate
from salur_cases.domain.household import events
from salur_cases.domain.household.corrections import apply_correction, current_value, parse_field_path
from salur_cases.domain.household.rules import problem_message, require
from salur_cases.domain.household.state import HouseholdState
from salur_cases.domain.household.values import (
    Address,
    Complaint,
    Member,
    Payment,
    Seat,
    Source,
    Withdrawal,
)
from salur_cases.domain.topics import register_event_topics

if TYPE_CHECKING:
    from datetime import date

    from salur_cases.domain.commands import (
        CorrectHousehold,
        DecideVerval,
        FileComplaint,
        MoveMember,
        ProposeHousehold,
        RecordPayment,
        RecordPopulationMatch,
        ReinstateHousehold,
        RemoveHousehold,
        ResolveComplaint,
        TransferHousehold,
    )
    from salur_cases.domain.program import Tahap


class Household(HouseholdState, PayloadAggregate):
    """A household (Kartu Keluarga) and its whole aid history."""

    Proposed = events.Proposed
    Reproposed = events.Reproposed
    MembersRecorded = events.MembersRecorded
    PopulationMatched = events.PopulationMatched
    VervalDecided = events.VervalDecided
    Assigned = events.Assigned
    LeftOut = events.LeftOut
    PaymentRecorded = events.PaymentRecorded
    Removed = events.Removed
    Reinstated = events.Reinstated
    Transferred = events.Transferred
    ComplaintFiled = events.ComplaintFiled
    ComplaintResolved = events.ComplaintResolved
    Corrected = events.Corrected
    MemberMovedOut = events.MemberMovedOut
    MemberMovedIn = events.MemberMovedIn

    @classmethod
    def propose(cls, household_id: UUID, proposal: ProposeHousehold, actor: Actor) -> Household:
        """A source proposes a household that is not yet on record; its id is a keyed HMAC of the No. KK."""
        return cls._create(
            cls.Proposed,
            id=household_id,
            no_kk=proposal.no_kk,
            source_kind=proposal.source.kind,
            source_ref=proposal.source.reference,
            address=_address_data(proposal),
            members=_members_data(proposal),
            actor=actor.name,
            role=actor.role,
        )

    def repropose(self, proposal: ProposeHousehold, actor: Actor) -> None:
        """Another (or the same) source proposes this household again: a new event, never a new household."""
        source = proposal.source
        self.trigger_event(
            self.Reproposed,
            source_kind=source.kind,
            source_ref=source.reference,
            actor=actor.name,
            role=actor.role,
        )
        members = _members_data(proposal)
        address = _address_data(proposal)
        current = self.address.to_data() if self.address else None
        if members and (members != [m.to_data() for m in self.members] or address not in (None, current)):
            self.trigger_event(
                self.MembersRecorded,
                address=address or current,
                members=members,
                actor=actor.name,
                role=actor.role,
            )

    def record_padan(self, match: RecordPopulationMatch, basis: str, actor: Actor) -> None:
        """Record a padan result (from the loaded extract, or decided elsewhere); checked today by default."""
        self.trigger_event(
            self.PopulationMatched,
            result=str(match.result),
            checked_on=match.checked_on or today(),
            basis=basis,
            actor=actor.name,
            role=actor.role,
        )

    def decide_verval(self, decision: DecideVerval, actor: Actor) -> None:
        """Record a verval decision (effective on the day it was decided unless it says otherwise)."""
        self.trigger_event(
            self.VervalDecided,
            decision=str(decision.decision),
            reason=decision.reason,
            officer=require(decision.officer, "officer"),
            decided_on=decision.decided_on,
            effective_on=decision.effective_on or decision.decided_on,
            actor=actor.name,
            role=actor.role,
        )

    def assign(
        self,
        program: str,
        budget_source: str,
        tahap: Tahap,
        actor: Actor,
        *,
        authority: str | None = None,
        rank: int | None = None,
        effective_on: date | None = None,
    ) -> list[str]:
        """Give the household a seat in a tahap of a program.

        By the city's own rule (`authority` None) a broken rule refuses the assignment. An outside
        authority's roster is a fact: it is recorded anyway, with the broken rules' codes as warnings,
        which are returned, and with the date the roster takes effect (`berlaku`) when it gives one.
        A household already in this tahap is refused either way.
        """
        if (program, tahap.number) in self.seats:
            raise Refusal(
                RefusalCode.ALREADY_RECEIVING, f"already holds a seat in {program} tahap {tahap.number}"
            )
        problem = self.city_rule_problem(program, tahap.number, tahap.starts_on, tahap.ends_on)
        warnings: list[str] = []
        if problem is not None:
            code, other = problem
            if authority is None:
                raise Refusal(code, problem_message(code, other))
            warnings.append(str(code))
        self.trigger_event(
            self.Assigned,
            program=program,
            tahap=tahap.number,
            starts_on=tahap.starts_on,
            ends_on=tahap.ends_on,
            amount_idr=tahap.amount_idr,
            budget_source=budget_source,
            authority=authority,
            rank=rank,
            warnings=warnings,
            decree_ref=tahap.decree_ref,
            actor=actor.name,
            role=actor.role,
            effective_on=effective_on,
        )
        return warnings

    def leave_out(
        self,
        program: str,
        tahap: int,
        code: str,
        actor: Actor,
        *,
        rank: int | None = None,
        cutoff: int | None = None,
        authority: str | None = None,
        other_program: str | None = None,
        effective_on: date | None = None,
    ) -> None:
        """Record that an allocation or a roster left the household out of a tahap, why, and (for a
        roster) from when."""
        self.trigger_event(
            self.LeftOut,
            program=program,
            tahap=tahap,
            code=code,
            rank=rank,
            cutoff=cutoff,
            authority=authority,
            other_program=other_program,
            actor=actor.name,
            role=actor.role,
            effective_on=effective_on,
        )

    def record_payment(
        self, program: str, tahap: Tahap, payment: RecordPayment, actor: Actor, *, as_fact: bool = False
    ) -> list[str]:
        """Record a payment attempt (a parsed `RecordPayment`) in a tahap of a program.

        A payment the city records itself is refused when it breaks a rule. A payer's report
        (`as_fact`) is recorded anyway with the broken rules as warnings (a seat-less payment too,
        so the anomaly report can find it).
        """
        problems = self.payment_problems(
            program, tahap.number, payment.amount_idr, payment.status, tahap.amount_idr
        )
        if problems and not as_fact:
            raise Refusal(problems[0], problem_message(problems[0], program, tahap.number))
        warnings = [str(p) for p in problems]
        self.trigger_event(
            self.PaymentRecorded,
            program=program,
            tahap=tahap.number,
            amount_idr=payment.amount_idr,
            paid_at=payment.paid_time,
            status=str(payment.status),
            reference=payment.reference,
            roster_hash=tahap.roster_hash,
            warnings=warnings,
            actor=actor.name,
            role=actor.role,
        )
        return warnings

    def remove(self, removal: RemoveHousehold, actor: Actor) -> None:
        """Remove the household from a program from a tahap on; it names an authority and a reason."""
        authority, reason = require(removal.authority, "authority"), require(removal.reason, "reason")
        if self.withdrawal(removal.program, removal.tahap) is not None:
            msg = f"already removed from {removal.program} as of tahap {removal.tahap}"
            raise Refusal(RefusalCode.REMOVED, msg)
        self.trigger_event(
            self.Removed,
            program=removal.program,
            tahap=removal.tahap,
            authority=authority,
            reason=reason,
            decree_ref=removal.decree_ref,
            effective_on=removal.effective_on or today(),
            actor=actor.name,
            role=actor.role,
        )

    def reinstate(self, reinstatement: ReinstateHousehold, actor: Actor) -> None:
        """Undo the standing removal or transfer from a program as of a tahap."""
        program, tahap = reinstatement.program, reinstatement.tahap
        authority = require(reinstatement.authority, "authority")
        reason = require(reinstatement.reason, "reason")
        if self.withdrawal(program, tahap) is None:
            raise Refusal(RefusalCode.NOT_REMOVED, f"not removed from {program} as of tahap {tahap}")
        for seat in self.revived_seats(program, tahap):
            other = self.overlapping_seat(program, seat.starts_on, seat.ends_on)
            if other is not None:
                code = RefusalCode.ALREADY_RECEIVING
                raise Refusal(code, problem_message(code, other.program))
        self.trigger_event(
            self.Reinstated,
            program=program,
            tahap=tahap,
            authority=authority,
            reason=reason,
            effective_on=reinstatement.effective_on or today(),
            actor=actor.name,
            role=actor.role,
        )

    def transfer(self, transfer: TransferHousehold, actor: Actor) -> None:
        """Take the household out of a program from a tahap on, naming the program it goes to."""
        authority, reason = require(transfer.authority, "authority"), require(transfer.reason, "reason")
        if self.withdrawal(transfer.from_program, transfer.from_tahap) is not None:
            msg = f"already out of {transfer.from_program} as of tahap {transfer.from_tahap}"
            raise Refusal(RefusalCode.REMOVED, msg)
        self.trigger_event(
            self.Transferred,
            from_program=transfer.from_program,
            from_tahap=transfer.from_tahap,
            to_program=transfer.to_program,
            authority=authority,
            reason=reason,
            effective_on=transfer.effective_on or today(),
            actor=actor.name,
            role=actor.role,
        )

    def file_complaint(self, complaint_id: str, complaint: FileComplaint, actor: Actor) -> None:
        """Record an aduan under its id."""
        self.trigger_event(
            self.ComplaintFiled,
            complaint_id=complaint_id,
            channel=require(complaint.channel, "channel"),
            text=require(complaint.text, "text"),
            actor=actor.name,
            role=actor.role,
        )

    def resolve_complaint(self, complaint_id: str, resolution: ResolveComplaint, actor: Actor) -> None:
        """Answer an aduan."""
        if complaint_id not in self.complaints:
            raise Refusal(RefusalCode.UNKNOWN_COMPLAINT, "no such complaint on this household")
        self.trigger_event(
            self.ComplaintResolved,
            complaint_id=complaint_id,
            outcome=require(resolution.outcome, "outcome"),
            note=resolution.note,
            actor=actor.name,
            role=actor.role,
        )

    def correct(self, correction: CorrectHousehold, old_value: str | None, actor: Actor) -> None:
        """Record a data correction; the write side has validated the path and the new value."""
        self.trigger_event(
            self.Corrected,
            field=correction.field,
            old_value=old_value,
            new_value=correction.new_value,
            evidence=require(correction.evidence, "evidence"),
            actor=actor.name,
            role=actor.role,
        )

    def move_out(self, move: MoveMember, actor: Actor) -> Member:
        """A member leaves for another household; returns the member."""
        member = self.member(move.nik)
        self.trigger_event(
            self.MemberMovedOut,
            nik=move.nik,
            to_no_kk=move.to_no_kk,
            reason=require(move.reason, "reason"),
            evidence=move.evidence,
            actor=actor.name,
            role=actor.role,
        )
        return member

    def move_in(self, member: Member, from_no_kk: str, move: MoveMember, actor: Actor) -> None:
        """A member arrives from another household."""
        self.trigger_event(
            self.MemberMovedIn,
            member=member.to_data(),
            from_no_kk=from_no_kk,
            reason=move.reason,
            evidence=move.evidence,
            actor=actor.name,
            role=actor.role,
        )


def _address_data(proposal: ProposeHousehold) -> dict[str, str] | None:
    """A (parsed) proposal's address as an event stores it."""
    a = proposal.address
    return None if a is None else {"kecamatan": a.kecamatan, "kelurahan": a.kelurahan, "rw": a.rw, "rt": a.rt}


def _members_data(proposal: ProposeHousehold) -> list[dict[str, str | None]]:
    """A (parsed) proposal's members as an event stores them (`birth_date` as ISO text)."""
    return [
        {
            "nik": m.nik,
            "name": m.name,
            "relationship": m.relationship,
            "birth_date": m.birth_date.isoformat() if m.birth_date else None,
        }
        for m in proposal.members
    ]


register_event_topics(Household)


__all__ = [
    "Address",
    "Complaint",
    "Household",
    "Member",
    "Payment",
    "Seat",
    "Source",
    "Withdrawal",
    "apply_correction",
    "current_value",
    "parse_field_path",
]

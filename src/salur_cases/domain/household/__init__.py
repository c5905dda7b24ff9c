"""The Household aggregate: one per Kartu Keluarga (No. KK), the unit of aid.

Everything that happens to a household is an immutable event on it: proposals by sources, members
and address, padan (population match) results, verval decisions, seats in a program's tahap, being
left out of an allocation, payments, removals and reinstatements, transfers, complaints, corrections
and member moves. Every event records who (actor, role) and when (the event's `timestamp` is the
recorded time; `effective_on` is the legal date where a decision has one).

Command methods validate and then call the decorated `_event` methods, whose bodies run again on
replay and so only change state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import Clocked, today
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.household.corrections import apply_correction, current_value, parse_field_path
from salur_cases.domain.household.rules import problem_message, require
from salur_cases.domain.household.standing import Standing
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
from salur_cases.domain.vocabulary import (
    KEPALA_KELUARGA,
    PadanResult,
    PaymentStatus,
    VervalDecision,
)


class Household(Aggregate, Standing):
    """A household (Kartu Keluarga) and its whole aid history."""

    # --- events ---------------------------------------------------------------------------------

    class Proposed(Clocked, Aggregate.Created):
        """First proposal of the household by a source; creates it."""

        TOPIC = payloads.Proposed.TOPIC
        no_kk: str
        source_kind: str
        source_ref: str
        address: dict[str, str] | None
        members: list[dict[str, Any]]
        actor: str
        role: str

    class Reproposed(Clocked, Aggregate.Event):
        """Another source proposed the same household again."""

        TOPIC = payloads.Reproposed.TOPIC
        source_kind: str
        source_ref: str
        actor: str
        role: str

    class MembersRecorded(Clocked, Aggregate.Event):
        """A source submitted a different member list or address."""

        TOPIC = payloads.MembersRecorded.TOPIC
        address: dict[str, str] | None
        members: list[dict[str, Any]]
        actor: str
        role: str

    class PopulationMatched(Clocked, Aggregate.Event):
        """A padan result: MATCHED, or the first failing detail."""

        TOPIC = payloads.PopulationMatched.TOPIC
        result: str
        checked_on: date
        basis: str
        actor: str
        role: str

    class VervalDecided(Clocked, Aggregate.Event):
        """A verval decision: ELIGIBLE or INELIGIBLE."""

        TOPIC = payloads.VervalDecided.TOPIC
        decision: str
        reason: str
        officer: str
        decided_on: date
        effective_on: date
        actor: str
        role: str

    class Assigned(Clocked, Aggregate.Event):
        """A seat in a program's tahap, by the city's rule (authority None) or an outside roster."""

        TOPIC = payloads.Assigned.TOPIC
        program: str
        tahap: int
        starts_on: date
        ends_on: date
        amount_idr: int
        budget_source: str
        authority: str | None
        rank: int | None
        warnings: list[str]
        decree_ref: str
        actor: str
        role: str
        effective_on: date | None = None

    class LeftOut(Clocked, Aggregate.Event):
        """Considered for a tahap and not assigned: why (a rule's code or QUOTA_EXHAUSTED)."""

        TOPIC = payloads.LeftOut.TOPIC
        program: str
        tahap: int
        code: str
        rank: int | None
        cutoff: int | None
        authority: str | None
        other_program: str | None
        actor: str
        role: str
        effective_on: date | None = None

    class PaymentRecorded(Clocked, Aggregate.Event):
        """A payer's report of one payment attempt (PAID, FAILED or RETURNED)."""

        TOPIC = payloads.PaymentRecorded.TOPIC
        program: str
        tahap: int
        amount_idr: int
        paid_at: datetime
        status: str
        reference: str
        roster_hash: str | None
        warnings: list[str]
        actor: str
        role: str

    class Removed(Clocked, Aggregate.Event):
        """Removal from a program from a tahap on, by an authority, for a reason, under a decree."""

        TOPIC = payloads.Removed.TOPIC
        program: str
        tahap: int
        authority: str
        reason: str
        decree_ref: str
        effective_on: date
        actor: str
        role: str

    class Reinstated(Clocked, Aggregate.Event):
        """A removal (or transfer) undone from a tahap on."""

        TOPIC = payloads.Reinstated.TOPIC
        program: str
        tahap: int
        authority: str
        reason: str
        effective_on: date
        actor: str
        role: str

    class Transferred(Clocked, Aggregate.Event):
        """Taken out of one program from a tahap on, naming the program it goes to."""

        TOPIC = payloads.Transferred.TOPIC
        from_program: str
        from_tahap: int
        to_program: str
        authority: str
        reason: str
        effective_on: date
        actor: str
        role: str

    class ComplaintFiled(Clocked, Aggregate.Event):
        """An aduan about the household."""

        TOPIC = payloads.ComplaintFiled.TOPIC
        complaint_id: str
        channel: str
        text: str
        actor: str
        role: str

    class ComplaintResolved(Clocked, Aggregate.Event):
        """An aduan answered."""

        TOPIC = payloads.ComplaintResolved.TOPIC
        complaint_id: str
        outcome: str
        note: str
        actor: str
        role: str

    class Corrected(Clocked, Aggregate.Event):
        """A data correction: field, old value, new value and evidence."""

        TOPIC = payloads.Corrected.TOPIC
        field: str
        old_value: str | None
        new_value: str
        evidence: str
        actor: str
        role: str

    class MemberMovedOut(Clocked, Aggregate.Event):
        """A member left for another household (an explicit member move)."""

        TOPIC = payloads.MemberMovedOut.TOPIC
        nik: str
        to_no_kk: str
        reason: str
        evidence: str
        actor: str
        role: str

    class MemberMovedIn(Clocked, Aggregate.Event):
        """A member arrived from another household."""

        TOPIC = payloads.MemberMovedIn.TOPIC
        member: dict[str, Any]
        from_no_kk: str
        reason: str
        evidence: str
        actor: str
        role: str

    # --- creation -------------------------------------------------------------------------------

    @event(Proposed)
    def __init__(
        self,
        no_kk: str,
        source_kind: str,
        source_ref: str,
        address: dict[str, str] | None,
        members: list[dict[str, Any]],
        actor: str,
        role: str,
    ) -> None:
        self.no_kk = no_kk
        self.address = Address(**address) if address else None
        self.members = [Member.from_data(m) for m in members]
        self.sources = [Source(source_kind, source_ref)]
        self.registered_at: datetime = self.created_on
        self.padan: PadanResult | None = None
        self.padan_on: date | None = None
        self.verval: VervalDecision | None = None
        self.verval_on: date | None = None
        self.seats: dict[tuple[str, int], Seat] = {}
        self.withdrawals: list[Withdrawal] = []
        self.left_out: dict[tuple[str, int], str] = {}
        self.complaints: dict[str, Complaint] = {}

    @classmethod
    def propose(
        cls,
        household_id: UUID,
        no_kk: str,
        source: Source,
        address: Address | None,
        members: list[Member],
        actor: Actor,
    ) -> Household:
        """A source proposes a household that is not yet on record; its id is a keyed HMAC of the No. KK."""
        return cls._create(
            cls.Proposed,
            id=household_id,
            no_kk=no_kk,
            source_kind=source.kind,
            source_ref=source.reference,
            address=address.to_data() if address else None,
            members=[m.to_data() for m in members],
            actor=actor.name,
            role=actor.role,
        )

    # --- queries --------------------------------------------------------------------------------

    @property
    def niks(self) -> set[str]:
        """NIKs of the current members."""
        return {m.nik for m in self.members}

    @property
    def head(self) -> Member | None:
        """The KEPALA KELUARGA, if the member list names one."""
        return next((m for m in self.members if m.relationship == KEPALA_KELUARGA), None)

    def _revived_seats(self, program: str, tahap: int) -> list[Seat]:
        """The seats a reinstatement in this tahap would make stand again."""
        lifted = [w for w in self.withdrawals if w.covers(program, tahap)]
        kept = [w for w in self.withdrawals if not w.covers(program, tahap)]
        return [
            s
            for s in self.seats.values()
            if s.program == program
            and any(w.covers(program, s.tahap) for w in lifted)
            and not any(w.covers(program, s.tahap) for w in kept)
        ]

    # --- commands -------------------------------------------------------------------------------

    def repropose(self, source: Source, address: Address | None, members: list[Member], actor: Actor) -> None:
        """Another (or the same) source proposes this household again: a new event, never a new household."""
        self._reproposed(
            source_kind=source.kind, source_ref=source.reference, actor=actor.name, role=actor.role
        )
        if members and (members != self.members or (address is not None and address != self.address)):
            kept = address or self.address
            self._members_recorded(
                address=kept.to_data() if kept else None,
                members=[m.to_data() for m in members],
                actor=actor.name,
                role=actor.role,
            )

    def record_padan(self, result: PadanResult, checked_on: date, basis: str, actor: Actor) -> None:
        """Record a padan result (from the loaded extract, or decided elsewhere)."""
        self._population_matched(
            result=str(result), checked_on=checked_on, basis=basis, actor=actor.name, role=actor.role
        )

    def decide_verval(
        self,
        decision: VervalDecision,
        reason: str,
        officer: str,
        decided_on: date,
        effective_on: date | None,
        actor: Actor,
    ) -> None:
        """Record a verval decision."""
        self._verval_decided(
            decision=str(decision),
            reason=reason,
            officer=require(officer, "officer"),
            decided_on=decided_on,
            effective_on=effective_on or decided_on,
            actor=actor.name,
            role=actor.role,
        )

    def assign(
        self,
        program: str,
        tahap: int,
        starts_on: date,
        ends_on: date,
        amount_idr: int,
        budget_source: str,
        decree_ref: str,
        actor: Actor,
        *,
        authority: str | None = None,
        rank: int | None = None,
        effective_on: date | None = None,
    ) -> list[str]:
        """Give the household a seat in a tahap.

        By the city's own rule (`authority` None) a broken rule refuses the assignment. An outside
        authority's roster is a fact: it is recorded anyway, with the broken rules' codes as warnings,
        which are returned, and with the date the roster takes effect (`berlaku`) when it gives one.
        A household already in this tahap is refused either way.
        """
        if (program, tahap) in self.seats:
            raise Refusal(RefusalCode.ALREADY_RECEIVING, f"already holds a seat in {program} tahap {tahap}")
        problem = self.city_rule_problem(program, tahap, starts_on, ends_on)
        warnings: list[str] = []
        if problem is not None:
            code, other = problem
            if authority is None:
                raise Refusal(code, problem_message(code, other))
            warnings.append(str(code))
        self._assigned(
            program=program,
            tahap=tahap,
            starts_on=starts_on,
            ends_on=ends_on,
            amount_idr=amount_idr,
            budget_source=budget_source,
            authority=authority,
            rank=rank,
            warnings=warnings,
            decree_ref=decree_ref,
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
        self._left_out(
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

    def payment_problems(
        self, program: str, tahap: int, amount_idr: int, status: PaymentStatus, tahap_amount: int
    ) -> list[RefusalCode]:
        """The payment rules a reported payment breaks (empty when it is in order)."""
        seat = self.seats.get((program, tahap))
        if seat is None:
            return [RefusalCode.NOT_ASSIGNED]
        problems: list[RefusalCode] = []
        if self.withdrawal(program, tahap) is not None and status is PaymentStatus.PAID:
            problems.append(RefusalCode.REMOVED)
        if amount_idr > tahap_amount:
            problems.append(RefusalCode.AMOUNT_ABOVE_TAHAP)
        if status is PaymentStatus.PAID and seat.paid:
            problems.append(RefusalCode.ALREADY_PAID)
        if status is PaymentStatus.RETURNED and not seat.paid:
            problems.append(RefusalCode.NOT_PAID)
        return problems

    def record_payment(
        self,
        program: str,
        tahap: int,
        amount_idr: int,
        paid_at: datetime,
        status: PaymentStatus,
        reference: str,
        tahap_amount: int,
        actor: Actor,
        *,
        as_fact: bool = False,
        roster_hash: str | None = None,
    ) -> list[str]:
        """Record a payment attempt.

        A payment the city records itself is refused when it breaks a rule. A payer's report
        (`as_fact`) is recorded anyway with the broken rules as warnings (a seat-less payment too,
        so the anomaly report can find it).
        """
        problems = self.payment_problems(program, tahap, amount_idr, status, tahap_amount)
        if problems and not as_fact:
            raise Refusal(problems[0], problem_message(problems[0], program, tahap))
        warnings = [str(p) for p in problems]
        self._payment_recorded(
            program=program,
            tahap=tahap,
            amount_idr=amount_idr,
            paid_at=paid_at,
            status=str(status),
            reference=reference,
            roster_hash=roster_hash,
            warnings=warnings,
            actor=actor.name,
            role=actor.role,
        )
        return warnings

    def remove(
        self,
        program: str,
        tahap: int,
        authority: str,
        reason: str,
        decree_ref: str,
        effective_on: date | None,
        actor: Actor,
    ) -> None:
        """Remove the household from a program from `tahap` on; it names an authority and a reason."""
        authority = require(authority, "authority")
        reason = require(reason, "reason")
        if self.withdrawal(program, tahap) is not None:
            raise Refusal(RefusalCode.REMOVED, f"already removed from {program} as of tahap {tahap}")
        self._removed(
            program=program,
            tahap=tahap,
            authority=authority,
            reason=reason,
            decree_ref=decree_ref,
            effective_on=effective_on or today(),
            actor=actor.name,
            role=actor.role,
        )

    def reinstate(
        self,
        program: str,
        tahap: int,
        authority: str,
        reason: str,
        effective_on: date | None,
        actor: Actor,
    ) -> None:
        """Undo the standing removal or transfer from a program as of `tahap`."""
        authority = require(authority, "authority")
        reason = require(reason, "reason")
        if self.withdrawal(program, tahap) is None:
            raise Refusal(RefusalCode.NOT_REMOVED, f"not removed from {program} as of tahap {tahap}")
        for seat in self._revived_seats(program, tahap):
            other = self.overlapping_seat(program, seat.starts_on, seat.ends_on)
            if other is not None:
                code = RefusalCode.ALREADY_RECEIVING
                raise Refusal(code, problem_message(code, other.program))
        self._reinstated(
            program=program,
            tahap=tahap,
            authority=authority,
            reason=reason,
            effective_on=effective_on or today(),
            actor=actor.name,
            role=actor.role,
        )

    def transfer(
        self,
        from_program: str,
        from_tahap: int,
        to_program: str,
        authority: str,
        reason: str,
        effective_on: date | None,
        actor: Actor,
    ) -> None:
        """Take the household out of `from_program` from `from_tahap` on, naming `to_program`."""
        authority = require(authority, "authority")
        reason = require(reason, "reason")
        if self.withdrawal(from_program, from_tahap) is not None:
            raise Refusal(RefusalCode.REMOVED, f"already out of {from_program} as of tahap {from_tahap}")
        self._transferred(
            from_program=from_program,
            from_tahap=from_tahap,
            to_program=to_program,
            authority=authority,
            reason=reason,
            effective_on=effective_on or today(),
            actor=actor.name,
            role=actor.role,
        )

    def file_complaint(self, complaint_id: str, channel: str, text: str, actor: Actor) -> None:
        """Record an aduan."""
        self._complaint_filed(
            complaint_id=complaint_id,
            channel=require(channel, "channel"),
            text=require(text, "text"),
            actor=actor.name,
            role=actor.role,
        )

    def resolve_complaint(self, complaint_id: str, outcome: str, note: str, actor: Actor) -> None:
        """Answer an aduan."""
        if complaint_id not in self.complaints:
            raise Refusal(RefusalCode.UNKNOWN_COMPLAINT, "no such complaint on this household")
        self._complaint_resolved(
            complaint_id=complaint_id,
            outcome=require(outcome, "outcome"),
            note=note,
            actor=actor.name,
            role=actor.role,
        )

    def correct(
        self, field_path: str, old_value: str | None, new_value: str, evidence: str, actor: Actor
    ) -> None:
        """Record a data correction; the application has validated the path and the new value."""
        self._corrected(
            field=field_path,
            old_value=old_value,
            new_value=new_value,
            evidence=require(evidence, "evidence"),
            actor=actor.name,
            role=actor.role,
        )

    def member(self, nik: str) -> Member:
        """The member with this NIK, or a refusal."""
        for m in self.members:
            if m.nik == nik:
                return m
        raise Refusal(RefusalCode.UNKNOWN_MEMBER, "no member with this NIK in the household")

    def move_out(self, nik: str, to_no_kk: str, reason: str, evidence: str, actor: Actor) -> Member:
        """A member leaves for another household; returns the member."""
        member = self.member(nik)
        self._moved_out(
            nik=nik,
            to_no_kk=to_no_kk,
            reason=require(reason, "reason"),
            evidence=evidence,
            actor=actor.name,
            role=actor.role,
        )
        return member

    def move_in(self, member: Member, from_no_kk: str, reason: str, evidence: str, actor: Actor) -> None:
        """A member arrives from another household."""
        self._moved_in(
            member=member.to_data(),
            from_no_kk=from_no_kk,
            reason=reason,
            evidence=evidence,
            actor=actor.name,
            role=actor.role,
        )

    # --- event application ----------------------------------------------------------------------

    @event(Reproposed)
    def _reproposed(self, source_kind: str, source_ref: str, actor: str, role: str) -> None:
        self.sources.append(Source(source_kind, source_ref))

    @event(MembersRecorded)
    def _members_recorded(
        self, address: dict[str, str] | None, members: list[dict[str, Any]], actor: str, role: str
    ) -> None:
        self.address = Address(**address) if address else None
        self.members = [Member.from_data(m) for m in members]

    @event(PopulationMatched)
    def _population_matched(self, result: str, checked_on: date, basis: str, actor: str, role: str) -> None:
        self.padan = PadanResult(result)
        self.padan_on = checked_on

    @event(VervalDecided)
    def _verval_decided(
        self,
        decision: str,
        reason: str,
        officer: str,
        decided_on: date,
        effective_on: date,
        actor: str,
        role: str,
    ) -> None:
        self.verval = VervalDecision(decision)
        self.verval_on = decided_on

    @event(Assigned)
    def _assigned(
        self,
        program: str,
        tahap: int,
        starts_on: date,
        ends_on: date,
        amount_idr: int,
        budget_source: str,
        authority: str | None,
        rank: int | None,
        warnings: list[str],
        decree_ref: str,
        actor: str,
        role: str,
        effective_on: date | None = None,
    ) -> None:
        self.seats[program, tahap] = Seat(
            program, tahap, starts_on, ends_on, amount_idr, budget_source, authority
        )
        self.left_out.pop((program, tahap), None)

    @event(LeftOut)
    def _left_out(
        self,
        program: str,
        tahap: int,
        code: str,
        rank: int | None,
        cutoff: int | None,
        authority: str | None,
        other_program: str | None,
        actor: str,
        role: str,
        effective_on: date | None = None,
    ) -> None:
        self.left_out[program, tahap] = code

    @event(PaymentRecorded)
    def _payment_recorded(
        self,
        program: str,
        tahap: int,
        amount_idr: int,
        paid_at: datetime,
        status: str,
        reference: str,
        roster_hash: str | None,
        warnings: list[str],
        actor: str,
        role: str,
    ) -> None:
        seat = self.seats.get((program, tahap))
        if seat is not None:
            seat.payments.append(Payment(amount_idr, paid_at, PaymentStatus(status), reference, warnings))

    @event(Removed)
    def _removed(
        self,
        program: str,
        tahap: int,
        authority: str,
        reason: str,
        decree_ref: str,
        effective_on: date,
        actor: str,
        role: str,
    ) -> None:
        self.withdrawals.append(
            Withdrawal("REMOVED", program, tahap, authority, reason, decree_ref, effective_on)
        )

    @event(Reinstated)
    def _reinstated(
        self,
        program: str,
        tahap: int,
        authority: str,
        reason: str,
        effective_on: date,
        actor: str,
        role: str,
    ) -> None:
        for withdrawal in self.withdrawals:
            if withdrawal.covers(program, tahap):
                withdrawal.reinstated = True

    @event(Transferred)
    def _transferred(
        self,
        from_program: str,
        from_tahap: int,
        to_program: str,
        authority: str,
        reason: str,
        effective_on: date,
        actor: str,
        role: str,
    ) -> None:
        self.withdrawals.append(
            Withdrawal(
                "TRANSFERRED",
                from_program,
                from_tahap,
                authority,
                reason,
                "",
                effective_on,
                to_program=to_program,
            )
        )

    @event(ComplaintFiled)
    def _complaint_filed(self, complaint_id: str, channel: str, text: str, actor: str, role: str) -> None:
        self.complaints[complaint_id] = Complaint(channel, text)

    @event(ComplaintResolved)
    def _complaint_resolved(self, complaint_id: str, outcome: str, note: str, actor: str, role: str) -> None:
        self.complaints[complaint_id].outcome = outcome
        self.complaints[complaint_id].note = note

    @event(Corrected)
    def _corrected(
        self, field: str, old_value: str | None, new_value: str, evidence: str, actor: str, role: str
    ) -> None:
        apply_correction(self, field, new_value)

    @event(MemberMovedOut)
    def _moved_out(self, nik: str, to_no_kk: str, reason: str, evidence: str, actor: str, role: str) -> None:
        self.members = [m for m in self.members if m.nik != nik]

    @event(MemberMovedIn)
    def _moved_in(
        self, member: dict[str, Any], from_no_kk: str, reason: str, evidence: str, actor: str, role: str
    ) -> None:
        self.members = [*self.members, Member.from_data(member)]


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

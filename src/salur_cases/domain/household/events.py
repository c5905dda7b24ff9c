"""The Household's events: each declared by its payload (`salur_cases.domain.payloads`), and how it
changes the household (`apply`, which runs again on every replay and so only changes state)."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from salur_cases.domain import payloads
from salur_cases.domain.events import PayloadEvent
from salur_cases.domain.household.corrections import apply_correction
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
from salur_cases.domain.vocabulary import PadanResult, PaymentStatus, VervalDecision


class Proposed(PayloadEvent, Aggregate.Created):
    """First proposal of the household by a source; creates it."""

    PAYLOAD = payloads.Proposed

    def apply(self, household: HouseholdState) -> None:
        household.no_kk = self.no_kk
        household.address = Address(**self.address) if self.address else None
        household.members = [Member.from_data(m) for m in self.members]
        household.sources = [Source(self.source_kind, self.source_ref)]
        household.registered_at = self.timestamp
        household.padan = None
        household.padan_on = None
        household.verval = None
        household.verval_on = None
        household.seats = {}
        household.withdrawals = []
        household.left_out = {}
        household.complaints = {}


class Reproposed(PayloadEvent, Aggregate.Event):
    """Another source proposed the same household again."""

    PAYLOAD = payloads.Reproposed

    def apply(self, household: HouseholdState) -> None:
        household.sources.append(Source(self.source_kind, self.source_ref))


class MembersRecorded(PayloadEvent, Aggregate.Event):
    """A source submitted a different member list or address."""

    PAYLOAD = payloads.MembersRecorded

    def apply(self, household: HouseholdState) -> None:
        household.address = Address(**self.address) if self.address else None
        household.members = [Member.from_data(m) for m in self.members]


class PopulationMatched(PayloadEvent, Aggregate.Event):
    """A padan result: MATCHED, or the first failing detail."""

    PAYLOAD = payloads.PopulationMatched

    def apply(self, household: HouseholdState) -> None:
        household.padan = PadanResult(self.result)
        household.padan_on = self.checked_on


class VervalDecided(PayloadEvent, Aggregate.Event):
    """A verval decision: ELIGIBLE or INELIGIBLE."""

    PAYLOAD = payloads.VervalDecided

    def apply(self, household: HouseholdState) -> None:
        household.verval = VervalDecision(self.decision)
        household.verval_on = self.decided_on


class Assigned(PayloadEvent, Aggregate.Event):
    """A seat in a program's tahap, by the city's rule (authority None) or an outside roster."""

    PAYLOAD = payloads.Assigned

    def apply(self, household: HouseholdState) -> None:
        household.seats[self.program, self.tahap] = Seat(
            self.program,
            self.tahap,
            self.starts_on,
            self.ends_on,
            self.amount_idr,
            self.budget_source,
            self.authority,
        )
        household.left_out.pop((self.program, self.tahap), None)


class LeftOut(PayloadEvent, Aggregate.Event):
    """Considered for a tahap and not assigned: why (a rule's code or QUOTA_EXHAUSTED)."""

    PAYLOAD = payloads.LeftOut

    def apply(self, household: HouseholdState) -> None:
        household.left_out[self.program, self.tahap] = self.code


class PaymentRecorded(PayloadEvent, Aggregate.Event):
    """A payer's report of one payment attempt (PAID, FAILED or RETURNED)."""

    PAYLOAD = payloads.PaymentRecorded

    def apply(self, household: HouseholdState) -> None:
        seat = household.seats.get((self.program, self.tahap))
        if seat is not None:
            status = PaymentStatus(self.status)
            seat.payments.append(
                Payment(self.amount_idr, self.paid_at, status, self.reference, self.warnings)
            )


class Removed(PayloadEvent, Aggregate.Event):
    """Removal from a program from a tahap on, by an authority, for a reason, under a decree."""

    PAYLOAD = payloads.Removed

    def apply(self, household: HouseholdState) -> None:
        household.withdrawals.append(
            Withdrawal(
                "REMOVED",
                self.program,
                self.tahap,
                self.authority,
                self.reason,
                self.decree_ref,
                self.effective_on,
            )
        )


class Reinstated(PayloadEvent, Aggregate.Event):
    """A removal (or transfer) undone from a tahap on."""

    PAYLOAD = payloads.Reinstated

    def apply(self, household: HouseholdState) -> None:
        for withdrawal in household.withdrawals:
            if withdrawal.covers(self.program, self.tahap):
                withdrawal.reinstated = True


class Transferred(PayloadEvent, Aggregate.Event):
    """Taken out of one program from a tahap on, naming the program it goes to."""

    PAYLOAD = payloads.Transferred

    def apply(self, household: HouseholdState) -> None:
        household.withdrawals.append(
            Withdrawal(
                "TRANSFERRED",
                self.from_program,
                self.from_tahap,
                self.authority,
                self.reason,
                "",
                self.effective_on,
                to_program=self.to_program,
            )
        )


class ComplaintFiled(PayloadEvent, Aggregate.Event):
    """An aduan about the household."""

    PAYLOAD = payloads.ComplaintFiled

    def apply(self, household: HouseholdState) -> None:
        household.complaints[self.complaint_id] = Complaint(self.channel, self.text)


class ComplaintResolved(PayloadEvent, Aggregate.Event):
    """An aduan answered."""

    PAYLOAD = payloads.ComplaintResolved

    def apply(self, household: HouseholdState) -> None:
        complaint = household.complaints[self.complaint_id]
        complaint.outcome = self.outcome
        complaint.note = self.note


class Corrected(PayloadEvent, Aggregate.Event):
    """A data correction: field, old value, new value and evidence."""

    PAYLOAD = payloads.Corrected

    def apply(self, household: HouseholdState) -> None:
        apply_correction(household, self.field, self.new_value)


class MemberMovedOut(PayloadEvent, Aggregate.Event):
    """A member left for another household (an explicit member move)."""

    PAYLOAD = payloads.MemberMovedOut

    def apply(self, household: HouseholdState) -> None:
        household.members = [m for m in household.members if m.nik != self.nik]


class MemberMovedIn(PayloadEvent, Aggregate.Event):
    """A member arrived from another household."""

    PAYLOAD = payloads.MemberMovedIn

    def apply(self, household: HouseholdState) -> None:
        household.members = [*household.members, Member.from_data(self.member)]

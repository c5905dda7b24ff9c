"""What a Household knows, as its events fold it, and the questions its rules ask of it: the city's
allocation rule (`Standing`), the payment rules, and which seats a reinstatement would revive."""

from __future__ import annotations

from datetime import date, datetime

from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.household.standing import Standing
from salur_cases.domain.household.values import (
    Address,
    Complaint,
    Member,
    Seat,
    Source,
    Withdrawal,
)
from salur_cases.domain.vocabulary import KEPALA_KELUARGA, PadanResult, PaymentStatus, VervalDecision


class HouseholdState(Standing):
    """A household's folded state and the queries on it (no event is triggered here); the city's
    allocation rule is its `Standing`."""

    no_kk: str
    address: Address | None
    members: list[Member]
    sources: list[Source]
    registered_at: datetime
    padan: PadanResult | None
    padan_on: date | None
    verval: VervalDecision | None
    verval_on: date | None
    seats: dict[tuple[str, int], Seat]
    withdrawals: list[Withdrawal]
    left_out: dict[tuple[str, int], str]
    complaints: dict[str, Complaint]

    @property
    def niks(self) -> set[str]:
        """NIKs of the current members."""
        return {m.nik for m in self.members}

    @property
    def head(self) -> Member | None:
        """The KEPALA KELUARGA, if the member list names one."""
        return next((m for m in self.members if m.relationship == KEPALA_KELUARGA), None)

    def member(self, nik: str) -> Member:
        """The member with this NIK, or a refusal."""
        for m in self.members:
            if m.nik == nik:
                return m
        raise Refusal(RefusalCode.UNKNOWN_MEMBER, "no member with this NIK in the household")

    def revived_seats(self, program: str, tahap: int) -> list[Seat]:
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

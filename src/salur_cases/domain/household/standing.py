"""A household's standing under the city's allocation rule: what the rule reads, and the rule itself.

`Standing` reads the sources that proposed the household, its padan and verval, its seats and its
withdrawals. The Household aggregate has it, and so does an allocation's `Candidate`
(`salur_cases.domain.household.candidate`), so both answer by the same rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salur_cases.domain.errors import RefusalCode
from salur_cases.domain.vocabulary import PadanResult, VervalDecision

if TYPE_CHECKING:
    from datetime import date

    from salur_cases.domain.household.values import Seat, Source, Withdrawal


class Standing:
    """The city's allocation rules, over a household's sources, padan, verval, seats and withdrawals."""

    if TYPE_CHECKING:
        sources: list[Source]
        padan: PadanResult | None
        verval: VervalDecision | None
        seats: dict[tuple[str, int], Seat]
        withdrawals: list[Withdrawal]

    @property
    def city_proposed(self) -> bool:
        """Proposed by the city itself at least once."""
        return any(s.is_city for s in self.sources)

    def withdrawal(self, program: str, tahap: int) -> Withdrawal | None:
        """The standing removal or transfer that takes the household out of this tahap, if any."""
        standing = [w for w in self.withdrawals if w.covers(program, tahap)]
        return standing[-1] if standing else None

    def overlapping_seat(self, program: str, starts_on: date, ends_on: date) -> Seat | None:
        """A seat in another program whose period overlaps the given one, and that still stands."""
        for seat in self.seats.values():
            if seat.program == program or self.withdrawal(seat.program, seat.tahap) is not None:
                continue
            if seat.starts_on <= ends_on and starts_on <= seat.ends_on:
                return seat
        return None

    def city_rule_problem(
        self, program: str, tahap: int, starts_on: date, ends_on: date
    ) -> tuple[RefusalCode, str | None] | None:
        """The first rule of the city's allocation this household fails, with the other program if any."""
        if self.padan is not PadanResult.MATCHED:
            return RefusalCode.NOT_MATCHED, None
        if self.verval is not VervalDecision.ELIGIBLE:
            return RefusalCode.NOT_ELIGIBLE, None
        if self.withdrawal(program, tahap) is not None:
            return RefusalCode.REMOVED, None
        if (program, tahap) in self.seats:
            return RefusalCode.ALREADY_RECEIVING, program
        other = self.overlapping_seat(program, starts_on, ends_on)
        if other is not None:
            return RefusalCode.ALREADY_RECEIVING, other.program
        return None

    def paid_in(self, program: str, tahap: int) -> bool:
        """Whether a PAID payment stands in that tahap."""
        seat = self.seats.get((program, tahap))
        return seat is not None and seat.paid

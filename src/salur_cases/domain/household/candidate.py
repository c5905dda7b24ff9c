"""A household as one allocation of the city sees it: folded from its events' payloads, without members.

Ranking a city's tens of thousands of candidates must take seconds, and replaying every household as
an aggregate (members, addresses, complaints, the library's generic event machinery) takes far
longer. A `Candidate` folds only what the city's rule reads (`Standing`) straight from the typed
payloads, and records the allocation's `Assigned` and `LeftOut` events as the household would: the
Household's own event classes at the next versions, so saving them conflicts on (id, version) with
any other writer of that household, as the aggregate's would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from salur_cases.domain import payloads
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.events import PayloadEvent
from salur_cases.domain.household import Household
from salur_cases.domain.household.rules import problem_message
from salur_cases.domain.household.standing import Standing
from salur_cases.domain.household.values import Payment, Seat, Source, Withdrawal
from salur_cases.domain.vocabulary import PadanResult, PaymentStatus, VervalDecision

if TYPE_CHECKING:
    from eventsourcing.domain import CanMutateAggregate

    from salur_cases.domain.actor import Actor


@dataclass
class Candidate(Standing):
    """A household as the city's allocation sees it, folded from its events' payloads (`apply`)."""

    id: UUID
    version: int = 0
    registered_at: datetime | None = None
    sources: list[Source] = field(default_factory=list)
    padan: PadanResult | None = None
    verval: VervalDecision | None = None
    verval_on: date | None = None
    seats: dict[tuple[str, int], Seat] = field(default_factory=dict)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    left_out: dict[tuple[str, int], str] = field(default_factory=dict)
    pending: list[CanMutateAggregate[UUID]] = field(default_factory=list)
    """The events recorded since the fold, to be saved."""

    def apply(self, version: int, recorded_at: datetime | None, payload: payloads.Payload | None) -> None:
        """Fold the household's next event (None: an event the rule does not read)."""
        self.version = version
        match payload:
            case payloads.Proposed():
                self.registered_at = recorded_at
                self.sources.append(Source(payload.source_kind, payload.source_ref))
            case payloads.Reproposed():
                self.sources.append(Source(payload.source_kind, payload.source_ref))
            case payloads.PopulationMatched():
                self.padan = PadanResult(payload.result)
            case payloads.VervalDecided():
                self.verval = VervalDecision(payload.decision)
                self.verval_on = payload.decided_on
            case payloads.Assigned():
                self.seats[payload.program, payload.tahap] = Seat(
                    payload.program,
                    payload.tahap,
                    payload.starts_on,
                    payload.ends_on,
                    payload.amount_idr,
                    payload.budget_source,
                    payload.authority,
                )
                self.left_out.pop((payload.program, payload.tahap), None)
            case payloads.LeftOut():
                self.left_out[payload.program, payload.tahap] = payload.code
            case payloads.PaymentRecorded():
                seat = self.seats.get((payload.program, payload.tahap))
                if seat is not None:
                    status = PaymentStatus(payload.status)
                    seat.payments.append(
                        Payment(
                            payload.amount_idr, payload.paid_at, status, payload.reference, payload.warnings
                        )
                    )
            case payloads.Removed() | payloads.Transferred() | payloads.Reinstated():
                self._withdrawn(payload)
            case _:
                pass

    def _withdrawn(self, payload: payloads.Removed | payloads.Transferred | payloads.Reinstated) -> None:
        """Fold a removal, a transfer or a reinstatement."""
        match payload:
            case payloads.Removed():
                self.withdrawals.append(
                    Withdrawal(
                        "REMOVED",
                        payload.program,
                        payload.tahap,
                        payload.authority,
                        payload.reason,
                        payload.decree_ref,
                        payload.effective_on,
                    )
                )
            case payloads.Transferred():
                self.withdrawals.append(
                    Withdrawal(
                        "TRANSFERRED",
                        payload.from_program,
                        payload.from_tahap,
                        payload.authority,
                        payload.reason,
                        "",
                        payload.effective_on,
                        to_program=payload.to_program,
                    )
                )
            case payloads.Reinstated():
                for withdrawal in self.withdrawals:
                    if withdrawal.covers(payload.program, payload.tahap):
                        withdrawal.reinstated = True

    def assign(self, seat: Seat, decree_ref: str, actor: Actor, *, rank: int) -> None:
        """Take `seat` by the city's rule (`Household.assign` without an authority); refused when a rule
        says no."""
        if (seat.program, seat.tahap) in self.seats:
            msg = f"already holds a seat in {seat.program} tahap {seat.tahap}"
            raise Refusal(RefusalCode.ALREADY_RECEIVING, msg)
        problem = self.city_rule_problem(seat.program, seat.tahap, seat.starts_on, seat.ends_on)
        if problem is not None:
            raise Refusal(problem[0], problem_message(*problem))
        self._record(
            Household.Assigned,
            program=seat.program,
            tahap=seat.tahap,
            starts_on=seat.starts_on,
            ends_on=seat.ends_on,
            amount_idr=seat.amount_idr,
            budget_source=seat.budget_source,
            authority=None,
            rank=rank,
            warnings=[],
            decree_ref=decree_ref,
            actor=actor.name,
            role=actor.role,
        )
        self.seats[seat.program, seat.tahap] = seat
        self.left_out.pop((seat.program, seat.tahap), None)

    def leave_out(
        self,
        program: str,
        tahap: int,
        code: str,
        actor: Actor,
        *,
        rank: int | None = None,
        cutoff: int | None = None,
        other_program: str | None = None,
    ) -> None:
        """Record that the allocation left the household out of a tahap, and why (`Household.leave_out`)."""
        self._record(
            Household.LeftOut,
            program=program,
            tahap=tahap,
            code=code,
            rank=rank,
            cutoff=cutoff,
            authority=None,
            other_program=other_program,
            actor=actor.name,
            role=actor.role,
        )
        self.left_out[program, tahap] = code

    def _record(self, event_class: type[PayloadEvent], **state: Any) -> None:
        self.version += 1
        event = event_class.recorded(
            originator_id=self.id,
            originator_version=self.version,
            timestamp=event_class.create_timestamp(),
            **state,
        )
        self.pending.append(cast("CanMutateAggregate[UUID]", event))  # a Household event class

    def collect_events(self) -> list[CanMutateAggregate[UUID]]:
        """The events recorded since the fold (or the last collection), handed over to be saved."""
        events, self.pending = self.pending, []
        return events

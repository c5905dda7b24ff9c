"""The Program aggregate: an aid program, its tahap, and the seats each tahap has committed.

A tahap is one disbursement round of a program, with a quota (households), an amount per household
and a budget ceiling. Every assignment commits a seat on the program in the same transaction as the
household's own `Assigned` event, so two writers racing for the last seat conflict on the program's
version and the loser is refused: a tahap never holds more households than its quota nor commits more
than its ceiling under the city's rule. Outside authorities' rosters are facts and commit their seats
even past the quota (the anomaly report lists them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.events import PayloadAggregate, PayloadEvent
from salur_cases.domain.topics import register_event_topics
from salur_cases.domain.vocabulary import BudgetSource, ProgramGroup

if TYPE_CHECKING:
    from salur_cases.domain.commands import DefineProgram, OpenTahap

PROGRAM_NAMESPACE = UUID("6c3f4a8e-2f55-4d1b-9a57-3b0a2f1c9e10")


@dataclass
class Tahap:
    """One disbursement round and the running count of seats committed in it.

    Which households hold the seats is in the `SeatsCommitted` events (read them with
    `SalurApplication.tahap_households`); the state keeps counts only, so loading a program stays
    cheap however many households it pays.
    """

    number: int
    starts_on: date
    ends_on: date
    quota: int
    amount_idr: int
    budget_ceiling_idr: int
    decree_ref: str
    assigned: int = 0
    committed_idr: int = 0
    roster_hash: str | None = None
    weighed_through: int | None = None
    """The store's position the last allocation by the city's rule that committed seats had read."""

    @property
    def seats_left(self) -> int:
        """Seats the city's rule may still fill: what remains of both the quota and the ceiling."""
        by_budget = (
            (self.budget_ceiling_idr - self.committed_idr) // self.amount_idr if self.amount_idr else 0
        )
        by_quota = self.quota - self.assigned
        return max(0, min(by_quota, by_budget))

    @property
    def certified(self) -> bool:
        """A certified roster is fixed: no more seats are committed."""
        return self.roster_hash is not None

    def overlaps(self, starts_on: date, ends_on: date) -> bool:
        """Whether this tahap's period overlaps the given one (both ends inclusive)."""
        return self.starts_on <= ends_on and starts_on <= self.ends_on


def roster_hash(household_ids: list[str]) -> str:
    """SHA-256 over the sorted household ids of a roster, one per line: the certified roster's hash."""
    return hashlib.sha256("".join(f"{h}\n" for h in sorted(household_ids)).encode()).hexdigest()


class ProgramState:
    """What a Program knows, as its events fold it."""

    code: str
    name: str
    budget_source: BudgetSource
    group: ProgramGroup
    tahap: dict[int, Tahap]


class Program(ProgramState, PayloadAggregate):
    """An aid program such as BPNT, BLT Kemensos, Bantuan Gubernur or Bantuan Walikota."""

    class Defined(PayloadEvent, Aggregate.Created):
        """A program defined."""

        PAYLOAD = payloads.Defined

        def apply(self, program: ProgramState) -> None:
            program.code = self.code
            program.name = self.name
            program.budget_source = BudgetSource(self.budget_source)
            program.group = ProgramGroup(self.group)
            program.tahap = {}

    class TahapOpened(PayloadEvent, Aggregate.Event):
        """A tahap opened, with its period, quota, amount and ceiling."""

        PAYLOAD = payloads.TahapOpened

        def apply(self, program: ProgramState) -> None:
            program.tahap[self.number] = Tahap(
                self.number,
                self.starts_on,
                self.ends_on,
                self.quota,
                self.amount_idr,
                self.budget_ceiling_idr,
                self.decree_ref,
            )

    class SeatsCommitted(PayloadEvent, Aggregate.Event):
        """Seats committed in a tahap (household ids, the amount they commit)."""

        PAYLOAD = payloads.SeatsCommitted

        def apply(self, program: ProgramState) -> None:
            tahap = program.tahap[self.tahap]
            tahap.assigned += len(self.households)
            tahap.committed_idr += self.amount_idr
            if self.weighed_through is not None:
                tahap.weighed_through = self.weighed_through

    class TahapCertified(PayloadEvent, Aggregate.Event):
        """A tahap's roster certified: its hash and the chain head it was certified at."""

        PAYLOAD = payloads.TahapCertified

        def apply(self, program: ProgramState) -> None:
            program.tahap[self.tahap].roster_hash = self.roster_hash

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        """Program codes are public, so a plain name-based UUID is enough."""
        return uuid5(PROGRAM_NAMESPACE, f"program:{code}")

    @classmethod
    def define(cls, definition: DefineProgram, actor: Actor) -> Program:
        """Define a new program (its code as the write side has normalised it)."""
        return cls._create(
            cls.Defined,
            id=cls.create_id(definition.code),
            code=definition.code,
            name=definition.name,
            budget_source=str(definition.budget_source),
            group=str(definition.group),
            actor=actor.name,
            role=actor.role,
        )

    # --- commands -------------------------------------------------------------------------------

    def open_tahap(self, opening: OpenTahap, actor: Actor) -> None:
        """Open a tahap; refused when its number exists."""
        if opening.number in self.tahap:
            msg = f"program {self.code} already has tahap {opening.number}"
            raise Refusal(RefusalCode.TAHAP_EXISTS, msg)
        self.trigger_event(
            self.TahapOpened,
            number=opening.number,
            starts_on=opening.starts_on,
            ends_on=opening.ends_on,
            quota=opening.quota,
            amount_idr=opening.amount_idr,
            budget_ceiling_idr=opening.budget_ceiling_idr,
            decree_ref=opening.decree_ref,
            actor=actor.name,
            role=actor.role,
        )

    def get_tahap(self, number: int) -> Tahap:
        """The tahap, or a refusal naming it as unknown."""
        try:
            return self.tahap[number]
        except KeyError:
            raise Refusal(RefusalCode.UNKNOWN_TAHAP, f"program {self.code} has no tahap {number}") from None

    def previous_tahap(self, number: int) -> Tahap | None:
        """The tahap opened just before `number`, if any."""
        earlier = [n for n in self.tahap if n < number]
        return self.tahap[max(earlier)] if earlier else None

    def commit_seats(
        self,
        number: int,
        household_ids: list[str],
        actor: Actor,
        authority: str | None = None,
        weighed_through: int | None = None,
    ) -> None:
        """Commit seats for households in tahap `number`.

        Under the city's rule (`authority` None) the quota and the ceiling are hard limits; an outside
        authority's roster is a fact and commits its seats regardless. An allocation gives the store's
        position it read its candidates at (`weighed_through`).
        """
        tahap = self.get_tahap(number)
        if tahap.certified:
            raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {self.code} is certified")
        if not household_ids:
            return
        if authority is None:
            if tahap.assigned + len(household_ids) > tahap.quota:
                raise Refusal(
                    RefusalCode.QUOTA_FULL,
                    f"tahap {number} of {self.code} has {tahap.quota} seats, all taken",
                )
            if tahap.committed_idr + len(household_ids) * tahap.amount_idr > tahap.budget_ceiling_idr:
                raise Refusal(
                    RefusalCode.CEILING_REACHED,
                    f"tahap {number} of {self.code} has reached its budget ceiling",
                )
        self.trigger_event(
            self.SeatsCommitted,
            tahap=number,
            households=household_ids,
            amount_idr=len(household_ids) * tahap.amount_idr,
            authority=authority,
            actor=actor.name,
            role=actor.role,
            weighed_through=weighed_through,
        )

    def certify(self, number: int, households: list[str], chain_head: dict[str, Any], actor: Actor) -> str:
        """Fix tahap `number`'s roster (the ids its SeatsCommitted events name); returns its hash."""
        tahap = self.get_tahap(number)
        if tahap.certified:
            raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {self.code} is already certified")
        if len(households) != tahap.assigned:
            msg = f"roster of {len(households)} households for {tahap.assigned} seats"
            raise ValueError(msg)
        digest = roster_hash(households)
        self.trigger_event(
            self.TahapCertified,
            tahap=number,
            roster_hash=digest,
            households=tahap.assigned,
            chain_head=chain_head,
            actor=actor.name,
            role=actor.role,
        )
        return digest


register_event_topics(Program)

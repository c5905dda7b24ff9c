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
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import Clocked
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.topics import register_event_topics
from salur_cases.domain.vocabulary import BudgetSource, ProgramGroup

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


class Program(Aggregate):
    """An aid program such as BPNT, BLT Kemensos, Bantuan Gubernur or Bantuan Walikota."""

    class Defined(Clocked, Aggregate.Created):
        TOPIC = payloads.Defined.TOPIC
        code: str
        name: str
        budget_source: str
        group: str
        actor: str
        role: str

    class TahapOpened(Clocked, Aggregate.Event):
        TOPIC = payloads.TahapOpened.TOPIC
        number: int
        starts_on: date
        ends_on: date
        quota: int
        amount_idr: int
        budget_ceiling_idr: int
        decree_ref: str
        actor: str
        role: str

    class SeatsCommitted(Clocked, Aggregate.Event):
        TOPIC = payloads.SeatsCommitted.TOPIC
        tahap: int
        households: list[str]
        amount_idr: int
        authority: str | None
        actor: str
        role: str
        weighed_through: int | None = None

    class TahapCertified(Clocked, Aggregate.Event):
        TOPIC = payloads.TahapCertified.TOPIC
        tahap: int
        roster_hash: str
        households: int
        chain_head: dict[str, Any]
        actor: str
        role: str

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        """Program codes are public, so a plain name-based UUID is enough."""
        return uuid5(PROGRAM_NAMESPACE, f"program:{code}")

    @classmethod
    def define(
        cls, code: str, name: str, budget_source: BudgetSource, group: ProgramGroup, actor: Actor
    ) -> Program:
        """Define a new program."""
        return cls(
            code=code,
            name=name,
            budget_source=str(budget_source),
            group=str(group),
            actor=actor.name,
            role=actor.role,
        )

    @event(Defined)
    def __init__(self, code: str, name: str, budget_source: str, group: str, actor: str, role: str) -> None:
        self.code = code
        self.name = name
        self.budget_source = BudgetSource(budget_source)
        self.group = ProgramGroup(group)
        self.tahap: dict[int, Tahap] = {}

    # --- commands -------------------------------------------------------------------------------

    def open_tahap(
        self,
        number: int,
        starts_on: date,
        ends_on: date,
        quota: int,
        amount_idr: int,
        budget_ceiling_idr: int,
        decree_ref: str,
        actor: Actor,
    ) -> None:
        """Open tahap `number`; refused when it exists."""
        if number in self.tahap:
            raise Refusal(RefusalCode.TAHAP_EXISTS, f"program {self.code} already has tahap {number}")
        self._tahap_opened(
            number=number,
            starts_on=starts_on,
            ends_on=ends_on,
            quota=quota,
            amount_idr=amount_idr,
            budget_ceiling_idr=budget_ceiling_idr,
            decree_ref=decree_ref,
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
        self._seats_committed(
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
        self._certified(
            tahap=number,
            roster_hash=digest,
            households=tahap.assigned,
            chain_head=chain_head,
            actor=actor.name,
            role=actor.role,
        )
        return digest

    # --- events ---------------------------------------------------------------------------------

    @event(TahapOpened)
    def _tahap_opened(
        self,
        number: int,
        starts_on: date,
        ends_on: date,
        quota: int,
        amount_idr: int,
        budget_ceiling_idr: int,
        decree_ref: str,
        actor: str,
        role: str,
    ) -> None:
        self.tahap[number] = Tahap(
            number, starts_on, ends_on, quota, amount_idr, budget_ceiling_idr, decree_ref
        )

    @event(SeatsCommitted)
    def _seats_committed(
        self,
        tahap: int,
        households: list[str],
        amount_idr: int,
        authority: str | None,
        actor: str,
        role: str,
        weighed_through: int | None = None,
    ) -> None:
        self.tahap[tahap].assigned += len(households)
        self.tahap[tahap].committed_idr += amount_idr
        if weighed_through is not None:
            self.tahap[tahap].weighed_through = weighed_through

    @event(TahapCertified)
    def _certified(
        self, tahap: int, roster_hash: str, households: int, chain_head: dict[str, Any], actor: str, role: str
    ) -> None:
        self.tahap[tahap].roster_hash = roster_hash


register_event_topics(Program)

"""The PersonClaim aggregate: which household a NIK belongs to, one at a time.

Its id is a keyed HMAC of the NIK. Registering a household creates or takes over the claims of all
its members in the same transaction as the household's events; a second household racing for the
same NIK conflicts on the claim's (id, version) and is refused. Moving a person is an explicit member
move, which hands the claim over.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import Clocked
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.topics import register_event_topics


class PersonClaim(Aggregate):
    """A NIK's membership of at most one household."""

    class Claimed(Clocked, Aggregate.Created):
        TOPIC = payloads.Claimed.TOPIC
        household_id: str
        actor: str
        role: str

    class Moved(Clocked, Aggregate.Event):
        TOPIC = payloads.Moved.TOPIC
        household_id: str
        actor: str
        role: str

    class Released(Clocked, Aggregate.Event):
        TOPIC = payloads.Released.TOPIC
        actor: str
        role: str

    @classmethod
    def claim(cls, claim_id: UUID, household_id: str, actor: Actor) -> PersonClaim:
        """The first claim on a NIK; the id is a keyed HMAC of the NIK."""
        return cls._create(
            cls.Claimed, id=claim_id, household_id=household_id, actor=actor.name, role=actor.role
        )

    @event(Claimed)
    def __init__(self, household_id: str, actor: str, role: str) -> None:
        self.household_id: str | None = household_id

    def claim_for(self, household_id: str, actor: Actor) -> None:
        """Take a released claim; refused while another household holds it."""
        if self.household_id == household_id:
            return
        if self.household_id is not None:
            raise Refusal(RefusalCode.NIK_IN_OTHER_HOUSEHOLD, "a member's NIK belongs to another household")
        self._moved(household_id=household_id, actor=actor.name, role=actor.role)

    def move_to(self, household_id: str, actor: Actor) -> None:
        """Hand the claim to another household (an explicit member move)."""
        self._moved(household_id=household_id, actor=actor.name, role=actor.role)

    def release(self, actor: Actor) -> None:
        """The NIK no longer belongs to any household (e.g. corrected away)."""
        self._released(actor=actor.name, role=actor.role)

    @event(Moved)
    def _moved(self, household_id: str, actor: str, role: str) -> None:
        self.household_id = household_id

    @event(Released)
    def _released(self, actor: str, role: str) -> None:
        self.household_id = None


register_event_topics(PersonClaim)

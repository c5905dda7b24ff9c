"""The PersonClaim aggregate: which household a NIK belongs to, one at a time.

Its id is a keyed HMAC of the NIK. Registering a household creates or takes over the claims of all
its members in the same transaction as the household's events; a second household racing for the
same NIK conflicts on the claim's (id, version) and is refused. Moving a person is an explicit member
move, which hands the claim over.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.events import PayloadAggregate, PayloadEvent
from salur_cases.domain.topics import register_event_topics


class ClaimState:
    """What a PersonClaim knows: the household holding the NIK (None once released)."""

    household_id: str | None


class PersonClaim(ClaimState, PayloadAggregate):
    """A NIK's membership of at most one household."""

    class Claimed(PayloadEvent, Aggregate.Created):
        """A NIK claimed by a household."""

        PAYLOAD = payloads.Claimed

        def apply(self, claim: ClaimState) -> None:
            claim.household_id = self.household_id

    class Moved(PayloadEvent, Aggregate.Event):
        """A NIK's claim moved to another household."""

        PAYLOAD = payloads.Moved

        def apply(self, claim: ClaimState) -> None:
            claim.household_id = self.household_id

    class Released(PayloadEvent, Aggregate.Event):
        """A NIK's claim released."""

        PAYLOAD = payloads.Released

        def apply(self, claim: ClaimState) -> None:
            claim.household_id = None

    @classmethod
    def claim(cls, claim_id: UUID, household_id: str, actor: Actor) -> PersonClaim:
        """The first claim on a NIK; the id is a keyed HMAC of the NIK."""
        return cls._create(
            cls.Claimed, id=claim_id, household_id=household_id, actor=actor.name, role=actor.role
        )

    def claim_for(self, household_id: str, actor: Actor) -> None:
        """Take a released claim; refused while another household holds it."""
        if self.household_id == household_id:
            return
        if self.household_id is not None:
            raise Refusal(RefusalCode.NIK_IN_OTHER_HOUSEHOLD, "a member's NIK belongs to another household")
        self.move_to(household_id, actor)

    def move_to(self, household_id: str, actor: Actor) -> None:
        """Hand the claim to another household (an explicit member move)."""
        self.trigger_event(self.Moved, household_id=household_id, actor=actor.name, role=actor.role)

    def release(self, actor: Actor) -> None:
        """The NIK no longer belongs to any household (e.g. corrected away)."""
        self.trigger_event(self.Released, actor=actor.name, role=actor.role)


register_event_topics(PersonClaim)

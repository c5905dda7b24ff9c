"""A household's recorded facts, folded from its timeline: what the explain engine and the letter read.

The timeline keeps every event's payload as recorded, so the fold here sees the same facts the
aggregate decided on: seats and their payment attempts, recorded left-outs, removals and transfers
(and the reinstatements that undo them), padan results, verval decisions and the member list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from salur_cases.domain import payloads as events
from salur_cases.domain.household import parse_field_path

Item = dict[str, Any]


_PROPOSALS = {events.Proposed.EVENT_TYPE, events.Reproposed.EVENT_TYPE, events.MembersRecorded.EVENT_TYPE}
"""The events that say who proposed the household and with which members."""


def kind_of(event: Item) -> str:
    """The event's type, as `salur_cases.domain.payloads` names it (`household.Assigned`)."""
    return str(event["type"])


@dataclass
class Seat:
    """A seat as its events tell it: the assignment and every payment attempt, in order."""

    assigned: Item
    payments: list[Item] = field(default_factory=list)

    @property
    def standing_payment(self) -> Item | None:
        """The PAID report that stands (not followed by RETURNED), if any."""
        standing = None
        for payment in self.payments:
            status = payment["data"]["status"]
            if status == "PAID":
                standing = payment
            elif status == "RETURNED":
                standing = None
        return standing

    @property
    def paid(self) -> bool:
        """A PAID payment stands."""
        return self.standing_payment is not None


@dataclass
class Withdrawal:
    """A removal or transfer, and the reinstatement that undid it, if any."""

    event: Item
    program: str
    tahap: int
    reinstated_by: Item | None = None

    @property
    def transfer(self) -> bool:
        """A transfer to another program (else a removal)."""
        return kind_of(self.event) == events.Transferred.EVENT_TYPE


@dataclass
class Story:
    """A household's recorded facts, folded from its events in position order."""

    events: list[Item]
    seats: dict[tuple[str, int], Seat] = field(default_factory=dict)
    left_out: dict[tuple[str, int], Item] = field(default_factory=dict)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    padan: list[Item] = field(default_factory=list)
    verval: list[Item] = field(default_factory=list)
    proposals: list[Item] = field(default_factory=list)
    members: list[Item] = field(default_factory=list)
    address: dict[str, str] | None = None
    members_at: dict[int, list[Item]] = field(default_factory=dict)
    """The member list as it stood after each padan event (by position)."""

    @classmethod
    def of(cls, events: list[Item]) -> Story:
        """Fold the events (in position order)."""
        story = cls(events)
        for event in events:
            story.add(event)
        return story

    @property
    def no_kk(self) -> str:
        """The household's No. KK (from its first event)."""
        return str(self.events[0]["data"]["no_kk"])

    def add(self, event: Item) -> None:  # noqa: PLR0912 - one branch per event type
        """Take one event into account."""
        kind, data = kind_of(event), event["data"]
        if kind in _PROPOSALS:
            if kind != events.MembersRecorded.EVENT_TYPE:
                self.proposals.append(event)
            if "members" in data:
                self.members = [dict(m) for m in data["members"]]
                self.address = data.get("address") or self.address
        elif kind == events.Assigned.EVENT_TYPE:
            self.seats[data["program"], data["tahap"]] = Seat(event)
            self.left_out.pop((data["program"], data["tahap"]), None)
        elif kind == events.LeftOut.EVENT_TYPE:
            self.left_out[data["program"], data["tahap"]] = event
        elif kind == events.PaymentRecorded.EVENT_TYPE:
            seat = self.seats.get((data["program"], data["tahap"]))
            if seat is not None:
                seat.payments.append(event)
        elif kind == events.Removed.EVENT_TYPE:
            self.withdrawals.append(Withdrawal(event, data["program"], data["tahap"]))
        elif kind == events.Transferred.EVENT_TYPE:
            self.withdrawals.append(Withdrawal(event, data["from_program"], data["from_tahap"]))
        elif kind == events.Reinstated.EVENT_TYPE:
            for w in self.withdrawals:
                if w.reinstated_by is None and w.program == data["program"] and w.tahap <= data["tahap"]:
                    w.reinstated_by = event
        elif kind == events.PopulationMatched.EVENT_TYPE:
            self.padan.append(event)
            self.members_at[event["position"]] = [dict(m) for m in self.members]
        elif kind == events.VervalDecided.EVENT_TYPE:
            self.verval.append(event)
        elif kind == events.Corrected.EVENT_TYPE:
            self._corrected(data)
        elif kind == events.MemberMovedOut.EVENT_TYPE:
            self.members = [m for m in self.members if m.get("nik") != data["nik"]]
        elif kind == events.MemberMovedIn.EVENT_TYPE:
            self.members = [*self.members, dict(data["member"])]

    def _corrected(self, data: Item) -> None:
        try:
            section, index, name = parse_field_path(data["field"])
        except ValueError:
            return
        if section == "address":
            self.address = {**(self.address or {}), name: data["new_value"]}
        elif section == "members" and index is not None and index < len(self.members):
            self.members[index] = {**self.members[index], name: data["new_value"]}

    def covering(self, program: str, tahap: int, before: int | None = None) -> Withdrawal | None:
        """The standing removal or transfer that takes the household out of this tahap (recorded
        before position `before`, when given)."""
        standing = [
            w
            for w in self.withdrawals
            if w.program == program
            and w.tahap <= tahap
            and (before is None or w.event["position"] < before)
            and (w.reinstated_by is None or (before is not None and w.reinstated_by["position"] >= before))
        ]
        return standing[-1] if standing else None

    def receiving(self, program: str, tahap: int) -> bool:
        """Paid in that tahap, and not taken out of it since (the household's status agrees)."""
        seat = self.seats.get((program, tahap))
        return seat is not None and seat.paid and self.covering(program, tahap) is None

    def tahap_touched(self, program: str) -> set[int]:
        """The tahap of `program` any of the household's facts names."""
        touched = {n for p, n in self.seats if p == program} | {n for p, n in self.left_out if p == program}
        return touched | {w.tahap for w in self.withdrawals if w.program == program}

    def programs_by_recency(self) -> list[str]:
        """Programs the household's facts name, the most recently touched first."""
        order: list[str] = []
        for event in reversed(self.events):
            data = event["data"]
            program = data.get("program") or data.get("from_program")
            if isinstance(program, str) and program not in order:
                order.append(program)
        return order

    @staticmethod
    def latest_before(facts: list[Item], position: int) -> Item | None:
        """The last of `facts` recorded before `position`."""
        earlier = [f for f in facts if f["position"] < position]
        return earlier[-1] if earlier else None

    def position_at(self, moment: datetime | None) -> int:
        """The position just after the last of the household's events recorded up to `moment`."""
        if moment is None:
            return int(self.events[-1]["position"]) + 1
        earlier = [int(e["position"]) for e in self.events if e["recorded_at"] <= moment]
        return (earlier[-1] + 1) if earlier else int(self.events[0]["position"])

    def overlapping_seat(self, program: str, starts_on: date, ends_on: date, before: int) -> Seat | None:
        """A standing seat in another program whose period overlaps, assigned before `before`."""
        for (other, number), seat in self.seats.items():
            data = seat.assigned["data"]
            if other == program or seat.assigned["position"] >= before:
                continue
            overlaps = _day(data["starts_on"]) <= ends_on and starts_on <= _day(data["ends_on"])
            if overlaps and self.covering(other, number, before) is None:
                return seat
        return None


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))

"""Stored events as readers see them: one shape for `/events`, `/feed`, timelines and evidence.

An event's public id is derived from its aggregate id and version (both already keyed, never PII):
stable across rebuilds, so an explanation can cite it and an inspector can find it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import DomainEventProtocol

EVENT_NAMESPACE = UUID("0b1f3d2e-8c4a-4f6e-9d27-5a1c3e7b9f40")
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor", "role"}


def event_id(originator_id: UUID, originator_version: int) -> str:
    """The public id of the event at this aggregate's version."""
    return str(uuid5(EVENT_NAMESPACE, f"{originator_id}/{originator_version}"))


def event_type(topic: str) -> str:
    """`salur:household.Assigned` -> `household.Assigned`."""
    return topic.partition(":")[2] or topic


@dataclass(frozen=True)
class EventRecord:
    """One event with its position in the store's total order."""

    position: int
    event_id: str
    aggregate_id: str
    version: int
    type: str
    recorded_at: datetime
    effective_on: date | None
    actor: str
    role: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready fields (ISO times)."""
        out = asdict(self)
        out["recorded_at"] = self.recorded_at.isoformat()
        out["effective_on"] = self.effective_on.isoformat() if self.effective_on else None
        out["data"] = _jsonable(self.data)
        return out


def record_of(position: int, topic: str, event: DomainEventProtocol[UUID]) -> EventRecord:
    """Describe a decoded domain event stored at `position` under `topic`."""
    fields = dict(event.__dict__)
    effective = fields.get("effective_on")
    if effective is None and isinstance(fields.get("checked_on"), date):
        effective = fields["checked_on"]
    return EventRecord(
        position=position,
        event_id=event_id(event.originator_id, event.originator_version),
        aggregate_id=str(event.originator_id),
        version=event.originator_version,
        type=event_type(topic),
        recorded_at=fields["timestamp"],
        effective_on=effective if isinstance(effective, date) else None,
        actor=str(fields.get("actor", "")),
        role=str(fields.get("role", "")),
        data={k: v for k, v in fields.items() if k not in _ENVELOPE},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value

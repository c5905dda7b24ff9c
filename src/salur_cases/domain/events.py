"""Event classes declared once: each takes its fields and `TOPIC` from its payload Struct.

An aggregate's event class names its payload (`PAYLOAD = payloads.Assigned`) and says how it changes
the aggregate (`apply`); its fields are the payload's, in the order the store has always held them
(the event's own fields, then `actor` and `role`, then the fields added later with a default, which
older stored events lack), so stored events keep their bytes and their hash.
Nested values (members, an address, a chain head) are held as the plain JSON objects the store holds.

Aggregates whose events are declared so derive from `PayloadAggregate`, which makes each new event
straight from its fields (`PayloadEvent.recorded`) and each aggregate straight from its created
event, on creation and on replay (`PayloadAggregate.created_by`): eventsourcing's `trigger_event`,
`_create` and `CanInitAggregate.mutate` match the fields against signatures and assign each one
through the frozen dataclass, for every event, a large share of what a bulk command spends on one.
The events, their order of fields and the aggregates' state are the library's (tests compare them).
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

from salur_cases.domain.clock import Clocked
from salur_cases.domain.payloads import Payload

WHO = ("actor", "role")
"""The fields every event records last: who recorded it, in which role."""

_TEMPLATES: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}
"""Per event class: its fields in their order with their defaults, and the names of those required."""


_Made = TypeVar("_Made")


def with_fields(cls: type[_Made], fields: dict[str, Any]) -> _Made:
    """An instance of the frozen dataclass `cls` holding `fields` (all of them, in its field order),
    made at once instead of through its `__init__`, which assigns each field with `object.__setattr__`."""
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    return made


class PayloadEvent(Clocked):
    """Mixin for event classes: the fields of `PAYLOAD`, stamped from the domain's clock."""

    PAYLOAD: ClassVar[type[Payload]]
    TOPIC: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        payload = cls.__dict__.get("PAYLOAD")
        if payload is not None:
            fields = msgspec.structs.fields(payload)
            own = [f for f in fields if f.name not in WHO and f.required]
            later = [f for f in fields if f.name not in WHO and not f.required]
            who = [f for f in fields if f.name in WHO]
            cls.__annotations__ = {f.name: f.type for f in (*own, *who, *later)}
            for field in later:
                setattr(cls, field.name, field.default)
            cls.TOPIC = payload.TOPIC
        super().__init_subclass__(**kwargs)

    @classmethod
    def recorded(cls, **fields: Any) -> Self:
        """The event with these fields, as the dataclass's own `__init__` makes it (the same fields in
        the same order, the same defaults), without assigning each field through the frozen dataclass;
        fields missing or unknown go to that `__init__`, which names them in its TypeError."""
        known = _TEMPLATES.get(cls)
        if known is None:
            known = _TEMPLATES[cls] = _template(cls)
        template, required = known
        state = {**template, **fields}
        if len(state) != len(template) or not required <= fields.keys():
            return cls(**fields)
        return with_fields(cls, state)

    def mutate(self, aggregate: Any) -> Any:
        """Apply the event to its aggregate; a created event of a `PayloadAggregate` makes it
        (`PayloadAggregate.created_by`), every other case goes to eventsourcing's `mutate`."""
        if aggregate is None and isinstance(self, CanInitAggregate):
            cls = resolve_topic(self.originator_topic)
            if issubclass(cls, PayloadAggregate) and _initless(cls):
                return cls.created_by(self)
        return super().mutate(aggregate)  # type: ignore[misc]

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            """The payload's fields, which mypy cannot see on a class built at import time."""


def _template(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    fields = dataclasses.fields(cls)
    if any(f.default_factory is not dataclasses.MISSING for f in fields):
        msg = f"{cls.__qualname__}: a field with a default factory"
        raise TypeError(msg)
    required = frozenset(f.name for f in fields if f.default is dataclasses.MISSING)
    return {f.name: None if f.name in required else f.default for f in fields}, required


@functools.cache
def _initless(cls: type) -> bool:
    """Whether the aggregate class has no `__init__` of its own for a created event to call."""
    return getattr(cls, "__init__") is object.__init__  # noqa: B009 - the class's, not an instance's


class PayloadAggregate(Aggregate):
    """An aggregate whose events are `PayloadEvent`s, made and applied without eventsourcing's
    per-event signature matching; the same events, versions, timestamps and state as the library's
    `trigger_event` and `_create` give (other event classes go through those)."""

    @classmethod
    def _create(
        cls, event_class: type[CanInitAggregate[UUID]], *, id: UUID | None = None, **kwargs: Any
    ) -> Self:
        """The new aggregate from its created event (no `__init__` of its own to call: `apply` sets it up)."""
        if not (issubclass(event_class, PayloadEvent) and type(id) is UUID and _initless(cls)):
            return super()._create(event_class, id=id, **kwargs)
        timestamp: datetime = kwargs.pop("timestamp", None) or event_class.create_timestamp()
        event = event_class.recorded(
            originator_id=id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=timestamp,
            originator_topic=get_topic(cls),
            **kwargs,
        )
        aggregate = cls.created_by(event)
        aggregate.pending_events.append(event)
        return aggregate

    @classmethod
    def created_by(cls, event: Any) -> Self:
        """The aggregate its created event makes: eventsourcing's `CanInitAggregate.mutate` without
        matching the event's fields against `__base_init__` and an `__init__` the class does not have."""
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(event.originator_id, event.originator_version, event.timestamp)
        event.apply(aggregate)
        return aggregate

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any) -> None:
        """Make the next event of this aggregate, apply it and keep it pending."""
        if not issubclass(event_class, PayloadEvent):
            super().trigger_event(event_class, **kwargs)
            return
        if kwargs.get("timestamp") is None:
            kwargs["timestamp"] = event_class.create_timestamp()
        event = event_class.recorded(originator_id=self.id, originator_version=self.version + 1, **kwargs)
        event.mutate(self)
        self.pending_events.append(event)

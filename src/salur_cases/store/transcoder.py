"""Event state as JSON through msgspec: eventsourcing's tagged format, several times faster.

eventsourcing's `JSONTranscoder` writes a `datetime` as `{"_type_": "datetime_iso", "_data_": "..."}`;
this transcoder writes the same tags for the event fields that hold a datetime, a date or a UUID, so
stored events stay readable by the library's transcoder too. Only top-level fields are tagged: nested
values in our events (member lists, chain heads) hold plain JSON types by construction.

`EventMapper` is eventsourcing's mapper for this transcoder: the same stored events, with the steps
that are the same for every event of a class (its topic, class version and id type) looked up once
per class, the state tagged in the copy the mapper makes anyway instead of in another one, and events
(domain and stored) given their fields at once rather than one by one through their frozen dataclass.

A datetime's text is `datetime.isoformat()`. For UTC times (every event recorded at the wall clock)
it is taken from msgspec's RFC 3339 text, the same characters but `Z` for `+00:00`, at a third of
the cost; other offsets (a scenario's moments, shared by every event of a step) are remembered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from salur_cases.domain.events import with_fields

_RFC3339 = msgspec.json.Encoder().encode


def _datetime_text(value: datetime) -> str:
    """`value.isoformat()`, from msgspec's text for UTC (a quoted `...Z`) and remembered for others."""
    if value.tzinfo is UTC:
        return _RFC3339(value)[1:-2].decode() + "+00:00"
    return _offset_datetime_text(value, value.utcoffset())


@functools.lru_cache(maxsize=256)
def _offset_datetime_text(value: datetime, offset: timedelta | None) -> str:  # noqa: ARG001 - in the key
    """`value.isoformat()`; the offset is in the key: equal instants at other offsets read otherwise."""
    return value.isoformat()


_TAG: dict[type, Callable[[Any], dict[str, str]]] = {
    datetime: lambda value: {"_type_": "datetime_iso", "_data_": _datetime_text(value)},
    date: lambda value: {"_type_": "date_iso", "_data_": value.isoformat()},
    UUID: lambda value: {"_type_": "uuid_hex", "_data_": value.hex},
}
_UNTAG: dict[str, Callable[[str], Any]] = {
    "datetime_iso": datetime.fromisoformat,
    "date_iso": date.fromisoformat,
    "uuid_hex": UUID,
}


def _tag_fields(state: dict[str, Any]) -> dict[str, Any]:
    """Replace the datetimes, dates and UUIDs among the state's fields by their tags, in place."""
    tag = _TAG.get
    for key, value in state.items():
        tagger = tag(type(value))
        if tagger is not None:
            state[key] = tagger(value)
    return state


def _untag_fields(state: dict[str, Any]) -> dict[str, Any]:
    """Replace the tagged fields of the state by their values, in place."""
    for key, value in state.items():
        if type(value) is dict and len(value) == 2 and "_type_" in value:  # noqa: PLR2004 - the tag's two keys
            state[key] = _UNTAG[value["_type_"]](value["_data_"])
    return state


class MsgspecTranscoder(Transcoder):
    """Encodes event state (a dict of fields) with msgspec, tagging datetimes, dates and UUIDs."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        """The state as JSON bytes (the given dict is left as it is)."""
        return self._encoder.encode(_tag_fields(dict(obj)))

    def encode_owned(self, state: dict[str, Any]) -> bytes:
        """The state as JSON bytes, tagging the caller's own copy of it in place."""
        return self._encoder.encode(_tag_fields(state))

    def decode(self, data: bytes) -> Any:
        """The state from JSON bytes."""
        return _untag_fields(self._decoder.decode(data))


class EventMapper(Mapper[UUID]):
    """Converts domain events to stored events and back, as eventsourcing's `Mapper` does (the same
    stored bytes, the same upcasting and errors), doing per class what the library does per event."""

    def __init__(
        self, transcoder: Transcoder, compressor: Compressor | None = None, cipher: Cipher | None = None
    ) -> None:
        super().__init__(transcoder, compressor, cipher)
        self._encode = (
            transcoder.encode_owned if isinstance(transcoder, MsgspecTranscoder) else transcoder.encode
        )
        self._written: dict[type, tuple[str, int]] = {}
        """Per event class: its topic and class version."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The stored event of a domain event: its state encoded, compressed and encrypted as configured."""
        cls = type(domain_event)
        known = self._written.get(cls)
        if known is None:
            known = self._written[cls] = (get_topic(cls), getattr(cls, "class_version", 1))
        topic, class_version = known
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if class_version > 1:
            state["class_version"] = class_version
        stored_state = self._encode(state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        fields = {
            "originator_id": originator_id,
            "originator_version": originator_version,
            "topic": topic,
            "state": stored_state,
        }
        return with_fields(StoredEvent, fields)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """The domain event of a stored event (upcast to its class's version when older)."""
        cls = resolve_topic(stored_event.topic)
        stored_state = stored_event.state
        try:
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            state: dict[str, Any] = self.transcoder.decode(stored_state)
        except Exception as error:
            msg = (
                f"Failed to deserialise state of stored event with topic '{stored_event.topic}', "
                f"originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {error}"
            )
            raise MapperDeserialisationError(msg) from error
        originator_id = stored_event.originator_id
        state["originator_id"] = originator_id if type(originator_id) is UUID else UUID(str(originator_id))
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        return with_fields(cls, state)

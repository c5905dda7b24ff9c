"""Event classes declared once: each takes its fields and `TOPIC` from its payload Struct.

An aggregate's event class names its payload (`PAYLOAD = payloads.Assigned`) and says how it changes
the aggregate (`apply`); its fields are the payload's, in the order the store has always held them
(the event's own fields, then `actor` and `role`, then the fields added later with a default, which
older stored events lack), so stored events keep their bytes and their hash.
Nested values (members, an address, a chain head) are held as the plain JSON objects the store holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from salur_cases.domain.clock import Clocked
from salur_cases.domain.payloads import Payload

WHO = ("actor", "role")
"""The fields every event records last: who recorded it, in which role."""


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

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            """The payload's fields, which mypy cannot see on a class built at import time."""

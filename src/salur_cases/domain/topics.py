"""Explicit, stable event topics: each event class is stored under its `TOPIC`, never its module path.

eventsourcing resolves a stored topic through a registry filled when a class is first written, so a
process that only reads would not know `salur:household.Assigned`; every aggregate module registers
its event classes here when it is imported. Renaming or moving a class never breaks stored events.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic


def register_event_topics(aggregate: type) -> None:
    """Register every nested event class of `aggregate` that declares a `TOPIC`."""
    for value in vars(aggregate).values():
        topic = getattr(value, "TOPIC", None)
        if isinstance(value, type) and isinstance(topic, str):
            register_topic(topic, value)

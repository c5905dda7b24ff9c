"""Households as this process last saved them, so the next bulk command need not replay them.

A command takes a held aggregate out (it is then the command's alone, never shared between threads)
and the application holds it again only after saving it. Whoever takes checks each one against the
store's current version: one written elsewhere since (another process, a bulk worker) is replayed
from the store instead. Nothing here weakens optimistic concurrency: a save still conflicts on
(id, version) when another writer got there first, and an aggregate whose save failed is never held.

What is held is bounded twice: by aggregates, and by the events folded into them, since a household's
memory grows with its events (about 1 KB each: a household of two members with four events takes
about 3.7 KB).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock
from uuid import UUID

from eventsourcing.domain import Aggregate


class HeldAggregates:
    """The most recently saved aggregates: at most `maxsize` of them, holding at most `max_events`
    events between them (no bound on events when None)."""

    def __init__(self, maxsize: int, max_events: int | None = None) -> None:
        self.maxsize = maxsize
        self.max_events = max_events
        self.events = 0
        """The events folded into the aggregates held (their versions summed)."""
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._items)

    def aggregates(self) -> list[Aggregate]:
        """The aggregates held now, least recently saved first (a copy: they stay held)."""
        with self._lock:
            return list(self._items.values())

    def take(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """Remove and return those of `ids` held, as they were saved."""
        with self._lock:
            taken = {i: a for i in ids if (a := self._items.pop(i, None)) is not None}
            self.events -= sum(a.version for a in taken.values())
            return taken

    def hold(self, aggregates: Iterable[Aggregate]) -> None:
        """Hold these just-saved aggregates; the least recently saved go when there are too many."""
        with self._lock:
            for aggregate in aggregates:
                if (before := self._items.pop(aggregate.id, None)) is not None:
                    self.events -= before.version
                self._items[aggregate.id] = aggregate
                self.events += aggregate.version
            self._shed()

    def resize(self, maxsize: int, max_events: int | None = None) -> None:
        """Hold at most `maxsize` aggregates and `max_events` events from now on; the least recently
        saved beyond them go at once."""
        with self._lock:
            self.maxsize, self.max_events = maxsize, max_events
            self._shed()

    def _shed(self) -> None:
        """Let the least recently saved go until both bounds hold."""
        while self._items and (
            len(self._items) > self.maxsize or (self.max_events is not None and self.events > self.max_events)
        ):
            self.events -= self._items.popitem(last=False)[1].version

"""Households as this process last saved them, so the next bulk command need not replay them.

A command takes a held aggregate out (it is then the command's alone, never shared between threads)
and the application holds it again only after saving it. Whoever takes checks each one against the
store's current version: one written elsewhere since (another process, a bulk worker) is replayed
from the store instead. Nothing here weakens optimistic concurrency: a save still conflicts on
(id, version) when another writer got there first, and an aggregate whose save failed is never held.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock
from uuid import UUID

from eventsourcing.domain import Aggregate


class HeldAggregates:
    """The most recently saved aggregates, at most `maxsize` of them."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = Lock()

    def take(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """Remove and return those of `ids` held, as they were saved."""
        with self._lock:
            return {i: a for i in ids if (a := self._items.pop(i, None)) is not None}

    def hold(self, aggregates: Iterable[Aggregate]) -> None:
        """Hold these just-saved aggregates; the least recently saved go when there are too many."""
        with self._lock:
            for aggregate in aggregates:
                self._items.pop(aggregate.id, None)
                self._items[aggregate.id] = aggregate
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def resize(self, maxsize: int) -> None:
        """Hold at most `maxsize` from now on; the least recently saved beyond it go at once."""
        with self._lock:
            self.maxsize = maxsize
            while len(self._items) > maxsize:
                self._items.popitem(last=False)

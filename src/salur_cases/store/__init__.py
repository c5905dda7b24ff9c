"""The event store: eventsourcing's SQLite and PostgreSQL recorders, extended with a hash chain.

``eventsourcing_env(url)`` turns the project's database URL into the environment an
``eventsourcing.application.Application`` needs; its ``PERSISTENCE_MODULE`` is
``salur_cases.store.sqlite`` or ``salur_cases.store.postgres``. Either module's application
recorder assigns gap-free notification ids, stores a ``chain_hash`` per event (see
:mod:`salur_cases.store.chain`) and offers the bulk reads of :class:`ChainedRecorder`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from salur_cases.store.chain import ChainRow
from salur_cases.store.config import eventsourcing_env

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from uuid import UUID

    from eventsourcing.persistence import Notification, StoredEvent

__all__ = ["ChainRow", "ChainedRecorder", "eventsourcing_env"]


@runtime_checkable
class ChainedRecorder(Protocol):
    """What both chained application recorders offer beyond eventsourcing's ``ApplicationRecorder``."""

    def existing_originator_ids(self, ids: Sequence[UUID]) -> set[UUID]:
        """Return those of ``ids`` that have at least one stored event (one query per chunk)."""

    def max_originator_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """Return the highest stored version of each of ``ids`` that has events."""

    def select_events_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Return every stored event of ``ids`` (one query per chunk), by aggregate and version."""

    def serialised(self, name: str) -> AbstractContextManager[None]:
        """Run a block as the only holder of `name` on this store (see each recorder for how far)."""

    def select_chain(self, start: int, limit: int) -> list[ChainRow]:
        """Return up to ``limit`` chain rows from notification id ``start`` on, in order."""

    def select_notification_page(self, start: int, limit: int) -> list[Notification]:
        """Return up to ``limit`` notifications from ``start`` on, each originator id as its text."""

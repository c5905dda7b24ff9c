"""When things are recorded: the wall clock, or a scenario's clock while a story is replayed.

Every event's `timestamp` is its recorded time. The demo replays Kota Bogor's 2020 story with the
clock set to the story's moments (`recording_at`), so "as recorded on 15 June" means what it says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
"""Western Indonesian Time: a time given without an offset means WIB."""

_frozen: ContextVar[datetime | None] = ContextVar("salur_recording_at", default=None)


def now() -> datetime:
    """The recorded time for a new event: the scenario's moment if one is set, else the wall clock."""
    return _frozen.get() or datetime.now(tz=UTC)


@contextmanager
def recording_at(moment: datetime) -> Iterator[None]:
    """Record every event in this block at `moment` (used to replay a dated story)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def frozen_moment() -> datetime | None:
    """The scenario's moment if one is set (to hand it on to a worker process)."""
    return _frozen.get()


@contextmanager
def wall_clock() -> Iterator[None]:
    """Record at the wall clock (the counterpart of `recording_at` when no moment is set)."""
    yield


def today() -> date:
    """Today in WIB (the default effective date of a decision recorded now)."""
    return now().astimezone(WIB).date()


class Clocked:
    """Mixin for event classes: stamp events from this module's clock."""

    @staticmethod
    def create_timestamp() -> datetime:
        """The recorded time of a new event."""
        return now()

"""Held aggregates: taken by one command at a time, the least recently saved dropped first."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from salur_cases.held import HeldAggregates


class Thing(Aggregate):
    """An aggregate with nothing to it."""


def test_a_held_aggregate_is_taken_once_then_it_is_the_takers_alone() -> None:
    held = HeldAggregates(maxsize=10)
    first, second = Thing(), Thing()
    held.hold([first, second])

    assert held.take([first.id]) == {first.id: first}
    assert held.take([first.id, second.id]) == {second.id: second}
    assert held.take([first.id, second.id]) == {}


def test_the_aggregates_held_are_listed_least_recently_saved_first_and_stay_held() -> None:
    held = HeldAggregates(maxsize=10)
    first, second = Thing(), Thing()
    held.hold([first, second])
    held.hold([first])

    assert held.aggregates() == [second, first]
    assert held.take([first.id, second.id]) == {first.id: first, second.id: second}


def test_when_full_the_least_recently_saved_aggregates_go_first() -> None:
    held = HeldAggregates(maxsize=2)
    old, middle, new = Thing(), Thing(), Thing()
    held.hold([old, middle])
    held.hold([old])  # saved again: now the most recent
    held.hold([new])

    assert set(held.take([old.id, middle.id, new.id])) == {old.id, new.id}


def test_resized_smaller_it_drops_the_least_recently_saved_at_once_and_holds_no_more() -> None:
    held = HeldAggregates(maxsize=3)
    old, middle, new, newest = Thing(), Thing(), Thing(), Thing()
    held.hold([old, middle, new])
    held.resize(1)
    held.hold([newest])

    assert held.take([old.id, middle.id, new.id, newest.id]) == {newest.id: newest}


class Grown(Aggregate):
    """An aggregate that has seen more events."""

    @event("Grew")
    def grow(self) -> None:
        """One more event."""


def test_the_events_held_stay_within_their_bound_the_least_recently_saved_going_first() -> None:
    held = HeldAggregates(maxsize=10, max_events=5)
    old, new = Grown(), Grown()
    for _ in range(2):
        old.grow()
        new.grow()
    held.hold([old])
    held.hold([new])  # 3 + 3 events: more than 5

    assert held.events == 3
    assert held.take([old.id, new.id]) == {new.id: new}
    assert held.events == 0

"""Bulk work runs with Python's cyclic garbage collector paused, and gives it back afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from salur_cases.collector import collector_paused
from salur_cases.domain.actor import Actor
from salur_cases.domain.vocabulary import Role
from salur_cases.processes.bulk import run_chunks
from salur_cases.processes.unit_of_work import BulkOutcome, chunks


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_paused_in_the_block_and_running_after_it() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_inner_block_leaves_the_collector_to_the_outermost() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_the_collector_runs_again_after_a_block_that_failed() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert gc.isenabled()


_seen: list[bool] = []
"""Whether the collector ran during each chunk of `_chunk`."""


def _chunk(app: Any, start: int, chunk: Sequence[Any], actor: Actor, outcome: BulkOutcome) -> None:
    _seen.append(gc.isenabled())
    outcome.accepted += len(chunk)


def test_a_bulk_command_runs_its_chunks_with_the_collector_paused() -> None:
    app: Any = SimpleNamespace(settings=SimpleNamespace(is_postgres=False, bulk_workers=1), cores_taken=0)
    outcome = BulkOutcome()
    _seen.clear()
    run_chunks(app, _chunk, [(0, [1, 2]), (2, [3])], Actor("dinsos.test", Role.DINSOS), outcome)
    assert _seen == [False, False]
    assert outcome.accepted == 3
    assert gc.isenabled()


def test_a_bulk_command_works_through_its_chunks_with_the_collector_paused() -> None:
    seen = [gc.isenabled() for _ in chunks(range(10), 3)]
    assert seen == [False] * 4
    assert gc.isenabled()


def _stop_at_the_first_chunk() -> None:
    for _ in chunks(range(10), 3):
        raise RuntimeError


def test_the_collector_runs_again_when_a_bulk_command_stops_amid_its_chunks() -> None:
    with pytest.raises(RuntimeError):
        _stop_at_the_first_chunk()
    assert gc.isenabled()

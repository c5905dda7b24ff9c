"""The board the server's worker processes share: positions written and reached, per-client rate limits."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from salur_cases.api.shared import Board


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def named() -> Iterator[str]:
    board, path = Board.create()
    board.close()
    yield path
    Path(path).unlink()


def test_two_workers_attached_to_one_board_see_each_others_positions(named: str) -> None:
    first, second = Board.attach(named), Board.attach(named)
    first.raise_positions(written=42)
    assert (second.written, second.reached) == (42, 0)
    second.raise_positions(written=7, reached=40)  # never lowered
    assert (first.written, first.reached) == (42, 40)


def _take(path: str, client: str, count: int, out: multiprocessing.Queue[list[int]]) -> None:
    board = Board.attach(path)
    out.put([board.take(client, 6, 10) for _ in range(count)])


def test_a_client_has_one_budget_across_worker_processes(named: str) -> None:
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[int]] = context.Queue()
    workers = [context.Process(target=_take, args=(named, "203.0.113.9", 8, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    waits = [w for _ in workers for w in out.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
    assert waits.count(0) == 10  # a burst of 10 in all, not per process
    assert all(0 < w <= 10 for w in waits if w)  # then one request per 10 s
    assert Board.attach(named).take("198.51.100.1", 6, 10) == 0  # another client: its own budget


def test_a_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    board = Board.private(clock)
    assert [board.take("client", 60, 2) for _ in range(3)] == [0, 0, 1]
    clock.now += 0.5
    assert board.take("client", 60, 2) == 1  # half a token
    clock.now += 0.5
    assert board.take("client", 60, 2) == 0
    clock.now += 3600
    assert [board.take("client", 60, 2) for _ in range(3)] == [0, 0, 1]  # refilled to the burst only


def test_a_board_is_created_with_its_own_salt(named: str) -> None:
    other, other_path = Board.create()
    try:
        assert Path(named).read_bytes()[16:32] != Path(other_path).read_bytes()[16:32]
        assert Board.attach(named).take("x", 1, 1) == 0
    finally:
        other.close()
        Path(other_path).unlink()

"""How many worker processes bulk commands use, and how they cut their items into chunks for them."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest

from salur_cases.application import SalurApplication
from salur_cases.processes.bulk import chunk_size, worker_count


def test_chunks_for_workers_come_in_rounds_that_keep_every_worker_busy() -> None:
    assert chunk_size(5000, 1000, 2) == 834  # 6 chunks, 3 each, instead of 5 (the last round for one)
    assert chunk_size(4000, 1000, 2) == 1000
    assert chunk_size(4500, 1000, 4) == 563  # 8 chunks


def test_work_done_in_the_callers_process_keeps_the_largest_chunks() -> None:
    assert chunk_size(5000, 1000, 1) == 1000
    assert chunk_size(2500, 1000, 2) == 1000  # 3 chunks: too few to fork workers for


def _app(*, postgres: bool, workers: int | None = None) -> Any:
    settings = SimpleNamespace(is_postgres=postgres, bulk_workers=workers)
    return SimpleNamespace(settings=settings, cores_taken=0)


def _leaving(app: Any, count: int) -> Any:
    """The application's own bookkeeping of cores left to a follower, on the stand-in."""
    return SalurApplication.leaving_cores(app, count)


def test_bulk_workers_get_the_cores_not_taken_by_work_beside_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    app = _app(postgres=True)
    assert worker_count(app) == 2
    with _leaving(app, 1):
        assert worker_count(app) == 1  # the follower's core: the command runs in-process
        with _leaving(app, 1):
            assert worker_count(app) == 1
    assert worker_count(app) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    with _leaving(app, 1):
        assert worker_count(app) == 4  # at most 4
    assert worker_count(_app(postgres=False)) == 1


def test_a_configured_number_of_bulk_workers_holds_beside_a_follower(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    app = _app(postgres=True, workers=3)
    with _leaving(app, 1):
        assert worker_count(app) == 3

"""How bulk commands cut their items into chunks for worker processes."""

from __future__ import annotations

from salur_cases.bulk import chunk_size


def test_chunks_for_workers_come_in_rounds_that_keep_every_worker_busy() -> None:
    assert chunk_size(5000, 1000, 2) == 834  # 6 chunks, 3 each, instead of 5 (the last round for one)
    assert chunk_size(4000, 1000, 2) == 1000
    assert chunk_size(4500, 1000, 4) == 563  # 8 chunks


def test_work_done_in_the_callers_process_keeps_the_largest_chunks() -> None:
    assert chunk_size(5000, 1000, 1) == 1000
    assert chunk_size(2500, 1000, 2) == 1000  # 3 chunks: too few to fork workers for

"""Bulk commands across worker processes, so the Python share of a bulk write uses every core.

A bulk command's chunks are independent transactions whose invariants ride on optimistic concurrency
(see `salur_cases.application`), so chunks may run in several processes at once: two chunks that touch
the same aggregate conflict, and the loser retries on fresh state. PostgreSQL serialises the inserts
themselves (a table lock keeps commit order equal to position order); the Python work of building and
encoding events runs in parallel. The caller is one of the processes: it forks one worker fewer and
takes chunks itself, so the households of its chunks stay held for the next command
(`SalurApplication.held`) instead of being read back from the store. The caller takes chunks from the
front of the list and the workers from its back, each the next one nobody has taken yet (two counters
shared through the fork), until none is left: no process waits on another's fixed share, and a command
that puts first the chunks of the households the caller holds has the workers read the others back
from the store, which the caller would have had to do anyway. Workers open their own application on
the same store and record events at the caller's scenario moment. The jobs are inherited with the
fork, so nothing of them is pickled; a worker hands back only its outcome.

Cores given to other work are not the workers': while a projection follower runs beside the writer
(`salur_cases.projections.runner.following`, the demo), it has a core of its own, which the writer's
application is told of (`SalurApplication.leaving_cores`). On two cores that leaves one, so bulk
commands then run in the caller's process alone, which keeps every household they saved held.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salur_cases.application import SalurApplication
from salur_cases.collector import collector_paused
from salur_cases.domain import clock
from salur_cases.domain.actor import Actor
from salur_cases.processes.unit_of_work import BulkOutcome

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import SynchronizedArray

ChunkJob = Callable[[SalurApplication, int, Sequence[Any], Actor, BulkOutcome], None]
"""A bulk command's work on one chunk: (application, index of its first item, chunk, actor, outcome)."""

_worker_app: SalurApplication | None = None
_jobs: Sequence[tuple[int, Sequence[Any]]] = ()
"""The running bulk command's jobs, set before the workers fork (they read it, never the parent)."""
_untaken: SynchronizedArray[int] | None = None
"""The first and one past the last of `_jobs` nobody has taken yet: counters in shared memory, made
before the fork (the caller takes from the first, the workers from the last)."""
MIN_CHUNKS = 4
"""Fewer chunks than this run in the caller's process: forking would cost more than it saves."""


def worker_count(app: SalurApplication) -> int:
    """Processes of a bulk command, the caller's included: SALUR_BULK_WORKERS, else on PostgreSQL one
    per core not taken (at most 4); 1 on SQLite, whose writes are serialised anyway."""
    if app.settings.bulk_workers is not None:
        return app.settings.bulk_workers
    if not app.settings.is_postgres:
        return 1
    return max(1, min(4, (os.cpu_count() or 1) - app.cores_taken))


def chunk_size(count: int, largest: int, workers: int) -> int:
    """Items per chunk, at most `largest`: in worker processes, a number of chunks every worker gets
    as many of (the pool's last round is not left to one worker while the others wait)."""
    chunks = -(-count // largest)
    if workers <= 1 or chunks < MIN_CHUNKS:
        return largest
    chunks += -chunks % workers
    return -(-count // chunks)


@collector_paused()
def run_chunks(
    app: SalurApplication,
    job: ChunkJob,
    jobs: Sequence[tuple[int, Sequence[Any]]],
    actor: Actor,
    outcome: BulkOutcome,
) -> None:
    """Run `job(app, start, chunk, actor, outcome)` for every (start, chunk) of `jobs`, here and in
    worker processes when worth it (forked with the cyclic garbage collector paused, as it is here:
    `salur_cases.collector`); the outcome's rejections and warnings come out ordered by index. A
    worker runs `job` on its own application; `job` goes to it by its module and name, so it is a
    module-level function."""
    workers = worker_count(app)
    if workers <= 1 or len(jobs) < MIN_CHUNKS:
        for start, chunk in jobs:
            job(app, start, chunk, actor, outcome)
    else:
        _fork_workers(app, workers - 1, job, jobs, actor, outcome)
    outcome.rejected.sort(key=lambda r: r.index)
    outcome.warnings.sort(key=lambda r: r.index)


def _fork_workers(
    app: SalurApplication,
    count: int,
    job: ChunkJob,
    jobs: Sequence[tuple[int, Sequence[Any]]],
    actor: Actor,
    outcome: BulkOutcome,
) -> None:
    """Run the jobs here, from the first on, and in `count` forked workers, from the last back."""
    global _jobs, _untaken  # handed to the forked workers with their memory
    moment = clock.frozen_moment()
    context = multiprocessing.get_context("fork")
    _jobs, _untaken = jobs, context.Array("q", [0, len(jobs)])
    try:
        with context.Pool(count, initializer=_start_worker, initargs=(app,)) as pool:
            theirs = pool.map_async(_run_jobs, [(job, actor, moment)] * count)
            _take_jobs(app, job, actor, outcome, from_last=False)
            for part in theirs.get():
                outcome.merge(part)
    finally:
        _jobs, _untaken = (), None


def _take_jobs(
    app: SalurApplication, job: ChunkJob, actor: Actor, outcome: BulkOutcome, *, from_last: bool
) -> None:
    """Run the next job nobody has taken, from the first or from the last, until none is left."""
    if _untaken is None:
        msg = "bulk jobs taken outside run_chunks"
        raise RuntimeError(msg)
    while True:
        with _untaken.get_lock():
            first, end = _untaken[0], _untaken[1]
            if first >= end:
                return
            if from_last:
                index = _untaken[1] = end - 1
            else:
                index, _untaken[0] = first, first + 1
        start, chunk = _jobs[index]
        job(app, start, chunk, actor, outcome)


def _start_worker(parent: SalurApplication) -> None:
    global _worker_app  # noqa: PLW0603 - one application per worker process
    gc.freeze()  # the parent's heap (the file being imported, ...): never walked by this process's collector
    after_fork = getattr(parent.population, "after_fork", None)
    if after_fork is not None:
        after_fork()
    _worker_app = SalurApplication(parent.settings, schema=parent.schema, population=parent.population)


def _run_jobs(task: tuple[ChunkJob, Actor, datetime | None]) -> BulkOutcome:
    job, actor, moment = task
    if _worker_app is None:
        msg = "bulk worker started without its application"
        raise RuntimeError(msg)
    part = BulkOutcome()
    with clock.recording_at(moment) if moment else clock.wall_clock():
        _take_jobs(_worker_app, job, actor, part, from_last=True)
    return part

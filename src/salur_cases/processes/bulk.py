"""Bulk commands across worker processes, so the Python share of a bulk write uses every core.

A bulk command's chunks are independent transactions whose invariants ride on optimistic
concurrency (see `salur_cases.application`), so chunks may run in several processes at once: two
chunks that touch the same aggregate conflict, and the loser retries on fresh state. PostgreSQL
serialises the inserts themselves (a table lock keeps commit order equal to position order); the
Python work of building and encoding events runs in parallel. Workers are forked, each opening its
own application on the same store, and record events at the caller's scenario moment. The jobs are
inherited with the fork, so a task sent to a worker is only the job's index, never the pickled chunk.

Cores given to other work are not the workers': while a projection follower runs beside the writer
(`salur_cases.projections.runner.following`, the demo), it has a core of its own, which the writer's
application is told of (`SalurApplication.leaving_cores`). On two cores that leaves one, so bulk
commands then run in the caller's process, which also keeps the households they saved held for the
next command (`SalurApplication.held`) instead of losing them with the workers.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from salur_cases.application import SalurApplication
from salur_cases.collector import collector_paused
from salur_cases.domain import clock
from salur_cases.domain.actor import Actor
from salur_cases.processes.unit_of_work import BulkOutcome

ChunkJob = Callable[[SalurApplication, int, Sequence[Any], Actor, BulkOutcome], None]
"""A bulk command's work on one chunk: (application, index of its first item, chunk, actor, outcome)."""

_worker_app: SalurApplication | None = None
_jobs: Sequence[tuple[int, Sequence[Any]]] = ()
"""The running bulk command's jobs, set before the workers fork (they read it, never the parent)."""
MIN_CHUNKS = 4
"""Fewer chunks than this run in the caller's process: forking would cost more than it saves."""


def worker_count(app: SalurApplication) -> int:
    """SALUR_BULK_WORKERS, else on PostgreSQL one per core not taken (at most 4); 1 on SQLite, whose
    writes are serialised anyway."""
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
    """Run `job(app, start, chunk, actor, outcome)` for every (start, chunk) of `jobs`, in worker
    processes when worth it (forked with the cyclic garbage collector paused, as it is here:
    `salur_cases.collector`). A worker runs `job` on its own application; `job` goes to it by its
    module and name, so it is a module-level function."""
    workers = worker_count(app)
    if workers <= 1 or len(jobs) < MIN_CHUNKS:
        for start, chunk in jobs:
            job(app, start, chunk, actor, outcome)
        return
    global _jobs  # noqa: PLW0603 - handed to the forked workers with their memory
    moment = clock.frozen_moment()
    context = multiprocessing.get_context("fork")
    _jobs = jobs
    try:
        with context.Pool(workers, initializer=_start_worker, initargs=(app,)) as pool:
            tasks = [(job, index, actor, moment) for index in range(len(jobs))]
            for part in pool.imap_unordered(_run_job, tasks):
                outcome.merge(part)
    finally:
        _jobs = ()
    outcome.rejected.sort(key=lambda r: r.index)
    outcome.warnings.sort(key=lambda r: r.index)


def _start_worker(parent: SalurApplication) -> None:
    global _worker_app  # noqa: PLW0603 - one application per worker process
    gc.freeze()  # the parent's heap (the file being imported, ...): never walked by this process's collector
    after_fork = getattr(parent.population, "after_fork", None)
    if after_fork is not None:
        after_fork()
    _worker_app = SalurApplication(parent.settings, schema=parent.schema, population=parent.population)


def _run_job(task: tuple[ChunkJob, int, Actor, datetime | None]) -> BulkOutcome:
    job, index, actor, moment = task
    start, chunk = _jobs[index]
    if _worker_app is None:
        msg = "bulk worker started without its application"
        raise RuntimeError(msg)
    part = BulkOutcome()
    with clock.recording_at(moment) if moment else clock.wall_clock():
        job(_worker_app, start, chunk, actor, part)
    return part

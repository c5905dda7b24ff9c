"""``salur serve``: the API under uvicorn, with the projections kept up to date alongside.

It refuses to start on a database whose schema is not at the code's migrations (run ``salur db
upgrade``), brings the projections up to date first, then serves while a background thread follows
new events (``run_forever``). On PostgreSQL it serves from several worker processes (``--workers``,
by default one per CPU), which share read-your-writes positions and rate limits through a ``Board``;
the projections are followed once, by the serving process. SQLite has a single writer: one process.

Each worker listens on a socket of its own, bound to the same address with ``SO_REUSEPORT``, so the
kernel spreads new connections over the workers. On one socket shared by all of them, the worker that
wakes first accepts every connection waiting: a client opening 16 keep-alive connections at once
often had all 16 served by one worker while the others idled. The serving process replaces a worker
that dies, and stops them all on SIGINT or SIGTERM.

A serving process keeps far less in memory than a bulk run (``keep_little``), and once its app is built
it freezes the objects it holds (``gc.freeze``): the garbage collector's full passes then skip those
long-lived objects (some 150,000; a pass over them took tens of milliseconds, a stall of every request
in flight) and look only at what serving made since.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar
from uvicorn.config import STARTUP_FAILURE

from salur_cases.api.app import create_app
from salur_cases.api.console.gate import BuildGate
from salur_cases.api.console.progress import BuildProgress
from salur_cases.api.shared import BOARD_ENV, Board
from salur_cases.domain.errors import InvalidCommand
from salur_cases.logging import get_logger
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

__all__ = ["default_workers", "keep_little", "serve", "serve_command", "worker_app"]

EXIT_OUT_OF_DATE = 1
HELD_WHILE_SERVING = 5_000
HELD_EVENTS_WHILE_SERVING = 20_000
"""A serving process keeps at most 5,000 households as last saved, holding at most 20,000 events
between them (about 1 KB an event: some 20 MB): a server runs for months and its imports are small, so
it keeps far fewer than a bulk run; a bulk command over more reads the rest from the store."""
HOUSEHOLD_IDS_WHILE_SERVING = 20_000
"""Household ids a serving process remembers (about 300 bytes each: some 6 MB). The No. KK comes from
the client, so a bound far below the bulk run's keeps a client naming many households from growing it."""

log = get_logger(__name__)


def default_workers(runtime: Runtime) -> int:
    """One worker per CPU on PostgreSQL; one on SQLite."""
    return (os.cpu_count() or 1) if runtime.settings.is_postgres else 1


def keep_little(runtime: Runtime) -> None:
    """Bound what a serving process keeps in memory far below a bulk run's bounds."""
    runtime.app.held.resize(HELD_WHILE_SERVING, HELD_EVENTS_WHILE_SERVING)
    runtime.app.remember_household_ids(HOUSEHOLD_IDS_WHILE_SERVING)


def worker_app() -> Litestar:
    """A worker's app (uvicorn's factory): its own runtime, and the board its server named."""
    settings = get_settings()
    if settings.api_board is None:
        raise InvalidCommand(BOARD_ENV, "is set by `salur serve` for its workers")
    runtime = Runtime(settings)
    keep_little(runtime)
    app = create_app(runtime, board=Board.attach(settings.api_board), on_shutdown=[runtime.close])
    gc.freeze()
    return app


def _bound_socket(host: str, port: int, *, shared: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port``; ``shared``: with ``SO_REUSEPORT``, each worker binding its own."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    """A worker process: uvicorn serving ``worker_app`` on a socket of its own."""
    config = uvicorn.Config(f"{__name__}:worker_app", factory=True, **options)
    uvicorn.Server(config).run(sockets=[_bound_socket(host, port)])


def _serve_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run ``workers`` worker processes until SIGINT or SIGTERM, replacing any that dies.

    The address is bound here first without ``SO_REUSEPORT``, so a taken one fails at once (even when
    another server's workers share it) and port 0 becomes one port for every worker; then held, never
    listening, with ``SO_REUSEPORT`` until the end.
    """
    stop = threading.Event()
    context = multiprocessing.get_context("spawn")
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes: list[Any] = []
    try:
        try:
            with _bound_socket(host, port, shared=False) as probe:
                port = probe.getsockname()[1]
        except OSError as error:
            log.error("cannot listen", host=host, port=port, error=str(error))
            raise SystemExit(STARTUP_FAILURE) from None
        with _bound_socket(host, port):

            def start() -> Any:
                process = context.Process(target=_worker, args=(host, port, options), name="salur-worker")
                process.start()
                return process

            processes = [start() for _ in range(workers)]
            while not stop.wait(0.5):
                for index, process in enumerate(processes):
                    if process.exitcode == STARTUP_FAILURE:  # it would fail the same way again
                        log.error("a worker failed to start", exitcode=process.exitcode)
                        stop.set()
                    elif process.exitcode is not None:
                        log.warning("a worker died; starting another", exitcode=process.exitcode)
                        processes[index] = start()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def serve(
    runtime: Runtime,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    *,
    build: Callable[[], object] | None = None,
    progress: BuildProgress | None = None,
) -> None:
    """Serve the API on ``host:port`` until interrupted; raises SchemaOutOfDate on an old schema.

    With ``build`` (the demo's city), the server answers at once: ``build`` runs in the projections'
    thread first, ``progress`` tells the console how far it is, and the data routes answer 503 until
    it is done and the read models caught up (one worker: the progress lives in this process).
    """
    from salur_cases.projections.migrate import ensure_current  # noqa: PLC0415 - projections load lazily
    from salur_cases.projections.runner import catch_up, run_forever  # noqa: PLC0415

    workers = default_workers(runtime) if workers is None else workers
    if workers < 1 or (workers > 1 and not runtime.settings.is_postgres):
        raise InvalidCommand("--workers", "must be at least 1, and 1 on SQLite (a single writer)")
    if progress is not None and workers != 1:
        raise InvalidCommand("--workers", "must be 1 while the city is built")
    ensure_current(runtime)
    runtime.app  # noqa: B018 - open the event store before the runner locks the read side (SQLite)
    stop = threading.Event()

    def follow() -> None:
        if build is not None:
            try:
                build()
            except Exception as error:
                log.exception("the build failed")
                if progress is not None:
                    progress.fail(error)
                return
            catch_up(runtime)
            keep_little(runtime)  # the build wrote in bulk; serving keeps less
            if progress is not None:
                progress.finish()
        run_forever(runtime, stop)

    if build is None:
        keep_little(runtime)
        catch_up(runtime)
    follower = threading.Thread(target=follow, name="salur-projections", daemon=True)
    follower.start()
    options = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "proxy_headers": False,
    }
    board_path = None
    try:
        log.info("serving", host=host, port=port, workers=workers)
        if workers == 1:
            app: Any = create_app(runtime)
            if progress is not None:
                app = BuildGate(app, progress, runtime)
            gc.freeze()
            uvicorn.Server(uvicorn.Config(app, **options)).run()  # type: ignore[arg-type]
        else:
            _, board_path = Board.create()
            os.environ[BOARD_ENV] = board_path  # the workers are spawned with this environment
            _serve_workers(host, port, workers, options)
    finally:
        stop.set()
        follower.join(timeout=10 if build is None else 0.1)
        if board_path is not None:
            os.environ.pop(BOARD_ENV, None)
            Path(board_path).unlink(missing_ok=True)


def serve_command(args: argparse.Namespace) -> int:
    """``salur serve [--host] [--port] [--workers]``."""
    from salur_cases.projections.migrate import SchemaOutOfDate  # noqa: PLC0415

    runtime = Runtime(get_settings())
    try:
        serve(runtime, args.host, args.port, getattr(args, "workers", None))
    except SchemaOutOfDate as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_OUT_OF_DATE
    finally:
        runtime.close()
    return 0

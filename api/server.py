"""``salur serve``: the API under uvicorn, with the projections kept up to date alongside.

It refuses to start on a database whose schema is not at the code's migrations (run ``salur db
upgrade``), brings the projections up to date first, then serves while a background thread follows
new events (``run_forever``). On PostgreSQL it serves from several worker processes (``--workers``,
by default one per CPU), which share read-your-writes positions and rate limits through a ``Board``;
the projections are followed once, by the serving process. SQLite has a single writer: one process.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar

from salur_cases.api.app import create_app
from salur_cases.api.console.gate import BuildGate
from salur_cases.api.console.progress import BuildProgress
from salur_cases.api.shared import BOARD_ENV, Board
from salur_cases.domain.errors import InvalidCommand
from salur_cases.logging import get_logger
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

__all__ = ["default_workers", "serve", "serve_command", "worker_app"]

EXIT_OUT_OF_DATE = 1
HELD_WHILE_SERVING = 20_000
"""Households a serving process keeps as last saved (about 2 KB each with two members): a server runs
for months and its imports are small, so it keeps far fewer than a bulk run; a bulk command over more
reads the rest from the store."""

log = get_logger(__name__)


def default_workers(runtime: Runtime) -> int:
    """One worker per CPU on PostgreSQL; one on SQLite."""
    return (os.cpu_count() or 1) if runtime.settings.is_postgres else 1


def worker_app() -> Litestar:
    """A worker's app (uvicorn's factory): its own runtime, and the board its server named."""
    settings = get_settings()
    if settings.api_board is None:
        raise InvalidCommand(BOARD_ENV, "is set by `salur serve` for its workers")
    runtime = Runtime(settings)
    runtime.app.held.resize(HELD_WHILE_SERVING)
    return create_app(runtime, board=Board.attach(settings.api_board), on_shutdown=[runtime.close])


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
            runtime.app.held.resize(HELD_WHILE_SERVING)  # the build wrote in bulk; serving keeps fewer
            if progress is not None:
                progress.finish()
        run_forever(runtime, stop)

    if build is None:
        runtime.app.held.resize(HELD_WHILE_SERVING)
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
            uvicorn.Server(uvicorn.Config(app, **options)).run()  # type: ignore[arg-type]
        else:
            _, board_path = Board.create()
            os.environ[BOARD_ENV] = board_path  # the workers are spawned with this environment
            uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
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

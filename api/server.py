"""``salur serve``: the API under uvicorn, with the projections kept up to date alongside.

It refuses to start on a database whose schema is not at the code's migrations (run ``salur db
upgrade``), brings the projections up to date first, then serves while a background thread follows
new events (``run_forever``).
"""

from __future__ import annotations

import argparse
import sys
import threading

import uvicorn

from salur_cases.api.app import create_app
from salur_cases.logging import get_logger
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

__all__ = ["serve", "serve_command"]

EXIT_OUT_OF_DATE = 1

log = get_logger(__name__)


def serve(runtime: Runtime, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API on ``host:port`` until interrupted; raises SchemaOutOfDate on an old schema."""
    from salur_cases.projections.migrate import ensure_current  # noqa: PLC0415 - projections load lazily
    from salur_cases.projections.runner import catch_up, run_forever  # noqa: PLC0415

    ensure_current(runtime)
    runtime.app  # noqa: B018 - open the event store before the runner locks the read side (SQLite)
    catch_up(runtime)
    stop = threading.Event()
    follower = threading.Thread(
        target=run_forever, args=(runtime, stop), name="salur-projections", daemon=True
    )
    follower.start()
    try:
        config = uvicorn.Config(
            create_app(runtime),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
        )
        log.info("serving", host=host, port=port)
        uvicorn.Server(config).run()
    finally:
        stop.set()
        follower.join(timeout=10)


def serve_command(args: argparse.Namespace) -> int:
    """``salur serve [--host] [--port]``."""
    from salur_cases.projections.migrate import SchemaOutOfDate  # noqa: PLC0415

    runtime = Runtime(get_settings())
    try:
        serve(runtime, args.host, args.port)
    except SchemaOutOfDate as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_OUT_OF_DATE
    finally:
        runtime.close()
    return 0

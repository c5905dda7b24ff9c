"""Structured logging (structlog) for the whole process, with a last line of defence for PII.

Log lines go to stderr (stdout is the CLI's output), as JSON or, on a terminal, for people.
Standard-library loggers (uvicorn, alembic, eventsourcing) are rendered through the same chain.
:func:`mask_pii` masks every run of 16 digits (spaces between them included: every form the parsers
accept) and drops keys that hold names or NIKs, so no NIK, No. KK or person's name reaches a log line
even when a caller slips; the detail line of a PostgreSQL error (which quotes the row's values) is
left out of logged tracebacks, and engines hide statement parameters. The request id is left as the
client got it. Masking is for logs only:
answers to clients are never rewritten.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from salur_cases.identifiers import WRITTEN_IDENTIFIER

__all__ = ["PII_KEYS", "configure_logging", "get_logger", "mask_digits", "mask_pii"]

PII_KEYS = frozenset({"nik", "name", "nama", "members"})
UNMASKED_KEYS = frozenset({"request_id"})
"""Values logged as they are: the request id must match the ``X-Request-ID`` the client got."""
_SPACES = re.compile(r"\s+")
_SERVER_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)
"""PostgreSQL's detail line of an error quotes the row's values (``Key (nik)=(...) already exists``)."""


def _mask_run(match: re.Match[str]) -> str:
    run = _SPACES.sub("", match.group(0))
    return run[:4] + "*" * (len(run) - 8) + run[-4:]


def mask_digits(text: str) -> str:
    """``text`` with every run of 16 or more digits (spaces between them allowed) masked to its first
    and last 4 digits: ``3271 0315 0320 0001`` becomes ``3271********0001``."""
    return WRITTEN_IDENTIFIER.sub(_mask_run, text)


def _scrub(value: object) -> object:  # noqa: PLR0911 - one case per kind of value
    if isinstance(value, str):
        return mask_digits(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return mask_digits(str(value)) if abs(value) >= 10**15 else value
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items() if not _is_pii_key(k)}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return _scrub(bytes(value).decode("utf-8", "replace"))
    if value is None or isinstance(value, float):
        return value
    return mask_digits(str(value))


def _is_pii_key(key: object) -> bool:
    return isinstance(key, str) and key.casefold() in PII_KEYS


def mask_pii(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: drop PII keys and mask 16-digit runs in every value (recursively)."""
    for key in [k for k in event_dict if _is_pii_key(k)]:
        del event_dict[key]
    for key, value in list(event_dict.items()):
        if key.startswith("_") or key in UNMASKED_KEYS:
            continue
        if key == "exception" and isinstance(value, str):
            event_dict[key] = _scrub(_SERVER_DETAIL.sub("DETAIL: (not logged: it quotes values)", value))
        else:
            event_dict[key] = _scrub(value)
    return event_dict


class _StderrHandler(logging.StreamHandler[TextIO]):
    """A handler writing to whatever ``sys.stderr`` is at the time (test capture friendly)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignore: the stream is always the current ``sys.stderr``."""


def _default_format() -> str:
    return "console" if sys.stderr.isatty() else "json"


def configure_logging(fmt: str | None = None, level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger.

    ``fmt`` is ``"json"`` or ``"console"`` (the settings' ``log_format``); None means console on a
    terminal and JSON otherwise.
    """
    if fmt is None:
        fmt = _default_format()
    levelno = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    else:
        renderer = structlog.processors.JSONRenderer()
    # Tracebacks are rendered to text before masking, so they are masked too.
    tail: list[Processor] = [structlog.processors.format_exc_info, mask_pii]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, _StderrHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(levelno)
    # No line shows where it was logged from, nor its thread or process: the standard library's own
    # switches spare every record a walk up the stack, a getpid call and a thread lookup (every request
    # logs a line).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger; configures logging with defaults if nobody has yet."""
    if not structlog.is_configured():
        configure_logging()
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger.bind(**initial) if initial else logger

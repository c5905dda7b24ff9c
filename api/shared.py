"""What the server's worker processes share: read-your-writes positions and the self-check's rate limit.

``salur serve`` on PostgreSQL runs several worker processes, yet CONTRACT.md speaks of the server:
a read waits, by default, for "the last position this server wrote", and the citizen self-check is
rate limited per client, whichever worker answers. Both live in a small file mapped into every worker
(a ``Board``). The serving process creates it and names it to its workers in ``SALUR_API_BOARD`` (set
by ``salur serve`` itself, not a setting); an app served alone maps an unnamed temporary file.

Layout: two 8-byte positions (written, reached), a 16-byte salt, then ``SLOTS`` token buckets of two
doubles (tokens, last refill on the system-wide monotonic clock). A client's bucket is its address's
salted BLAKE2b hash modulo ``SLOTS``: clients sharing a slot share a budget, which only ever limits
harder. Changes take the file's lock (``flock``, between processes) and a thread lock (within one).
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import secrets
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["BOARD_ENV", "SLOTS", "Board"]

BOARD_ENV = "SALUR_API_BOARD"
SLOTS = 65_536
_POSITIONS = struct.Struct("<qq")
_SALT = slice(16, 32)
_BUCKET = struct.Struct("<dd")
_BUCKETS_AT = 32
SIZE = _BUCKETS_AT + SLOTS * _BUCKET.size


class Board:
    """A shared board mapped from ``file`` (created with a fresh salt when empty)."""

    def __init__(self, file: IO[bytes], clock: Callable[[], float] = time.monotonic) -> None:
        self._file = file
        self._thread_lock = threading.Lock()
        self.clock = clock
        with self._locked():
            if os.fstat(file.fileno()).st_size < SIZE:
                file.truncate(SIZE)
                os.pwrite(file.fileno(), secrets.token_bytes(16), _SALT.start)
        self._map = mmap.mmap(file.fileno(), SIZE)
        self._salt = bytes(self._map[_SALT])

    @classmethod
    def private(cls, clock: Callable[[], float] = time.monotonic) -> Board:
        """A board for one process (an unnamed temporary file)."""
        return cls(tempfile.TemporaryFile(), clock)

    @classmethod
    def create(cls) -> tuple[Board, str]:
        """A new named board for a server's workers, and its path (in shared memory when there is one)."""
        shm = Path("/dev/shm")  # noqa: S108 - a private mkstemp file
        folder = shm if shm.is_dir() else None
        fd, path = tempfile.mkstemp(prefix="salur-api-", suffix=".board", dir=folder)
        return cls(os.fdopen(fd, "r+b")), path

    @classmethod
    def attach(cls, path: str) -> Board:
        """The board a serving process created."""
        return cls(Path(path).open("r+b"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)

    # --- read-your-writes ------------------------------------------------------------------------

    @property
    def written(self) -> int:
        """The last position any worker wrote."""
        return int(_POSITIONS.unpack_from(self._map, 0)[0])

    @property
    def reached(self) -> int:
        """The highest position the projections are known to hold."""
        return int(_POSITIONS.unpack_from(self._map, 0)[1])

    def raise_positions(self, written: int = 0, reached: int = 0) -> None:
        """Raise either position (never lower it)."""
        with self._locked():
            old_written, old_reached = _POSITIONS.unpack_from(self._map, 0)
            _POSITIONS.pack_into(self._map, 0, max(old_written, written), max(old_reached, reached))

    # --- the self-check's rate limit -------------------------------------------------------------

    def take(self, client: str, per_minute: float, burst: int) -> int:
        """0 when ``client`` may pass (and takes a token), else the whole seconds until it may."""
        rate = per_minute / 60.0
        digest = hashlib.blake2b(client.encode(), key=self._salt, digest_size=8).digest()
        offset = _BUCKETS_AT + int.from_bytes(digest, "little") % SLOTS * _BUCKET.size
        now = self.clock()
        with self._locked():
            tokens, then = _BUCKET.unpack_from(self._map, offset)
            if then == 0.0:  # an unused slot starts full
                tokens, then = float(burst), now
            tokens = min(float(burst), tokens + max(0.0, now - then) * rate)
            wait = 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / rate))
            _BUCKET.pack_into(self._map, offset, tokens - 1 if wait == 0 else tokens, now)
        return wait

    def close(self) -> None:
        """Unmap the board."""
        self._map.close()
        self._file.close()

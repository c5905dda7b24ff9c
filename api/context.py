"""What the API's handlers share in one process: the runtime, read-your-writes positions, a rate limiter."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from salur_cases.runtime import Runtime

READ_WAIT_SECONDS = 5.0
"""How long a read waits for the projections to reach the position it asks for."""


class Positions:
    """Read-your-writes: the last position written here, and the highest the projections are known to hold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.written = 0
        self.reached = 0

    def wrote(self, position: int | None) -> None:
        """Remember a write's last position."""
        if position:
            with self._lock:
                self.written = max(self.written, position)

    def wait(self, runtime: Runtime, wanted: int | None) -> bool:
        """Wait (at most 5 s) for the projections to hold ``wanted`` (default: the last write here)."""
        target = self.written if wanted is None else wanted
        if target <= self.reached:
            return True
        if wanted is not None:  # a position nobody wrote yet cannot be waited for
            target = min(target, runtime.app.recorder.max_notification_id() or 0)
        from salur_cases.projections.queries import wait_for_position  # noqa: PLC0415 - projections load lazily

        if not wait_for_position(runtime, target, timeout=READ_WAIT_SECONDS):
            return False
        with self._lock:
            self.reached = max(self.reached, target)
        return True


class TokenBucket:
    """A token bucket per key (a client's address): ``burst`` requests at once, refilled at ``per_minute``."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> int:
        """0 when a request may pass (and takes a token), else the whole seconds until one may."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            wait = 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class ApiContext:
    """The process-wide state of one API app."""

    runtime: Runtime
    positions: Positions = field(default_factory=Positions)
    public_limit: TokenBucket = field(default_factory=lambda: TokenBucket(per_minute=20, burst=10))
    max_ready_lag: int = 1000

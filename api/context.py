"""What the API's handlers share: the runtime, read-your-writes positions, the self-check's rate limit."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from salur_cases.api.reads import Lookups
from salur_cases.api.shared import Board
from salur_cases.runtime import Runtime

READ_WAIT_SECONDS = 5.0
"""How long a read waits for the projections to reach the position it asks for (on the standby, when
reads go to one: the projections' position is replayed there in the same transaction as their rows)."""


class Positions:
    """Read-your-writes over the server's board: the last position written, the highest known applied."""

    def __init__(self, board: Board) -> None:
        self.board = board

    def wrote(self, position: int | None) -> None:
        """Remember a write's last position."""
        if position and position > self.board.written:
            self.board.raise_positions(written=position)

    def wait(self, runtime: Runtime, wanted: int | None) -> bool:
        """Wait (at most 5 s) for the projections to hold ``wanted`` (default: the server's last write)."""
        target = self._pending(runtime, wanted)
        if target is None:
            return True
        from salur_cases.projections.queries import wait_for_position  # noqa: PLC0415 - projections load lazily

        if not wait_for_position(runtime, target, timeout=READ_WAIT_SECONDS):
            return False
        self.board.raise_positions(reached=target)
        return True

    async def reach(self, runtime: Runtime, wanted: int | None) -> bool:
        """``wait`` for a handler on the event loop: it sleeps without holding the loop."""
        target = self._pending(runtime, wanted)
        if target is None:
            return True
        from salur_cases.projections.queries import WAIT_STEP  # noqa: PLC0415 - projections load lazily
        from salur_cases.projections.runner import position  # noqa: PLC0415

        deadline = time.monotonic() + READ_WAIT_SECONDS
        while position(runtime, runtime.reader) < target:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(WAIT_STEP)
        self.board.raise_positions(reached=target)
        return True

    def _pending(self, runtime: Runtime, wanted: int | None) -> int | None:
        """The position still to wait for; None when the projections are known to hold it."""
        target = self.board.written if wanted is None else wanted
        if target <= self.board.reached:
            return None
        if wanted is not None:  # a position nobody wrote yet cannot be waited for
            target = min(target, runtime.app.recorder.max_notification_id() or 0)
        return target


@dataclass(frozen=True)
class RateLimit:
    """The self-check's budget per client address: ``burst`` requests at once, refilled at ``per_minute``."""

    per_minute: float = 20
    burst: int = 10

    def take(self, board: Board, client: str) -> int:
        """0 when ``client`` may pass (and takes a token), else the whole seconds until it may."""
        return board.take(client, self.per_minute, self.burst)


@dataclass
class ApiContext:
    """The state of one API app: its runtime, and the board it shares with the server's other workers."""

    runtime: Runtime
    board: Board
    public_limit: RateLimit = field(default_factory=RateLimit)
    max_ready_lag: int = 1000
    positions: Positions = field(init=False)
    lookups: Lookups = field(init=False)

    def __post_init__(self) -> None:
        self.positions = Positions(self.board)
        self.lookups = Lookups(self.runtime)

"""How far the demo's build has come: written by the build's thread, read by the server meanwhile."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class BuildProgress:
    """The step under way (its number, of ``steps``, and its line of the story), and whether it is done.

    ``failed`` holds the error's class name when the build stopped; the server then keeps answering 503.
    """

    steps: int
    step: int = 0
    label: str = ""
    ready: bool = False
    failed: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, step: int, label: str) -> None:
        """Step ``step`` (from 1) has begun."""
        with self._lock:
            self.step, self.label = step, label

    def finish(self) -> None:
        """The city is built and the read models caught up."""
        with self._lock:
            self.step, self.ready = self.steps, True

    def fail(self, error: BaseException) -> None:
        """The build stopped with ``error``."""
        with self._lock:
            self.failed = type(error).__name__

    @property
    def percent(self) -> int:
        """Steps finished, in percent (100 only when ready)."""
        if self.ready:
            return 100
        return min(99, round(100 * max(0, self.step - 1) / self.steps)) if self.steps else 0

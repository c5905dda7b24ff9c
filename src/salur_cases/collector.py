"""Pausing Python's cyclic garbage collector through bulk work.

A bulk write (an import, a bulk command, a projection batch) makes hundreds of thousands of
short-lived objects (rows, events, aggregates) that reference counting frees as soon as they are
done with. The cyclic collector, which runs every few hundred allocations, would walk them (and
everything else still alive) again and again: a sixth of a projection rebuild's CPU time and of the
demo's writes, measured. Through the block the collector is paused; a reference cycle made
meanwhile is collected by the first collection after it. Nested blocks leave the collector to the
outermost one. The switch is process-wide, so in a threaded server another thread's block may end
the pause early: that only costs speed, never memory that could not be collected later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (re-enabled after it if it was enabled)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

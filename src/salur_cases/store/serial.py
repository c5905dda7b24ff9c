"""One at a time per name: the lock a recorder's `serialised` takes in this process.

Threads of one process (a server's request threads, applications opened on the same database) wait
here, so at most one of them per name waits on the database's own lock (PostgreSQL's advisory lock,
held on a connection of the pool) and the others hold no connection while they wait.
"""

from __future__ import annotations

import threading

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def process_lock(key: str) -> threading.Lock:
    """The lock of `key` in this process (made on first use; one per database and name, few)."""
    with _guard:
        return _locks.setdefault(key, threading.Lock())

"""What a benchmark's processes cost, read from /proc (Linux): CPU-seconds and resident memory.

`CpuMeter` samples a process tree while it runs: every process below a root pid, and the PostgreSQL
backends that serve them (a backend is matched to its client through the TCP port of the client's
socket, from pg_stat_activity and /proc/net/tcp). Each process's CPU time (user + system) is kept at its
last sample, so a process that exits between two samples loses at most one interval's CPU time.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import psycopg

__all__ = ["CpuMeter", "children", "descendants", "rss_mib"]

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
INTERVAL_S = 0.2


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/pid/stat after the command name (field 3 onward), or None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU-seconds of ``pid`` so far (None when it is gone)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else None


def rss_mib(pid: int) -> float | None:
    """Resident memory of ``pid`` in MiB (None when it is gone)."""
    fields = _stat(pid)
    return round(int(fields[21]) * PAGE / 2**20, 1) if fields else None


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            found[int(entry.name)] = int(fields[1])
    return found


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    return sorted(child for child, parent in _parents().items() if parent == pid)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parents = _parents()
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def _local_ports(pids: list[int]) -> dict[int, int]:
    """TCP local port -> the pid (of ``pids``) that holds the socket."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
        except OSError:
            continue
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                ports[int(fields[1].rsplit(":", 1)[1], 16)] = inodes[fields[9]]
    return ports


class CpuMeter:
    """CPU-seconds per role of a process tree and of the PostgreSQL backends serving it.

    ``role(pid, root)`` names a process of the tree; a backend is named ``"<role> backend"`` after
    its client. ``database_url`` (PostgreSQL) is where pg_stat_activity is read; None: no backends.
    """

    def __init__(self, role: Callable[[int, int], str], database_url: str | None) -> None:
        self.role = role
        self.database_url = database_url
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, root: int) -> None:
        """Sample the tree below ``root`` until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, args=(root,), daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU-seconds per role, rounded."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        totals: dict[str, float] = defaultdict(float)
        for role, seconds in self.last.values():
            totals[role] += seconds
        return {role: round(seconds, 1) for role, seconds in sorted(totals.items())}

    def _run(self, root: int) -> None:
        conn = psycopg.connect(self.database_url, autocommit=True) if self.database_url else None
        try:
            while not self._stop.is_set():
                self._sample(root, conn)
                self._stop.wait(INTERVAL_S)
            self._sample(root, conn)
        finally:
            if conn is not None:
                conn.close()

    def _sample(self, root: int, conn: psycopg.Connection[tuple[object, ...]] | None) -> None:
        tree = descendants(root)
        roles = {pid: self.role(pid, root) for pid in tree}
        for pid, role in roles.items():
            if (seconds := cpu_seconds(pid)) is not None:
                self.last[pid] = (role, seconds)
        if conn is None:
            return
        backends = conn.execute(
            "SELECT pid, client_port FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND client_port IS NOT NULL AND pid <> pg_backend_pid()"
        ).fetchall()
        clients = _local_ports(tree)
        for backend, port in backends:
            client = clients.get(int(port))  # type: ignore[call-overload]
            if client is not None and (seconds := cpu_seconds(int(backend))) is not None:  # type: ignore[call-overload]
                self.last[-int(backend)] = (f"{roles[client]} backend", seconds)  # type: ignore[call-overload]

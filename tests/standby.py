"""PostgreSQL clusters made on this machine for tests and benchmarks: a scratch primary, and a hot
standby of any primary that allows replication connections from 127.0.0.1.

The server binaries come from ``/usr/lib/postgresql/*/bin`` (the newest version), or from
``SALUR_PG_BIN``. PostgreSQL refuses to run as root: as root, every server command runs as the
``postgres`` user (``runuser``), and the clusters' directories belong to it. Each cluster lives in a
temporary directory, listens on a free loopback port (and a socket in its own directory), and is
stopped and removed when its context ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = ["Cluster", "Unavailable", "pg_bin", "scratch_primary", "standby_of"]

SETTINGS_A_STANDBY_COPIES = (
    "shared_buffers",
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
"""A hot standby refuses to start with any of these but the first below the primary's; its memory is
the primary's too, so that reads on either compare."""
_HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries, or no way to run them here."""


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its data directory and loopback port."""

    data: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of ``database`` on this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def pg_bin() -> Path:
    """The directory of PostgreSQL's server binaries."""
    given = os.environ.get("SALUR_PG_BIN", "").strip()
    found = [Path(given)] if given else list(Path("/usr/lib/postgresql").glob("*/bin"))
    found = [p for p in found if (p / "pg_ctl").exists()]
    if not found:
        raise Unavailable("no PostgreSQL server binaries (set SALUR_PG_BIN)")
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def _command(*args: str | Path) -> list[str]:
    """A server command, as the postgres user when this process is root."""
    command = [str(a) for a in args]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(*args: str | Path) -> None:
    result = subprocess.run(_command(*args), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise Unavailable(f"{Path(str(args[0])).name} failed: {result.stderr.strip()[-500:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _home() -> Iterator[Path]:
    """A temporary directory the server's user owns, removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="salur-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(home, "postgres", "postgres")
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def _running(data: Path, port: int, settings: dict[str, str]) -> Iterator[Cluster]:
    """Start the cluster in ``data`` with ``settings`` appended to its configuration; stop it after."""
    lines = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{data.parent}'",
        "shared_buffers": "'32MB'",
        "fsync": "off",
        **settings,
    }
    config = "".join(f"{name} = {value}\n" for name, value in lines.items())
    _run("sh", "-c", 'printf "%s" "$1" >> "$2"', "sh", config, data / "postgresql.conf")
    _run(pg_bin() / "pg_ctl", "start", "-w", "-t", "120", "-D", data, "-l", data.parent / "server.log")
    try:
        yield Cluster(data, port)
    finally:
        subprocess.run(
            _command(pg_bin() / "pg_ctl", "stop", "-m", "immediate", "-D", data),
            capture_output=True,
            check=False,
        )


@contextmanager
def scratch_primary() -> Iterator[Cluster]:
    """A new, empty primary that streams to standbys (trust authentication, loopback only)."""
    with _home() as home:
        data = home / "primary"
        _run(pg_bin() / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with _running(data, _free_port(), {"wal_level": "replica", "max_wal_senders": "4"}) as cluster:
            yield cluster


@contextmanager
def standby_of(primary_port: int, host: str = "127.0.0.1") -> Iterator[Cluster]:
    """A hot standby of the primary on ``host:primary_port``, streaming from it.

    ``pg_basebackup -R`` copies the whole cluster and writes the connection the standby follows.
    """
    with psycopg.connect(f"postgresql://postgres@{host}:{primary_port}/postgres", connect_timeout=5) as conn:
        copied = {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in SETTINGS_A_STANDBY_COPIES
        }
    with _home() as home:
        data = home / "standby"
        _run(
            pg_bin() / "pg_basebackup",
            *("-h", host, "-p", str(primary_port), "-U", "postgres"),
            *("-D", data, "-X", "stream", "-c", "fast", "-R", "--no-sync"),
        )
        for name, text in (("postgresql.conf", ""), ("pg_ident.conf", ""), ("pg_hba.conf", _HBA)):
            if not (data / name).exists():  # a Debian cluster keeps its configuration in /etc
                _run("sh", "-c", 'printf "%s" "$1" > "$2"', "sh", text, data / name)
        with _running(data, _free_port(), {"hot_standby": "on", **copied}) as cluster:
            _wait_until_streaming(cluster)
            yield cluster


def _wait_until_streaming(cluster: Cluster, timeout: float = 60.0) -> None:
    """Wait until the standby answers queries and its WAL receiver streams."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(cluster.url(), connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT pg_is_in_recovery(), count(*) FROM pg_stat_wal_receiver"
                ).fetchone()
                if row == (True, 1):
                    return
        except psycopg.OperationalError:
            pass
        if time.monotonic() >= deadline:
            raise Unavailable("the standby did not start streaming")
        time.sleep(0.2)

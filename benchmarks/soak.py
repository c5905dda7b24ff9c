"""Soak test of the API's memory: `salur serve --workers 2` under mixed load for a long run.

On a fresh schema of SALUR_TEST_DATABASE_URL's database (dropped afterwards), `salur serve --workers 2`
runs on loopback, and client threads of this process drive it over keep-alive connections until the
time is up: reads (lookups by NIK, households, their events, explanations), writes (households
proposed, some with an `Idempotency-Key` and replayed) and imports (a small registrations file now and
then). Every minute it prints each worker's resident memory (RSS, from /proc) and the requests so far.

The server runs as in production: personal data encrypted (`SALUR_ENCRYPTION_KEY`), JSON logs.

Target: each worker under 400 MiB, and flat after warm-up. The first third of the run (at least one
minute) is warm-up, while the server's bounded caches fill; flat means that from there to the end no
worker's RSS grows by 5 % or more. Ends with one JSON line whose `ok` checks both and that no request
failed.

Usage: python benchmarks/soak.py [--minutes 30] [--clients 4]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import itertools
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from api_load import KEYS, SEALED, _free_port, _wait_ready, nik, no_kk
from processes import children, rss_mib

from salur_cases import wilayah
from salur_cases.api.auth import Principal, issue_token
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.migrate import upgrade
from salur_cases.runtime import Runtime
from salur_cases.settings import DEFAULT_TEST_DATABASE_URL, load_settings

RSS_LIMIT_MIB = 400.0
GROWTH_SHARE = 0.05
WORKERS = 2
IMPORT_ROWS = 40
MAX_REQUESTS_PER_CLIENT_MINUTE = 30_000
"""A client's loop is bounded by time and by this many requests a minute."""


class Load:
    """The households written so far and the tallies of every answer, shared by the client threads."""

    def __init__(self, token: str, seed: int = 2020) -> None:
        self.token = token
        self.next_household = itertools.count()
        self.written: list[int] = []
        self.answers: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.seed = seed
        self.by_kecamatan = [
            sorted((k for k in wilayah.all_kelurahan() if k.kecamatan == kecamatan), key=lambda k: k.code)
            for kecamatan in sorted(wilayah.all_kecamatan(), key=lambda k: k.code)
        ]

    def place(self, n: int) -> wilayah.Kelurahan:
        """Household ``n``'s kelurahan, in the kecamatan its No. KK names."""
        within = self.by_kecamatan[n % 6]
        return within[n // 6 % len(within)]

    def household(self, n: int) -> dict[str, Any]:
        """The proposal of household ``n`` as the API takes it."""
        place = self.place(n)
        return {
            "no_kk": no_kk(n),
            "source": {"kind": "KELURAHAN"},
            "address": {"kecamatan": place.kecamatan.code, "kelurahan": place.code, "rw": "01", "rt": "02"},
            "members": [
                {"nik": nik(n, 0), "name": f"Kepala {n}", "relationship": "KEPALA KELUARGA"},
                {"nik": nik(n, 1), "name": f"Istri {n}", "relationship": "ISTRI"},
            ],
        }

    def registrations(self, numbers: list[int]) -> bytes:
        """A registrations CSV of these households."""
        buffer = io.StringIO()
        rows = csv.writer(buffer)
        rows.writerow(["no_kk", "nik", "nama", "hubungan", "kecamatan", "kelurahan", "rw", "rt", "sumber"])
        for n in numbers:
            place = self.place(n)
            for member, (name, relation) in enumerate(
                ((f"Kepala {n}", "KEPALA KELUARGA"), (f"Istri {n}", "ISTRI"))
            ):
                rows.writerow(
                    [
                        no_kk(n),
                        nik(n, member),
                        name,
                        relation,
                        place.kecamatan.code,
                        place.code,
                        "03",
                        "04",
                        "DTKS",
                    ]
                )
        return buffer.getvalue().encode()

    def tally(self, kind: str, status: int, expected: tuple[int, ...]) -> None:
        """Count an answer; one outside ``expected`` is an error."""
        with self.lock:
            self.answers[kind] += 1
            if status not in expected:
                self.errors[f"{kind} {status}"] += 1


def client(port: int, load: Load, deadline: float, number: int) -> None:
    """One client's bounded loop until ``deadline``: reads (~80%), writes (~17%), imports (~3%)."""
    rng = random.Random(load.seed + number)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    auth = {"Authorization": f"Bearer {load.token}"}
    budget = MAX_REQUESTS_PER_CLIENT_MINUTE * max(1, int((deadline - time.monotonic()) / 60) + 1)

    def send(method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, bytes]:
        connection.request(method, path, body=body or None, headers={**auth, **headers})
        response = connection.getresponse()
        return response.status, response.read()

    for _ in range(budget):
        if time.monotonic() >= deadline:
            break
        roll = rng.random()
        with load.lock:
            known = load.written[rng.randrange(len(load.written))] if load.written else None
        if roll < 0.03:
            with load.lock:
                numbers = [next(load.next_household) for _ in range(IMPORT_ROWS)]
            boundary = uuid.uuid4().hex
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="daftar.csv"\r\n'
                    "Content-Type: text/csv\r\n\r\n"
                ).encode()
                + load.registrations(numbers)
                + f"\r\n--{boundary}--\r\n".encode()
            )
            status, _ = send(
                "POST",
                "/api/v1/imports/registrations",
                body,
                **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            load.tally("import", status, (200, 201))
            if status in (200, 201):
                with load.lock:
                    load.written.extend(numbers)
        elif roll < 0.20 or known is None:
            with load.lock:
                n = next(load.next_household)
            body = json.dumps(load.household(n)).encode()
            key = {"Idempotency-Key": uuid.uuid4().hex} if rng.random() < 0.5 else {}
            status, _ = send(
                "POST", "/api/v1/households", body, **{"Content-Type": "application/json", **key}
            )
            load.tally("write", status, (201,))
            if key and status == 201:  # a client's retry: the first answer again, nothing written
                again, _ = send(
                    "POST", "/api/v1/households", body, **{"Content-Type": "application/json", **key}
                )
                load.tally("replay", again, (201,))
            if status == 201:
                with load.lock:
                    load.written.append(n)
        elif roll < 0.55:
            status, _ = send(
                "POST",
                "/api/v1/lookup",
                json.dumps({"nik": nik(known, rng.randrange(2))}).encode(),
                **{"Content-Type": "application/json"},
            )
            load.tally("lookup", status, (200,))
        elif roll < 0.80:
            status, _ = send("GET", f"/api/v1/households/{no_kk(known)}")
            load.tally("household", status, (200,))
        else:
            status, _ = send("GET", f"/api/v1/households/{no_kk(known)}/events?limit=20")
            load.tally("events", status, (200,))
    connection.close()


def workers_of(server: int) -> list[int]:
    """The server's worker processes (spawned by uvicorn's supervisor)."""
    found = []
    for pid in children(server):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def growth(samples: list[float], warm_up: int) -> float:
    """How much RSS grew from the end of warm-up (the sample of minute ``warm_up``) to the end, as a share."""
    settled = samples[min(warm_up, len(samples)) - 1]
    return samples[-1] / settled - 1 if settled else 0.0


def drive(port: int, server: int, minutes: int, clients: int) -> tuple[dict[str, list[float]], Load]:
    """Run the clients for ``minutes``; each worker's and the server's RSS at the end of every minute."""
    workers = workers_of(server)
    token = issue_token(bytes.fromhex(KEYS["SALUR_SECRET_KEY"]), Principal("soak", Role.DINSOS), 24 * 3600)
    load = Load(token)
    started = time.monotonic()
    deadline = started + minutes * 60
    threads = [
        threading.Thread(target=client, args=(port, load, deadline, i), daemon=True) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    rss: dict[str, list[float]] = {f"worker-{i + 1}": [] for i in range(len(workers))}
    rss["server"] = []
    for minute in range(1, minutes + 1):
        time.sleep(max(0.0, started + minute * 60 - time.monotonic()))
        for name, pid in [*zip(rss, workers, strict=False), ("server", server)]:
            rss[name].append(rss_mib(pid) or 0.0)
        with load.lock:
            done, failed = sum(load.answers.values()), sum(load.errors.values())
        memory = ", ".join(f"{name} {samples[-1]:.1f} MiB" for name, samples in rss.items())
        print(f"minute {minute:3}: {memory}; {done} requests, {failed} errors", flush=True)
    for thread in threads:
        thread.join(timeout=120)
    return rss, load


def main() -> int:
    """Serve on a fresh schema, drive for --minutes, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    base = os.environ.get("SALUR_TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL
    schema = f"bench_soak_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    env = {
        **os.environ,
        **KEYS,
        **SEALED,
        "SALUR_DATABASE_URL": f"{base}?schema={schema}",
        "SALUR_LOG_FORMAT": "json",
    }
    for unused in ("SALUR_READ_DATABASE_URL", "SALUR_ALLOW_PLAINTEXT"):
        env.pop(unused, None)
    port = _free_port()
    server = None
    log = tempfile.NamedTemporaryFile(prefix="salur-soak-", suffix=".log", delete=False)  # noqa: SIM115
    print(f"server log: {log.name}", flush=True)
    try:
        runtime = Runtime(load_settings(env))
        upgrade(runtime)
        runtime.close()
        server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "salur_cases", "serve", "--port", str(port), "--workers", str(WORKERS)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        _wait_ready(port, server)
        rss, load = drive(port, server.pid, args.minutes, args.clients)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    warm_up = max(1, args.minutes // 3)
    worker_rss = {name: samples for name, samples in rss.items() if name.startswith("worker")}
    peak = max((max(samples) for samples in worker_rss.values() if samples), default=0.0)
    grown = {name: round(growth(samples, warm_up), 4) for name, samples in worker_rss.items() if samples}
    is_flat = all(share < GROWTH_SHARE for share in grown.values())
    requests = sum(load.answers.values())
    print(f"answers: {dict(load.answers)}; errors: {dict(load.errors)}")
    ok = len(worker_rss) == WORKERS and peak < RSS_LIMIT_MIB and is_flat and not load.errors and requests > 0
    print(
        json.dumps(
            {
                "benchmark": "soak",
                "minutes": args.minutes,
                "workers": len(worker_rss),
                "clients": args.clients,
                "requests": requests,
                "requests_by_kind": dict(load.answers),
                "errors": sum(load.errors.values()),
                "rss_mib_per_minute": rss,
                "peak_worker_rss_mib": peak,
                "warm_up_minutes": warm_up,
                "growth_after_warm_up": grown,
                "flat_after_warm_up": is_flat,
                "rss_limit_mib": RSS_LIMIT_MIB,
                "ok": ok,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

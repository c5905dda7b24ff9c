"""Benchmark of the HTTP API under load: POST /api/v1/lookup and GET /api/v1/households/{no_kk}/explain.

Runs with no arguments against PostgreSQL (SALUR_DATABASE_URL when it is PostgreSQL, else
SALUR_TEST_DATABASE_URL, in schema `bench_api_load`). A store with fewer than 100,000 households is
first filled through the application's bulk commands: 110,000 households of two members proposed by
their kelurahan, an outside authority's rosters for two tahap of BST_KEMENSOS (60,000 households, then
60,000 of which 10,000 new: 10,000 of tahap 1's are left out), tahap 1 paid. Then `salur serve`
runs on loopback and a separate process drives it over keep-alive connections, a bounded number of
requests per endpoint: lookups of random members' NIKs, and explanations of tahap 1 -> 2 for random
households on the rosters. The whole run is done twice, each on its own schema: with personal data
in clear (`SALUR_ALLOW_PLAINTEXT=1`) and encrypted (`SALUR_ENCRYPTION_KEY`). Then the plain load again
with reads on a hot standby (`SALUR_READ_DATABASE_URL`) made for the run by `pg_basebackup` of the
primary (`tests/standby.py`; the primary must accept replication connections from 127.0.0.1;
`--no-standby` skips it), reported beside the primary's. Prints requests/s, p50, p99 and the
CPU-milliseconds `salur serve` (its workers included) spent a request of each: a machine loaded by
other work inflates latency far more than that. Ends with one JSON line (`encrypted_*` and `standby_*`
for those runs). Targets: lookup >= 2,500 requests/s with p99 < 10 ms (goal 3,000); explain p99 < 50
ms; encrypted lookups at least 90 % of the plain ones' requests/s.

Usage: python benchmarks/api_load.py [--scale 1.0] [--no-standby]   (--scale 0.1: 11,000 households)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvloop
from processes import cpu_seconds, descendants

from salur_cases.domain.commands import DefineProgram, OpenTahap, ProposeHousehold, RecordPayment
from salur_cases.processes import allocation, disbursement, programs, registration

LOOKUPS = 12_000
EXPLAINS = 3_000
CONNECTIONS = 16
WARMUP = 500
LOOKUP_RPS_TARGET = 2_500.0
LOOKUP_P99_MS = 10.0
EXPLAIN_P99_MS = 50.0
ENCRYPTED_SHARE = 0.9
"""Encrypted lookups must keep this share of the plain ones' requests/s (at most 10 % slower)."""
SCHEMA = "bench_api_load"
PROGRAM = "BST_KEMENSOS"
KEYS = {
    "SALUR_ID_KEY": "41ebaf5c9044ea6efc5c1731dc31148cef9ae5d2f42de1084a9ba18b7379cb22",
    "SALUR_SECRET_KEY": "83dd1b96956b09a06dcff7464021778ca255fa6d38704633992222910a027d85",
    "SALUR_SIGNING_KEY": "caaf5f4f110f01351ece29741eea9b765f0973f190120d4fec97568c59a3b4b7",
}
SEALED = {"SALUR_ENCRYPTION_KEY": "9d0c3f7a5be2418e66a1d7c0f43b92e85a6d1c2b7e904f38a1c5d6e7f8091a2b"}
PLAIN = {"SALUR_ALLOW_PLAINTEXT": "1"}


@dataclass(frozen=True)
class Plan:
    """The store at a scale: 110,000 households at 1.0, two rosters of 60,000 overlapping by 50,000."""

    scale: float
    sealed: bool

    @property
    def households(self) -> int:
        """Households proposed."""
        return round(110_000 * self.scale)

    @property
    def least(self) -> int:
        """Fewer households than this in the schema: rebuild it."""
        return round(100_000 * self.scale)

    @property
    def roster_1(self) -> range:
        """Tahap 1's roster (paid)."""
        return range(round(60_000 * self.scale))

    @property
    def roster_2(self) -> range:
        """Tahap 2's roster."""
        return range(round(10_000 * self.scale), round(70_000 * self.scale))

    @property
    def schema(self) -> str:
        """One schema per scale and encryption."""
        suffix = "" if self.scale == 1 else f"_{round(self.scale * 1000)}"
        return f"{SCHEMA}{'_sealed' if self.sealed else ''}{suffix}"


def no_kk(n: int) -> str:
    """Household n's No. KK: kecamatan, issue date (a block of 59,994 households per day), serial."""
    kec, serial, block = n % 6 + 1, n // 6 % 9999 + 1, n // 59_994
    return f"32710{kec}{block + 1:02d}0315{serial:04d}"


def nik(n: int, member: int) -> str:
    """Member ``member`` (0 or 1; 1 is a woman) of household n."""
    kec, serial, block = n % 6 + 1, n // 6 % 9999 + 1, n // 59_994
    return f"32710{kec}{block + 1 + 40 * member:02d}{member + 1:02d}{70 + 5 * member:02d}{serial:04d}"


def database_url(plan: Plan) -> str:
    """The PostgreSQL URL (SALUR_DATABASE_URL when PostgreSQL, else SALUR_TEST_DATABASE_URL), with the
    plan's schema."""
    from salur_cases.runtime import split_schema  # noqa: PLC0415

    configured = os.environ.get("SALUR_DATABASE_URL", "").strip()
    if not configured.startswith("postgres"):
        configured = (
            os.environ.get("SALUR_TEST_DATABASE_URL", "").strip() or "postgresql://127.0.0.1:5432/test"
        )
    base = split_schema(configured)[0]
    return f"{base}{'&' if '?' in base else '?'}schema={plan.schema}"


def environment(plan: Plan) -> dict[str, str]:
    """The server's and the builder's environment."""
    chosen = SEALED if plan.sealed else PLAIN
    env = {k: v for k, v in os.environ.items() if k not in ("SALUR_ENCRYPTION_KEY", "SALUR_ALLOW_PLAINTEXT")}
    return {**env, "SALUR_DATABASE_URL": database_url(plan), "SALUR_LOG_FORMAT": "json", **KEYS, **chosen}


# --- the data ----------------------------------------------------------------------------------------


def prepare(plan: Plan) -> int:
    """Make sure the store holds the benchmark's households and the projections are caught up; their count."""
    from sqlalchemy import text  # noqa: PLC0415

    from salur_cases.projections.migrate import upgrade  # noqa: PLC0415
    from salur_cases.projections.runner import catch_up  # noqa: PLC0415
    from salur_cases.runtime import Runtime  # noqa: PLC0415
    from salur_cases.settings import load_settings  # noqa: PLC0415

    runtime = Runtime(load_settings(environment(plan)))
    try:
        upgrade(runtime)
        with runtime.engine.connect() as conn:
            households = int(conn.execute(text("SELECT count(*) FROM household")).scalar() or 0)
        if households < plan.least:
            if runtime.app.recorder.max_notification_id():
                runtime.close()
                _drop_schema(plan)
                runtime = Runtime(load_settings(environment(plan)))
                upgrade(runtime)
            _build(runtime, plan)
        started = time.perf_counter()
        catch_up(runtime)
        print(f"projections caught up in {time.perf_counter() - started:.1f} s", flush=True)
        with runtime.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM household")).scalar() or 0)
    finally:
        runtime.close()


def _drop_schema(plan: Plan) -> None:
    import psycopg  # noqa: PLC0415

    from salur_cases.runtime import split_schema  # noqa: PLC0415

    url, schema = split_schema(database_url(plan))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _build(runtime: Any, plan: Plan) -> None:
    from salur_cases import wilayah  # noqa: PLC0415
    from salur_cases.domain.actor import Actor  # noqa: PLC0415
    from salur_cases.domain.parsing import parse_time  # noqa: PLC0415
    from salur_cases.domain.vocabulary import BudgetSource, PaymentStatus, ProgramGroup, Role  # noqa: PLC0415

    app = runtime.app
    started = time.perf_counter()
    by_kecamatan = {
        k.code: [x for x in wilayah.all_kelurahan() if x.kecamatan == k] for k in wilayah.all_kecamatan()
    }
    kecamatans = sorted(by_kecamatan)
    kelurahan = Actor("operator-kelurahan", Role.KELURAHAN)
    for start in range(0, plan.households, 5000):
        proposals = []
        for n in range(start, min(plan.households, start + 5000)):
            kec = kecamatans[n % 6]
            kel = by_kecamatan[kec][n // 6 % len(by_kecamatan[kec])]
            proposals.append(
                ProposeHousehold.from_data(
                    {
                        "no_kk": no_kk(n),
                        "source": {"kind": "KELURAHAN"},
                        "address": {"kecamatan": kec, "kelurahan": kel.code, "rw": "01", "rt": "02"},
                        "members": [
                            {"nik": nik(n, 0), "name": f"Kepala {n}", "relationship": "KEPALA KELUARGA"},
                            {"nik": nik(n, 1), "name": f"Istri {n}", "relationship": "ISTRI"},
                        ],
                    }
                )
            )
        outcome = registration.register_many(app, proposals, kelurahan)
        assert not outcome.rejected, outcome.rejected[:3]
    print(f"{plan.households} households proposed in {time.perf_counter() - started:.1f} s", flush=True)
    kemensos = Actor("kemensos", Role.DINSOS)
    programs.define_program(
        app, DefineProgram(PROGRAM, "BST Kemensos", BudgetSource.APBN, ProgramGroup.NON_DTKS), kemensos
    )
    for number, (starts, ends) in enumerate(
        ((date(2020, 5, 1), date(2020, 5, 31)), (date(2020, 6, 1), date(2020, 6, 30))), start=1
    ):
        programs.open_tahap(
            app,
            PROGRAM,
            OpenTahap(
                number,
                starts,
                ends,
                len(plan.roster_1),
                600_000,
                600_000 * len(plan.roster_1),
                f"KEP-BST-{number}",
            ),
            kemensos,
        )
    allocation.allocate_roster(app, PROGRAM, 1, "KEMENSOS", [no_kk(n) for n in plan.roster_1], kemensos)
    paid_at = parse_time("2020-05-15T10:00", "paid_at")
    items = [
        RecordPayment(no_kk(n), 600_000, paid_at.isoformat(), PaymentStatus.PAID, f"POS-{n}")
        for n in plan.roster_1
    ]
    disbursement.record_payments(app, PROGRAM, 1, items, kemensos, as_fact=True)
    allocation.allocate_roster(app, PROGRAM, 2, "KEMENSOS", [no_kk(n) for n in plan.roster_2], kemensos)
    events = app.recorder.max_notification_id()
    print(f"store built: {events} events in {time.perf_counter() - started:.1f} s", flush=True)


# --- the load ----------------------------------------------------------------------------------------


async def _drive(port: int, requests: list[bytes], connections: int) -> tuple[float, list[float], int]:
    """Send every request (its bytes, encoded beforehand) over ``connections`` keep-alive connections;
    (seconds, latencies in ms, errors). The client shares the machine's cores with the server: it reads
    an answer's head in one call and its length with one search."""
    pending = iter(requests)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in pending:
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = _CONTENT_LENGTH.search(head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                latencies.append((time.perf_counter() - sent) * 1000)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, latencies, errors


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def server_cpu_seconds(server: int) -> float:
    """CPU-seconds spent so far by `salur serve` and its workers."""
    return sum(cpu_seconds(pid) or 0.0 for pid in descendants(server))


def _request(token: str, method_and_target: str, body: bytes = b"") -> bytes:
    """The bytes of one HTTP/1.1 request with the bearer token."""
    head = (
        f"{method_and_target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def drive(port: int, server: int, token: str, households: int, plan: Plan, out: Any) -> None:
    """The load process: warm up, then a bounded run per endpoint; results on ``out``. It runs on uvloop,
    as the server does: the client's CPU comes out of the same cores."""
    rng = random.Random(2020)
    lookups = [
        _request(
            token,
            "POST /api/v1/lookup",
            json.dumps({"nik": nik(rng.randrange(households), rng.randrange(2))}).encode(),
        )
        for _ in range(LOOKUPS + WARMUP)
    ]
    on_rosters = range(plan.roster_1.start, plan.roster_2.stop)
    explains = [
        _request(
            token,
            f"GET /api/v1/households/{no_kk(rng.choice(on_rosters))}/explain"
            f"?program={PROGRAM}&from_tahap=1&to_tahap=2",
        )
        for _ in range(EXPLAINS + WARMUP)
    ]
    uvloop.run(_drive(port, lookups[:WARMUP] + explains[:WARMUP], CONNECTIONS))
    results = {}
    for name, requests in (("lookup", lookups[WARMUP:]), ("explain", explains[WARMUP:])):
        spent = server_cpu_seconds(server)
        seconds, latencies, errors = uvloop.run(_drive(port, requests, CONNECTIONS))
        spent = server_cpu_seconds(server) - spent
        latencies.sort()
        results[name] = {
            "requests": len(latencies),
            "errors": errors,
            "seconds": round(seconds, 2),
            "rps": round(len(latencies) / seconds, 1),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "server_cpu_ms": round(spent * 1000 / len(latencies), 3),
        }
    out.put(results)


# --- the run -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit("salur serve exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("salur serve did not become ready")


def measure(plan: Plan, env: dict[str, str], token: str, households: int) -> dict[str, Any]:
    """Serve with ``env``, drive the load from another process, stop; the figures of each endpoint."""
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "salur_cases", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, server)
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        driver = context.Process(
            target=drive, args=(port, server.pid, token, min(households, plan.households), plan, out)
        )
        driver.start()
        results: dict[str, Any] = out.get(timeout=1800)
        driver.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"households": households, **results}


def on_standby(plan: Plan, token: str, households: int) -> dict[str, Any] | str:
    """The same load with reads on a hot standby of the primary made for the run (removed after);
    the reason instead when no standby can be made here."""
    from salur_cases.runtime import split_schema  # noqa: PLC0415 - the load process imports none of these
    from tests.standby import Unavailable, standby_of  # noqa: PLC0415 - the cluster helper lives in tests/

    url, _ = split_schema(database_url(plan))
    primary = urlsplit(url)
    started = time.perf_counter()
    try:
        with standby_of(primary.port or 5432, primary.hostname or "127.0.0.1") as standby:
            print(f"standby made in {time.perf_counter() - started:.0f} s (port {standby.port})", flush=True)
            env = {**environment(plan), "SALUR_READ_DATABASE_URL": standby.url(primary.path.lstrip("/"))}
            return measure(plan, env, token, households)
    except Unavailable as exc:
        return str(exc)


def report(name: str, results: dict[str, Any]) -> None:
    """Print one run's figures."""
    for endpoint in ("lookup", "explain"):
        figures = results[endpoint]
        print(
            f"{name:9} {endpoint:8} {figures['requests']:6} requests in {figures['seconds']:6.2f} s: "
            f"{figures['rps']:8.1f} req/s, "
            f"p50 {figures['p50_ms']:6.2f} ms, p99 {figures['p99_ms']:6.2f} ms, {figures['errors']} errors, "
            f"server CPU {figures['server_cpu_ms']:.3f} ms a request"
        )


def _fine(run: dict[str, Any], least: int) -> bool:
    lookup, explain = run["lookup"], run["explain"]
    return bool(
        run["households"] >= least
        and lookup["errors"] == explain["errors"] == 0
        and lookup["rps"] >= LOOKUP_RPS_TARGET
        and lookup["p99_ms"] < LOOKUP_P99_MS
        and explain["p99_ms"] < EXPLAIN_P99_MS
    )


def main() -> int:
    """Measure in clear, then encrypted, then in clear with reads on a standby; report them."""
    from salur_cases.api.auth import Principal, issue_token  # noqa: PLC0415
    from salur_cases.domain.vocabulary import Role  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--no-standby", action="store_true", help="skip the run with reads on a standby")
    args = parser.parse_args()
    token = issue_token(bytes.fromhex(KEYS["SALUR_SECRET_KEY"]), Principal("bench", Role.DINSOS), 3600)
    runs: dict[str, dict[str, Any]] = {}
    for label, plan in (
        ("plain", Plan(args.scale, sealed=False)),
        ("encrypted", Plan(args.scale, sealed=True)),
    ):
        households = prepare(plan)
        print(f"{households} households in {plan.schema}", flush=True)
        runs[label] = measure(plan, environment(plan), token, households)
        report(label, runs[label])
    plain, sealed = runs["plain"], runs["encrypted"]
    share = sealed["lookup"]["rps"] / plain["lookup"]["rps"]
    print(f"encrypted lookups: {share:.1%} of the plain ones' requests/s (target >= {ENCRYPTED_SHARE:.0%})")
    plain_plan = Plan(args.scale, sealed=False)
    standby = None if args.no_standby else on_standby(plain_plan, token, plain["households"])
    if isinstance(standby, dict):
        report("standby", standby)
    elif standby is not None:
        print(f"no standby run: {standby}", flush=True)
    summary: dict[str, Any] = {"benchmark": "api_load", "scale": args.scale, "connections": CONNECTIONS}
    for prefix, run in (("", plain), ("encrypted_", sealed)):
        summary[f"{prefix}households"] = run["households"]
        for name in ("lookup", "explain"):
            for figure in ("rps", "p50_ms", "p99_ms", "server_cpu_ms"):
                summary[f"{prefix}{name}_{figure}"] = run[name][figure]
        summary[f"{prefix}errors"] = run["lookup"]["errors"] + run["explain"]["errors"]
    summary["encrypted_lookup_share"] = round(share, 3)
    if isinstance(standby, dict):
        for name in ("lookup", "explain"):
            for figure in ("rps", "p50_ms", "p99_ms", "errors"):
                summary[f"standby_{name}_{figure}"] = standby[name][figure]
    else:
        summary["standby"] = standby
    standby_fine = (
        not isinstance(standby, dict) or standby["lookup"]["errors"] == standby["explain"]["errors"] == 0
    )
    summary["ok"] = (
        _fine(plain, plain_plan.least)
        and _fine(sealed, plain_plan.least)
        and share >= ENCRYPTED_SHARE
        and standby_fine
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.standby
    sys.exit(main())

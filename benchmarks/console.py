"""Benchmark of the console: each page's HTML p95 on the demo city, served from PostgreSQL.

Runs with no arguments: builds the demo at `SALUR_BENCH_SCALE` (default 1.0, the whole city) into the
schema `bench_console_<scale>` of SALUR_TEST_DATABASE_URL's database (kept, so a second run only
measures), adds three console accounts, starts `salur serve` on loopback and signs in through the
forms like a browser (session and CSRF cookies). Each page is then fetched one request at a time
(`REQUESTS` times, after a warm-up): the officer's search, household pages of random households
(members, programs, timeline, explanation), their letters, and the inspector's budget, anomalies
(unfiltered and filtered), chain and downloads pages. No browser is needed for the timing.
Prints p50 and p95 per page and ends with one JSON line. Target: every page's p95 < 100 ms.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
import psycopg

REQUESTS = int(os.environ.get("SALUR_BENCH_REQUESTS", "100"))
WARMUP = 5
P95_TARGET_MS = 100.0
PASSWORD = "bench console password"  # noqa: S105 - a benchmark account on its own schema
KEYS = {
    "SALUR_ID_KEY": "bench-console-id-key-0123456789abcdef012345678",
    "SALUR_SECRET_KEY": "bench-console-secret-key-0123456789abcdef0123",
    "SALUR_ALLOW_PLAINTEXT": "1",
}


def scale() -> float:
    """The demo's scale (SALUR_BENCH_SCALE, default 1.0)."""
    return float(os.environ.get("SALUR_BENCH_SCALE", "1.0"))


def environment() -> dict[str, str]:
    """The builder's and the server's environment: the benchmark's own schema."""
    base = os.environ.get("SALUR_TEST_DATABASE_URL", "").strip() or "postgresql://127.0.0.1:5432/test"
    schema = f"bench_console_{str(scale()).replace('.', '_')}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return {**os.environ, "SALUR_DATABASE_URL": f"{base}?schema={schema}", "SALUR_LOG_FORMAT": "json", **KEYS}


def salur(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command line."""
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "salur_cases", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def prepare(env: dict[str, str]) -> list[str]:
    """Build the demo unless the schema holds it, add the accounts; a sample of household ids."""
    from salur_cases import tables as t  # noqa: PLC0415 - after the environment is chosen
    from salur_cases.runtime import Runtime  # noqa: PLC0415
    from salur_cases.settings import load_settings  # noqa: PLC0415

    runtime = Runtime(load_settings(env))
    try:
        events = 0
        try:
            events = runtime.app.recorder.max_notification_id() or 0
        except Exception:
            events = 0
        if not events:
            started = time.perf_counter()
            built = salur(env, "demo", "--scale", str(scale()))
            took = time.perf_counter() - started
            print(f"demo at scale {scale()} built in {took:.0f} s (exit {built.returncode})")
        with runtime.engine.connect() as conn:
            ids = [
                r[0] for r in conn.execute(t.household.select().with_only_columns(t.household.c.household_id))
            ]
    finally:
        runtime.close()
    for name, role in (("bench-dinsos", "dinsos"), ("bench-inspector", "inspector")):
        added = salur(env, "user", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        if added.returncode != 0 and "exists" not in added.stderr:
            raise SystemExit(f"salur user add {name} failed: {added.stderr[-500:]}")
    random.seed(2020)
    return [i.replace("-", "") for i in random.sample(ids, min(len(ids), REQUESTS))]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_in(base: str, name: str) -> httpx.Client:
    """A client signed in through the form, as a browser would be."""
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/console/login")
    token = client.cookies.get("salur_csrf")
    answer = client.post(
        "/console/login", data={"name": name, "password": PASSWORD, "_csrf_token": token or ""}
    )
    assert answer.status_code == 303, answer.text
    return client


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    """Milliseconds per GET, after a warm-up; every answer must be a 200 page."""
    for path in paths[:WARMUP]:
        client.get(path)
    times = []
    for path in paths:
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return times


def main() -> int:
    """Measure every page and print the JSON line."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    env = environment()
    households = prepare(env)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "salur_cases", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health/ready", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        officer, inspector = signed_in(base, "bench-dinsos"), signed_in(base, "bench-inspector")
        pages: dict[str, tuple[httpx.Client, list[str]]] = {
            "home": (officer, ["/console/"] * REQUESTS),
            "search": (officer, ["/console/search"] * REQUESTS),
            "household": (officer, [f"/console/households/{h}" for h in households]),
            "letter": (officer, [f"/console/households/{h}/letter" for h in households]),
            "budget": (inspector, ["/console/budget"] * REQUESTS),
            "anomalies": (inspector, ["/console/anomalies"] * REQUESTS),
            "anomalies_filtered": (
                inspector,
                ["/console/anomalies?code=NOT_PROPOSED_BY_DINSOS&budget_source=APBN"] * REQUESTS,
            ),
            "chain": (inspector, ["/console/chain"] * REQUESTS),
            "downloads": (inspector, ["/console/downloads"] * REQUESTS),
        }
        figures: dict[str, Any] = {}
        for name, (client, paths) in pages.items():
            times = sorted(timed(client, paths))
            p50 = statistics.median(times)
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            figures[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "requests": len(times)}
            print(f"{name:<20} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({len(times)} requests)")
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok = all(f["p95_ms"] < P95_TARGET_MS for f in figures.values())
    print(
        json.dumps(
            {
                "benchmark": "console",
                "scale": scale(),
                "pages": figures,
                "target_p95_ms": P95_TARGET_MS,
                "ok": ok,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the read models: a rebuild from scratch, and explain latency.

Runs with no arguments against PostgreSQL (SALUR_DATABASE_URL when it is PostgreSQL, else
SALUR_TEST_DATABASE_URL, in schema `bench_projections`) and SQLite (SALUR_DATABASE_URL when it is
SQLite, else a file in the temporary directory). A store with fewer than 500,000 events is first
filled through the domain (households proposed, matched, verified, assigned, paid in two tahap,
some removed; saved a chunk of households per transaction). Then, in a fresh process per database:
`rebuild` (events/s, peak RSS, and the CPU-seconds it took in this process and in the PostgreSQL
backends serving it, to tell a busy or slower machine from slower code), `explain` for 1,000 random
households (p50, p99) and the PDF letter for 100 of them (p50, p95). Targets: rebuild >= 40,000
events/s on PostgreSQL (project goal 50,000); explain p99 < 20 ms; letter p95 < 300 ms. Ends with
one JSON line.
SALUR_BENCH_EVENTS sets a smaller store for a quick run (the targets still apply; `ok` then also
requires the full 500,000 events); SALUR_PROJECTION_BATCH, the events of a rebuild's batch.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from salur_cases.domain.commands import DefineProgram, OpenTahap
from salur_cases.processes import allocation, programs

FULL_EVENTS = 500_000
TARGET_EVENTS = int(os.environ.get("SALUR_BENCH_EVENTS", "").strip() or FULL_EVENTS)
EXPLAINS = 1_000
REBUILD_TARGET = 40_000
EXPLAIN_P99_MS = 20.0
LETTERS = 100
LETTER_P95_MS = 300.0
EVENTS_PER_HOUSEHOLD = 9
CHUNK = 500
BENCH_KEYS = {
    "SALUR_ID_KEY": "170c40880010d9d16a958c91657af8cb7b09d413e68ccd01ec1a1f2098bea1b0",
    "SALUR_SECRET_KEY": "eaf20b33fbe84b2e0274e762a8ec4ef40d9141e9f41030d5b07f04e7778fe07c",
    "SALUR_SIGNING_KEY": "2ec2440f4d4e0ec90787c99d9b703f5f8b8275959c1ece7c766fbc55c4c5e5ea",
    "SALUR_ALLOW_PLAINTEXT": "1",
}
PASSED = frozenset({"SALUR_PROJECTION_BATCH"})
"""Settings taken from the environment as they are (the batch a rebuild is measured with)."""


def no_kk(index: int) -> str:
    """The No. KK of the index-th generated household (valid: kecamatan, issue date, serial)."""
    kec, rest = 1 + index % 6, index // 6
    day, rest = 1 + rest % 28, rest // 28
    month, serial = 1 + rest % 12, 1 + rest // 12
    return f"32710{kec}{day:02d}{month:02d}20{serial:04d}"


def nik(index: int, member: int) -> str:
    """A member's NIK (women's birth day + 40)."""
    kec, rest = 1 + index % 6, index // 6
    day, rest = 1 + rest % 28, rest // 28
    month, serial = 1 + rest % 12, 1 + rest // 12
    return f"32710{kec}{day + 40 * (member % 2):02d}{month:02d}{80 + member:02d}{serial:04d}"


def targets() -> dict[str, str]:
    """name -> database URL."""
    configured = os.environ.get("SALUR_DATABASE_URL", "").strip()
    test_url = os.environ.get("SALUR_TEST_DATABASE_URL", "").strip() or "postgresql://127.0.0.1:5432/test"
    postgres = configured if configured.startswith("postgres") else f"{test_url}?schema=bench_projections"
    default_sqlite = f"sqlite:///{Path(tempfile.gettempdir()) / 'salur-bench-projections.db'}"
    sqlite = configured if configured.startswith("sqlite") else default_sqlite
    return {"postgresql": postgres, "sqlite": sqlite}


def runtime_for(url: str) -> Any:
    """A migrated runtime on `url` (keys from the environment, else the benchmark's own; `PASSED`)."""
    from salur_cases.projections.migrate import upgrade  # noqa: PLC0415
    from salur_cases.runtime import Runtime  # noqa: PLC0415
    from salur_cases.settings import load_settings  # noqa: PLC0415

    env = {
        **BENCH_KEYS,
        **{k: v for k, v in os.environ.items() if k in BENCH_KEYS or k in PASSED},
        "SALUR_DATABASE_URL": url,
    }
    runtime = Runtime(load_settings(env))
    upgrade(runtime)
    return runtime


def fill(runtime: Any) -> int:
    """Add households until the store holds TARGET_EVENTS events; return how many households exist."""
    from salur_cases.domain.actor import Actor  # noqa: PLC0415
    from salur_cases.domain.clock import WIB, recording_at  # noqa: PLC0415
    from salur_cases.domain.commands import (  # noqa: PLC0415
        DecideVerval,
        ProposedAddress,
        ProposedMember,
        ProposedSource,
        ProposeHousehold,
        RecordPayment,
        RecordPopulationMatch,
        RemoveHousehold,
    )
    from salur_cases.domain.errors import Refusal  # noqa: PLC0415
    from salur_cases.domain.household import Household  # noqa: PLC0415
    from salur_cases.domain.parsing import parse_address  # noqa: PLC0415
    from salur_cases.domain.person import PersonClaim  # noqa: PLC0415
    from salur_cases.domain.vocabulary import (  # noqa: PLC0415
        BudgetSource,
        PadanResult,
        PaymentStatus,
        ProgramGroup,
        Role,
        VervalDecision,
    )

    app = runtime.app
    actor = Actor("bench", Role.DINSOS)
    existing = len(allocation.city_candidates(app))
    head = app.recorder.max_notification_id() or 0
    if head >= TARGET_EVENTS:
        return existing
    wanted = existing + (TARGET_EVENTS - head) // EVENTS_PER_HOUSEHOLD + 1
    moment = datetime(2020, 4, 20, 9, tzinfo=WIB)
    with recording_at(moment):
        try:
            programs.define_program(
                app,
                DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
                actor,
            )
            for number, start in ((1, date(2020, 4, 27)), (2, date(2020, 5, 27))):
                programs.open_tahap(
                    app,
                    "WALIKOTA",
                    OpenTahap(
                        number,
                        start,
                        start + timedelta(days=29),
                        200_000,
                        500_000,
                        100_000_000_000,
                        f"027.45-{number}",
                    ),
                    actor,
                )
        except Refusal:
            pass
    address = ProposedAddress(
        *parse_address({"kecamatan": "Bogor Selatan", "kelurahan": "Batutulis", "rw": "1", "rt": "1"})
        .to_data()
        .values()
    )
    print(
        f"filling {runtime.settings.database_url.split('?')[0]}: households {existing} -> {wanted}",
        flush=True,
    )
    started = time.perf_counter()
    for first in range(existing, wanted, CHUNK):
        with recording_at(moment + timedelta(minutes=first // CHUNK)):
            program = app.program("WALIKOTA")
            tahap = program.tahap
            households: list[Any] = []
            claims: list[Any] = []
            for index in range(first, min(first + CHUNK, wanted)):
                kk = no_kk(index)
                hid = app.household_id(kk)
                members = [
                    ProposedMember(
                        nik(index, m), f"Warga {index} {m}", "KEPALA KELUARGA" if m == 0 else "ISTRI"
                    )
                    for m in range(2)
                ]
                h = Household.propose(
                    hid, ProposeHousehold(kk, ProposedSource("KELURAHAN"), address, members), actor
                )
                claims.extend(PersonClaim.claim(app.claim_id(m.nik), str(hid), actor) for m in members)
                h.record_padan(
                    RecordPopulationMatch(PadanResult.MATCHED, date(2020, 4, 21)), "EXTRACT", actor
                )
                h.decide_verval(
                    DecideVerval(VervalDecision.ELIGIBLE, "layak", "Pak RW", date(2020, 4, 22)), actor
                )
                for number in (1, 2):
                    h.assign("WALIKOTA", "APBD_KOTA", tahap[number], actor, rank=index + 1)
                if index % 10 == 0:
                    removal = RemoveHousehold(
                        "WALIKOTA", 2, "KEMENSOS", "cleansing", "KEP-146", date(2020, 5, 20)
                    )
                    h.remove(removal, actor)
                for number in (1, 2) if index % 10 else (1,):
                    paid_at = datetime(2020, 4 + number, 28, 10, tzinfo=WIB).isoformat()
                    status = PaymentStatus.FAILED if index % 17 == 0 else PaymentStatus.PAID
                    h.record_payment(
                        "WALIKOTA",
                        tahap[number],
                        RecordPayment(kk, 500_000, paid_at, status, f"POS-{index}-{number}"),
                        actor,
                    )
                households.append(h)
            for number in (1, 2):
                program.commit_seats(number, [str(h.id) for h in households], actor)
            app.save(program, *households, *claims)
    elapsed = time.perf_counter() - started
    head_now = app.recorder.max_notification_id() or 0
    print(f"  {head_now - head} events in {elapsed:.1f} s", flush=True)
    return wanted


def cpu_now(url: str) -> dict[str, float]:
    """CPU-seconds so far of this process and of the PostgreSQL backends serving it (one sample)."""
    from processes import CpuMeter  # noqa: PLC0415 - beside this file

    from salur_cases.settings import split_schema  # noqa: PLC0415

    postgres = split_schema(url)[0] if url.startswith("postgres") else None
    meter = CpuMeter(lambda *_: "process", postgres)
    meter.start(os.getpid())
    return meter.stop()


def measure(url: str, households: int, queue: Any) -> None:
    """In a fresh process: rebuild from scratch, then explain random households."""
    from salur_cases.projections.explain import explain  # noqa: PLC0415
    from salur_cases.projections.letter import letter  # noqa: PLC0415
    from salur_cases.projections.runner import rebuild  # noqa: PLC0415

    runtime = runtime_for(url)
    events = runtime.app.recorder.max_notification_id() or 0
    before = cpu_now(url)
    started = time.perf_counter()
    reached = rebuild(runtime)
    seconds = time.perf_counter() - started
    after = cpu_now(url)
    cpu = {role: round(after[role] - before.get(role, 0.0), 2) for role in after}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rng = random.Random(2020)
    sample = [no_kk(rng.randrange(households)) for _ in range(EXPLAINS)]
    for kk in sample[:20]:
        explain(runtime, kk)  # warm up connections and caches
    latencies = []
    for kk in sample:
        tick = time.perf_counter()
        explain(runtime, kk, lang=rng.choice(["id", "en"]))
        latencies.append((time.perf_counter() - tick) * 1000)
    letter(runtime, sample[0])  # warm up the fonts
    printed = []
    for kk in sample[:LETTERS]:
        tick = time.perf_counter()
        letter(runtime, kk, lang=rng.choice(["id", "en"]))
        printed.append((time.perf_counter() - tick) * 1000)
    runtime.close()
    latencies.sort()
    printed.sort()
    queue.put(
        {
            "events": events,
            "rebuilt_to": reached,
            "rebuild_s": round(seconds, 2),
            "rebuild_events_per_s": round(events / seconds),
            "rebuild_peak_rss_mb": round(rss_mb, 1),
            "rebuild_cpu_s": cpu.get("process", 0.0),
            "rebuild_backend_cpu_s": cpu.get("process backend", 0.0),
            "explain_p50_ms": round(statistics.median(latencies), 2),
            "explain_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "letter_p50_ms": round(statistics.median(printed), 2),
            "letter_p95_ms": round(printed[int(len(printed) * 0.95) - 1], 2),
        }
    )


def main() -> int:
    """Fill, measure each database in its own process, print the JSON line."""
    results: dict[str, Any] = {}
    context = multiprocessing.get_context("spawn")
    for name, url in targets().items():
        runtime = runtime_for(url)
        households = fill(runtime)
        runtime.close()
        queue = context.Queue()
        process = context.Process(target=measure, args=(url, households, queue))
        process.start()
        figures = cast("dict[str, Any]", queue.get())
        process.join()
        results[name] = figures
        print(f"{name}: {json.dumps(figures)}", flush=True)
    pg, lite = results["postgresql"], results["sqlite"]
    ok = (
        pg["events"] >= FULL_EVENTS
        and lite["events"] >= FULL_EVENTS
        and pg["rebuild_events_per_s"] >= REBUILD_TARGET
        and max(pg["explain_p99_ms"], lite["explain_p99_ms"]) < EXPLAIN_P99_MS
        and max(pg["letter_p95_ms"], lite["letter_p95_ms"]) < LETTER_P95_MS
    )
    print(json.dumps({"benchmark": "projections", **results, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Ingest throughput: the household ledger against raw COPY and stock eventsourcing, on PostgreSQL.

Registers N households (default 50,000; four members each, padan matched at registration against an
extract, then a verval decision each) through the application in bulk. Then, in the same run,
copies the very stored events it wrote (same ids, versions, topics, state bytes, positions and chain
hashes) into a table of the same shape with psycopg COPY BINARY, and saves equivalent plain
eventsourcing aggregates (the same number of events with the same payloads) with the library's
stock PostgreSQL recorder in batches of the same size. The application runs twice, each time on a
fresh schema: with payloads in clear (`SALUR_ALLOW_PLAINTEXT=1`) and encrypted (`SALUR_ENCRYPTION_KEY`).
Prints events/s for all, the ratios, the application's CPU time per event (its own process and its bulk
workers, so a loaded machine can be told from slower code) and peak RSS, ending with one JSON line.
Targets: ratio to COPY >= 0.3 (in clear); encrypted at least 90 % of the events/s in clear.

Usage: python benchmarks/ingest.py [--households N]   (PostgreSQL from SALUR_TEST_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import msgspec
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from salur_cases.application import SalurApplication
from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import (
    DecideVerval,
    ProposedAddress,
    ProposedMember,
    ProposedSource,
    ProposeHousehold,
)
from salur_cases.domain.padan import PopulationRecord
from salur_cases.domain.vocabulary import KEPALA_KELUARGA, Role, VervalDecision
from salur_cases.processes import registration, verval
from salur_cases.settings import load_settings

BATCH = 1000
TARGET_RATIO_TO_COPY = 0.3
ENCRYPTED_SHARE = 0.9
"""Encrypted ingest must keep this share of the events/s in clear (at most 10 % slower)."""


class Extract:
    """An in-memory population extract, so registration matches every household (padan)."""

    def __init__(self, records: dict[str, PopulationRecord]) -> None:
        self._records = records

    def loaded(self) -> bool:
        """Always loaded."""
        return True

    def records(self, niks: Any) -> dict[str, PopulationRecord]:
        """The records of these NIKs."""
        return {n: self._records[n] for n in niks if n in self._records}


class StockHousehold(Aggregate):
    """A plain eventsourcing aggregate with the same payloads as ours (dates as ISO text: the stock
    JSON transcoder has no date transcoding)."""

    @event("Proposed")
    def __init__(
        self,
        no_kk: str,
        source_kind: str,
        source_ref: str,
        address: dict[str, str],
        members: list[dict[str, Any]],
        actor: str,
        role: str,
    ) -> None:
        self.no_kk = no_kk

    @event("PopulationMatched")
    def matched(self, result: str, checked_on: str, basis: str, actor: str, role: str) -> None:
        self.padan = result

    @event("VervalDecided")
    def decided(
        self,
        decision: str,
        reason: str,
        officer: str,
        decided_on: str,
        effective_on: str,
        actor: str,
        role: str,
    ) -> None:
        self.verval = decision


class StockClaim(Aggregate):
    """A plain person claim."""

    @event("Claimed")
    def __init__(self, household_id: str, actor: str, role: str) -> None:
        self.household_id = household_id


def households(n: int) -> tuple[list[ProposeHousehold], dict[str, PopulationRecord]]:
    """N valid, distinct households of four members in Bogor Selatan, and their extract records."""
    proposals, extract = [], {}
    for i in range(n):
        serial, block = i % 9999 + 1, i // 9999
        no_kk = f"327101{(block % 28) + 1:02d}0420{serial:04d}"
        members = []
        for j in range(4):
            nik = (
                f"32710{(j % 6) + 1}{(block % 28) + 1:02d}{(j * 3 + 1):02d}{70 + block // 28:02d}{serial:04d}"
            )
            members.append(ProposedMember(nik, f"Warga {i} {j}", KEPALA_KELUARGA if j == 0 else "ANAK"))
            extract[nik] = PopulationRecord(nik, no_kk, f"Warga {i} {j}", None, "HIDUP", True, True)
        proposals.append(
            ProposeHousehold(
                no_kk,
                ProposedSource("KELURAHAN", "benchmark"),
                ProposedAddress("32.71.01", "32.71.01.1001", "01", "01"),
                members,
            )
        )
    return proposals, extract


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A throwaway schema, dropped afterwards."""
    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the bulk workers)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def run_application(
    url: str, schema: str, proposals: list[ProposeHousehold], extract: Extract, *, encrypted: bool
) -> tuple[float, float, int]:
    """Register, match and verval every household through the application; (seconds, CPU seconds, events)."""
    secrets_ = (
        {"SALUR_ENCRYPTION_KEY": "e751a1e0b235b782e274d14892c7a4b755e7e67b8742876a5ffe12a03ae9902e"}
        if encrypted
        else {"SALUR_ALLOW_PLAINTEXT": "1"}
    )
    settings = load_settings(
        {
            "SALUR_DATABASE_URL": url,
            "SALUR_ID_KEY": "bb799c389aa81dd4c6936e0fc9676c49385b291f778e5420d647a08ce86fdade",
            "SALUR_SECRET_KEY": "1d9460ddf024169a81025aa34214cc07985fd884a1dc4918babb97a11767ca10",
            "SALUR_SIGNING_KEY": "41ebaf5c9044ea6efc5c1731dc31148cef9ae5d2f42de1084a9ba18b7379cb22",
            **secrets_,
        }
    )
    app = SalurApplication(settings, schema=schema, population=extract)
    actor = Actor("benchmark", Role.DINSOS)
    decided_eligible = DecideVerval(VervalDecision.ELIGIBLE, "terdampak", "petugas", date(2020, 4, 24))
    decisions = [(p.no_kk, decided_eligible) for p in proposals]
    started, cpu_started = time.perf_counter(), cpu_seconds()
    registered = registration.register_many(app, proposals, actor)
    decided = verval.decide_verval_many(app, decisions, actor)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    if registered.rejected or decided.rejected:
        sys.exit(f"benchmark data refused: {registered.rejected[:1]} {decided.rejected[:1]}")
    events = app.recorder.max_notification_id() or 0
    app.close()
    return seconds, cpu, events


def run_copy(url: str, schema: str) -> tuple[float, int]:
    """COPY the stored events, as they are, into a table of the same shape; (seconds, rows)."""
    table = sql.Identifier(schema, "salur_events")
    copy_table = sql.Identifier(schema, "copied_events")
    columns = sql.SQL("notification_id, originator_id, originator_version, topic, state, chain_hash")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(copy_table, table))
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY notification_id").format(columns, table)
        ).fetchall()
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH * 7):
            with conn.transaction(), conn.cursor() as cursor:
                copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(copy_table, columns)
                with cursor.copy(copy_sql) as copy:
                    copy.set_types(["bigint", "uuid", "bigint", "text", "bytea", "bytea"])
                    for row in rows[start : start + BATCH * 7]:
                        copy.write_row(row)
        return time.perf_counter() - started, len(rows)


def run_stock(url: str, schema: str, proposals: list[ProposeHousehold]) -> tuple[float, int]:
    """Save equivalent plain aggregates with eventsourcing's stock PostgreSQL recorder; (seconds, events)."""
    parts = psycopg.conninfo.conninfo_to_dict(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname", "test")),
        "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(parts.get("port", "5432")),
        "POSTGRES_USER": str(parts.get("user", "")),
        "POSTGRES_PASSWORD": str(parts.get("password", "")),
        "POSTGRES_SCHEMA": schema,
        "CREATE_TABLE": "y",
    }
    app = Application[Any](env)
    saved = 0
    started = time.perf_counter()
    for start in range(0, len(proposals), BATCH):
        aggregates: list[Aggregate] = []
        for p in proposals[start : start + BATCH]:
            household = StockHousehold(
                p.no_kk,
                p.source.kind,
                p.source.reference,
                msgspec.to_builtins(p.address) if p.address else {},
                msgspec.to_builtins(p.members),
                "benchmark",
                "dinsos",
            )
            household.matched("MATCHED", "2020-04-20", "EXTRACT", "benchmark", "dinsos")
            household.decided(
                "ELIGIBLE", "terdampak", "petugas", "2020-04-24", "2020-04-24", "benchmark", "dinsos"
            )
            aggregates.append(household)
            aggregates.extend(StockClaim(str(household.id), "benchmark", "dinsos") for _ in p.members)
        saved += sum(len(a.pending_events) for a in aggregates)
        app.save(*aggregates)
    seconds = time.perf_counter() - started
    app.close()
    return seconds, saved


def main() -> int:
    """Measure and print; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=50_000)
    n = parser.parse_args().households
    url = os.environ.get("SALUR_TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    proposals, records = households(n)
    with fresh_schema(url) as schema:
        app_seconds, app_cpu, app_events = run_application(
            url, schema, proposals, Extract(records), encrypted=False
        )
        copy_seconds, copied = run_copy(url, schema)
    with fresh_schema(url) as schema:
        sealed_seconds, sealed_cpu, sealed_events = run_application(
            url, schema, proposals, Extract(records), encrypted=True
        )
    with fresh_schema(url) as schema:
        stock_seconds, stock_events = run_stock(url, schema, proposals)
    sealed_rate = sealed_events / sealed_seconds
    app_rate, copy_rate, stock_rate = (
        app_events / app_seconds,
        copied / copy_seconds,
        stock_events / stock_seconds,
    )
    peak_mb = (
        max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        / 1024
    )
    print(f"households:            {n:,} ({app_events:,} events)")
    print(f"application (ledger):  {app_rate:,.0f} events/s ({app_seconds:.1f} s), payloads in clear")
    print(f"application encrypted: {sealed_rate:,.0f} events/s ({sealed_seconds:.1f} s), AES-GCM payloads")
    print(f"encrypted / in clear:  {sealed_rate / app_rate:.3f}  (target >= {ENCRYPTED_SHARE})")
    print(
        f"application CPU:       {app_cpu / app_events * 1e6:.1f} us/event in clear, "
        f"{sealed_cpu / sealed_events * 1e6:.1f} us/event encrypted (this process and its bulk workers)"
    )
    print(f"COPY BINARY:           {copy_rate:,.0f} events/s ({copy_seconds:.1f} s)")
    print(f"stock eventsourcing:   {stock_rate:,.0f} events/s ({stock_seconds:.1f} s)")
    print(f"ratio to COPY:         {app_rate / copy_rate:.3f}  (target >= {TARGET_RATIO_TO_COPY})")
    print(f"ratio to stock:        {app_rate / stock_rate:.2f}")
    print(f"peak RSS:              {peak_mb:,.0f} MiB (largest of this process and its bulk workers)")
    summary = {
        "benchmark": "ingest",
        "households": n,
        "events": app_events,
        "application_events_per_s": round(app_rate),
        "encrypted_events_per_s": round(sealed_rate),
        "encrypted_share": round(sealed_rate / app_rate, 3),
        "application_cpu_us_per_event": round(app_cpu / app_events * 1e6, 1),
        "encrypted_cpu_us_per_event": round(sealed_cpu / sealed_events * 1e6, 1),
        "copy_events_per_s": round(copy_rate),
        "stock_events_per_s": round(stock_rate),
        "ratio_to_copy": round(app_rate / copy_rate, 3),
        "ratio_to_stock": round(app_rate / stock_rate, 2),
        "peak_rss_mb": round(peak_mb),
        "ok": app_rate / copy_rate >= TARGET_RATIO_TO_COPY and sealed_rate / app_rate >= ENCRYPTED_SHARE,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

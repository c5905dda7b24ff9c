"""Audit throughput: full chain verification and the anomaly report over the Kota Bogor 2020 scenario.

Uses the database of SALUR_DATABASE_URL when it already holds events; otherwise builds the scenario
(`salur demo`'s story, default scale 1.0, about a million events) into a fresh PostgreSQL schema of
SALUR_TEST_DATABASE_URL, dropped at the end unless --keep. Brings the projections up to date (not
timed), then times `verify` with every signed head's signature checked (events verified per second),
the anomaly report (`find_all`, every code, and its summary), the budget report and the payment ledger
(each with its as-of time and chain head), and ends with one JSON line. Targets at scale 1.0:
verification >= 200,000 events/s, the anomaly report under 5 s, the budget report and the payment
ledger under 2 s each.

Usage: python benchmarks/audit.py [--scale 1.0] [--seed 2020] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from salur_cases.demo.build import build
from salur_cases.projections.audit import verify
from salur_cases.projections.audit.budget import budget_report
from salur_cases.projections.audit.ledger import ledger_report, ledger_totals
from salur_cases.projections.audit.triage import find_all, headline, program_scopes
from salur_cases.projections.audit.triage import summary as summarise
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import DEFAULT_TEST_DATABASE_URL, load_settings
from salur_cases.store.keys import signing_key

VERIFY_TARGET = 200_000
"""Events verified per second, every signed head's signature checked."""
ANOMALIES_TARGET_S = 5.0
BUDGET_TARGET_S = 2.0
LEDGER_TARGET_S = 2.0


@contextmanager
def database(scale: float, seed: int, *, keep: bool) -> Iterator[Runtime]:
    """The configured, populated database; or a fresh schema with the scenario built into it."""
    configured = os.environ.get("SALUR_DATABASE_URL", "").strip()
    if configured:
        runtime = Runtime(load_settings())
        if runtime.app.recorder.max_notification_id():
            print("using the populated database of SALUR_DATABASE_URL")
            try:
                yield runtime
            finally:
                runtime.close()
            return
        runtime.close()
    base = os.environ.get("SALUR_TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL
    schema = f"bench_audit_{secrets.token_hex(4)}"
    env = {
        "SALUR_DATABASE_URL": f"{base}?schema={schema}",
        "SALUR_ID_KEY": os.environ.get("SALUR_ID_KEY") or secrets.token_hex(32),
        "SALUR_SECRET_KEY": os.environ.get("SALUR_SECRET_KEY") or secrets.token_hex(32),
        "SALUR_SIGNING_KEY": os.environ.get("SALUR_SIGNING_KEY") or secrets.token_hex(32),
        "SALUR_ALLOW_PLAINTEXT": "1",
    }
    runtime = Runtime(load_settings(env))
    try:
        upgrade(runtime)
        started = time.perf_counter()
        print(f"building the scenario at scale {scale} into schema {schema} ...")
        build(runtime, scale, seed, say=lambda _: None)
        built = runtime.app.recorder.max_notification_id()
        print(f"built {built} events in {time.perf_counter() - started:.0f} s")
        yield runtime
    finally:
        runtime.close()
        if keep:
            print(f"kept: SALUR_DATABASE_URL={env['SALUR_DATABASE_URL']} (and the SALUR_ID_KEY used)")
        else:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    """Measure and print; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true", help="keep the schema built for the run")
    args = parser.parse_args()
    with database(args.scale, args.seed, keep=args.keep) as runtime:
        started = time.perf_counter()
        catch_up(runtime)
        print(f"projections caught up in {time.perf_counter() - started:.1f} s (not timed below)")

        started = time.perf_counter()
        result = verify(runtime, public_key=signing_key(runtime.settings.signing_key).public_key())
        verify_s = time.perf_counter() - started
        rate = result.checked / verify_s if verify_s else 0.0
        print(
            f"verify: {result.checked} events, {result.rosters} rosters, {result.signatures} signed "
            f"heads in {verify_s:.2f} s = {rate:,.0f} events/s; ok={result.ok}"
        )

        started = time.perf_counter()
        findings = find_all(runtime)
        with runtime.engine.connect() as conn:
            top = headline(summarise(findings, program_scopes(conn)))
        anomalies_s = time.perf_counter() - started
        by_code = Counter(f.code for f in findings)
        print(f"anomalies: {len(findings)} findings in {anomalies_s:.2f} s: {dict(sorted(by_code.items()))}")
        print(f"headline: {top}")

        started = time.perf_counter()
        rows, _ = budget_report(runtime)
        budget_s = time.perf_counter() - started
        print(f"budget: {len(rows)} rows in {budget_s:.2f} s")

        started = time.perf_counter()
        ledger, _ = ledger_report(runtime)
        ledger_s = time.perf_counter() - started
        totals = ledger_totals(ledger)
        balanced = (totals["paid_idr"], totals["returned_idr"]) == (
            sum(r.paid_idr for r in rows),
            sum(r.returned_idr for r in rows),
        )
        print(f"payment ledger: {len(ledger)} rows in {ledger_s:.2f} s; equals the budget's sums: {balanced}")

    summary = {
        "benchmark": "audit",
        "scale": args.scale,
        "events": result.checked,
        "verify_seconds": round(verify_s, 3),
        "verify_events_per_s": round(rate),
        "signed_heads": result.signatures,
        "chain_ok": result.ok,
        "anomaly_report_seconds": round(anomalies_s, 3),
        "anomalies": len(findings),
        "anomalies_by_code": dict(sorted(by_code.items())),
        "budget_report_seconds": round(budget_s, 3),
        "payment_ledger_seconds": round(ledger_s, 3),
        "payment_ledger_rows": len(ledger),
        "ok": bool(
            result.ok
            and balanced
            and rate >= VERIFY_TARGET
            and anomalies_s < ANOMALIES_TARGET_S
            and budget_s < BUDGET_TARGET_S
            and ledger_s < LEDGER_TARGET_S
        ),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

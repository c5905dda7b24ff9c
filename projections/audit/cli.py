"""The audit's commands: `salur report budget|anomalies|payments`, `salur audit verify`, `salur audit export`.

Reports read the read models, so they first bring the projections up to date; `verify` and `export`
read the event store itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from salur_cases.domain.errors import InvalidCommand
from salur_cases.projections.audit.budget import BUDGET_FIELDS, budget_report, budget_totals
from salur_cases.projections.audit.evidence import evidence_lines
from salur_cases.projections.audit.ledger import LEDGER_FIELDS, ledger_report, ledger_totals
from salur_cases.projections.audit.render import (
    CHART_FORMATS,
    TABLE_FORMATS,
    budget_table,
    emit,
    write_report,
)
from salur_cases.projections.audit.triage import Filters, find_all, headline, listing, program_scopes, summary
from salur_cases.projections.audit.verification import verify
from salur_cases.projections.runner import catch_up as bring_up_to_date
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings
from salur_cases.store.keys import UnusableKey, load_public_key, public_key_hex, signing_key

if TYPE_CHECKING:
    import argparse

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from salur_cases.projections.schemas import BrokenLink

EXIT_OK, EXIT_FAILED = 0, 1
ANOMALY_COLUMNS = ("code", "severity", "no_kk", "program", "tahap", "amount_idr", "evidence", "detail")
SUMMARY_COLUMNS = (
    "severity",
    "code",
    "program",
    "authority",
    "tahap",
    "findings",
    "households",
    "amount_idr",
)
BUDGET_TITLE = "Budget by source, program and tahap"


def _runtime(*, catch_up: bool) -> Runtime:
    runtime = Runtime(get_settings())
    runtime.app  # noqa: B018 - the store's tables exist before the runner's write transaction reads them
    if catch_up:
        bring_up_to_date(runtime)
    return runtime


def budget_command(args: argparse.Namespace) -> int:
    """`salur report budget [--format table|csv|xlsx|json|png|svg] [--out FILE]`."""
    runtime = _runtime(catch_up=True)
    try:
        budget, stands_on = budget_report(runtime)
    finally:
        runtime.close()
    rows = [msgspec.structs.asdict(row) for row in budget]
    totals = budget_totals(rows)
    if args.format in CHART_FORMATS:
        from salur_cases.projections.audit.chart import budget_chart  # noqa: PLC0415 - matplotlib is heavy

        emit(budget_chart(rows, stands_on, args.format), args.out)
    elif args.format == "table":
        emit(budget_table(rows, totals, stands_on), args.out)
    else:
        write_report(rows, BUDGET_FIELDS, args.format, args.out, BUDGET_TITLE, stands_on, totals)
    return EXIT_OK


def anomalies_command(args: argparse.Namespace) -> int:
    """`salur report anomalies [--code C] [--budget-source S] [--program P] [--tahap N] [--authority A]`.

    On a terminal (`--format table`, the default) a summary per code and program with the headline;
    as CSV, XLSX or JSON the report's lines (other authorities' own lists summarised unless named).
    """
    if args.format not in TABLE_FORMATS:
        raise InvalidCommand("format", f"the anomaly report is written as {', '.join(TABLE_FORMATS)}")
    filters = Filters.parse(
        getattr(args, "code", None),
        getattr(args, "budget_source", None),
        getattr(args, "program", None),
        getattr(args, "tahap", None),
        getattr(args, "authority", None),
    )
    runtime = _runtime(catch_up=True)
    try:
        findings = find_all(runtime, filters)
        with runtime.engine.connect() as conn:
            scopes = program_scopes(conn)
    finally:
        runtime.close()
    if args.format == "table":
        lines = summary(findings, scopes)
        top = headline(lines)
        title = f"Anomalies: {len(findings):,} findings, Rp{sum(f.amount_idr for f in findings):,} at stake"
        if top:
            title += f"\nHeadline: {top}"
        write_report(lines, SUMMARY_COLUMNS, "table", args.out, title)
        return EXIT_OK
    rows = [f.to_json() for f in listing(findings, filters)]
    write_report(rows, ANOMALY_COLUMNS, args.format, args.out, "Anomalies")
    return EXIT_OK


def payments_command(args: argparse.Namespace) -> int:
    """`salur report payments [--program CODE] [--tahap N] [--format table|csv|xlsx|json] [--out FILE]`."""
    if args.format not in TABLE_FORMATS:
        raise InvalidCommand("format", f"the payment ledger is written as {', '.join(TABLE_FORMATS)}")
    program = args.program.strip().upper() if getattr(args, "program", None) else None
    runtime = _runtime(catch_up=True)
    try:
        rows, stands_on = ledger_report(runtime, program, getattr(args, "tahap", None))
    finally:
        runtime.close()
    sums = ledger_totals(rows)
    totals = [
        {"reference": f"total {status}", "status": status, "amount_idr": sums[f"{status.lower()}_idr"]}
        for status in ("PAID", "FAILED", "RETURNED")
    ]
    write_report(rows, LEDGER_FIELDS, args.format, args.out, "Payment ledger", stands_on, totals)
    return EXIT_OK


def verify_command(args: argparse.Namespace) -> int:
    """`salur audit verify [--head POSITION:HASH] [--public-key FILE]`: exit 0 intact, 1 naming the first
    broken position and what it concerns."""
    key = _public_key(args.public_key)
    runtime = _runtime(catch_up=False)  # a tampered store may not even project: read it as it is
    try:
        if key is None and runtime.settings.signing_key:
            key = signing_key(runtime.settings.signing_key).public_key()
        result = verify(runtime, args.head, key)
    finally:
        runtime.close()
    head, broken = result.head, result.first_broken
    if broken is None:
        print(f"chain intact: {result.checked} events and {result.rosters} certified rosters verified")
    else:
        print(f"chain BROKEN at position {broken.position}: {broken.reason}")
        print(f"  {_concerning(broken)}")
        print(f"{result.checked} events verified before it")
    if result.signatures is None:
        print("signatures not checked (give --public-key FILE)")
    else:
        print(f"{result.signatures} signed heads verified with public key {public_key_hex(key)}")  # type: ignore[arg-type]
    print(f"head {head.position}:{head.hash}")
    return EXIT_OK if result.ok else EXIT_FAILED


def _public_key(path: str | None) -> Ed25519PublicKey | None:
    if path is None:
        return None
    try:
        return load_public_key(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidCommand("--public-key", f"cannot read {path}: {error.strerror}") from None
    except UnusableKey as error:
        raise InvalidCommand("--public-key", str(error)) from None


def _concerning(broken: BrokenLink) -> str:
    """What a broken position concerns, in one line (the No. KK in full: the operator's own terminal)."""
    parts = [
        f"household {broken.household}" if broken.household else None,
        f"program {broken.program}" if broken.program else None,
        f"tahap {broken.tahap}" if broken.tahap else None,
        broken.type,
        f"recorded {broken.recorded_at}" if broken.recorded_at else None,
    ]
    return ", ".join(p for p in parts if p) or "an event the read models never saw"


def export_command(args: argparse.Namespace) -> int:
    """`salur audit export (NO_KK | --program CODE --tahap N) [--out FILE]`: evidence as JSON Lines."""
    runtime = _runtime(catch_up=False)
    try:
        lines = evidence_lines(runtime, args.no_kk, args.program, args.tahap)
        if args.out is None:
            sys.stdout.writelines(lines)
        else:
            with Path(args.out).open("w", encoding="utf-8") as handle:
                handle.writelines(lines)
    finally:
        runtime.close()
    return EXIT_OK

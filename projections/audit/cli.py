"""The audit's commands: `salur report budget|anomalies`, `salur audit verify`, `salur audit export`.

Reports read the read models, so they first bring the projections up to date; `verify` and `export`
read the event store itself.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from salur_cases.domain.errors import InvalidCommand
from salur_cases.projections.audit.budget import BUDGET_FIELDS, budget_rows
from salur_cases.projections.audit.evidence import evidence_lines
from salur_cases.projections.audit.findings import CODES, find_all
from salur_cases.projections.audit.render import CHART_FORMATS, TABLE_FORMATS, write_chart, write_report
from salur_cases.projections.audit.verification import verify
from salur_cases.projections.runner import catch_up as bring_up_to_date
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_FAILED = 0, 1
ANOMALY_COLUMNS = ("code", "no_kk", "program", "tahap", "outside_authority", "evidence", "detail")
SUMMARY_COLUMNS = ("code", "program", "tahap", "outside_authority", "findings")
TABLE_LIMIT = 200
"""More findings than this make the terminal table a summary by code, program and tahap."""


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
        rows = [msgspec.structs.asdict(row) for row in budget_rows(runtime)]
    finally:
        runtime.close()
    if args.format in CHART_FORMATS:
        write_chart(rows, args.format, args.out)
    else:
        write_report(rows, BUDGET_FIELDS, args.format, args.out, "Budget by source, program and tahap")
    return EXIT_OK


def anomalies_command(args: argparse.Namespace) -> int:
    """`salur report anomalies [--format table|csv|xlsx|json] [--out FILE]`: every finding."""
    if args.format not in TABLE_FORMATS:
        raise InvalidCommand("format", f"the anomaly report is written as {', '.join(TABLE_FORMATS)}")
    runtime = _runtime(catch_up=True)
    try:
        findings = [f.to_json() for f in find_all(runtime)]
    finally:
        runtime.close()
    if args.format == "json":
        write_report(findings, ANOMALY_COLUMNS, "json", args.out, "Anomalies")
        return EXIT_OK
    rows = [
        {
            **f,
            "outside_authority": "yes" if f["detail"].get("outside_authority") else "",
            "detail": {k: v for k, v in f["detail"].items() if k != "outside_authority"},
        }
        for f in findings
    ]
    if args.format == "table" and len(rows) > TABLE_LIMIT:
        counts = Counter((r["code"], r["program"], r["tahap"], r["outside_authority"]) for r in rows)
        summary = [
            {"code": c, "program": p, "tahap": n, "outside_authority": o, "findings": k}
            for (c, p, n, o), k in sorted(
                counts.items(), key=lambda item: (CODES.index(item[0][0]), *map(str, item[0]))
            )
        ]
        title = f"Anomalies: {len(rows)} findings (list them with --format csv, xlsx or json)"
        write_report(summary, SUMMARY_COLUMNS, "table", args.out, title)
        return EXIT_OK
    write_report(rows, ANOMALY_COLUMNS, args.format, args.out, "Anomalies")
    return EXIT_OK


def verify_command(args: argparse.Namespace) -> int:
    """`salur audit verify [--head POSITION:HASH]`: exit 0 intact, 1 naming the first broken position."""
    runtime = _runtime(catch_up=False)
    try:
        result = verify(runtime, args.head)
    finally:
        runtime.close()
    head, broken = result.head, result.first_broken
    if broken is None:
        print(f"chain intact: {result.checked} events and {result.rosters} certified rosters verified")
    else:
        print(f"chain BROKEN at position {broken.position}: {broken.reason}")
        print(f"{result.checked} events verified before it")
    print(f"head {head.position}:{head.hash}")
    return EXIT_OK if result.ok else EXIT_FAILED


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

"""`salur import KIND FILE [--dry-run] [--report OUT.csv|OUT.json]`.

Prints a summary and one line per rejected row or warning, and writes the same report as CSV or JSON.
Exit 0 when every row was accepted (or the file was already imported), 1 when rows were rejected,
2 for bad usage, an unreadable file or a missing required column (then nothing is written).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.intake.importer import import_file, no_progress
from salur_cases.intake.readers import Limits, check_size
from salur_cases.intake.report import ImportReport
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings
from salur_cases.sheets import SafeCsvWriter

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
REPORT_FORMATS = (".csv", ".json")
CLI_ACTOR = "salur-cli"


def import_command(args: argparse.Namespace) -> int:
    """Import the file; print and write the per-row report."""
    report_path = Path(args.report) if args.report else None
    if report_path is not None and report_path.suffix.lower() not in REPORT_FORMATS:
        raise InvalidCommand("--report", "must end in .csv or .json")
    settings = get_settings()
    path = Path(args.file)
    try:
        check_size(path.stat().st_size, Limits.of(settings))  # before reading it into memory
        data = path.read_bytes()
    except OSError as e:
        raise InvalidCommand("file", f"cannot be read ({e.strerror})") from None
    role = Role.DUKCAPIL if args.kind == "population" else Role.DINSOS
    runtime = Runtime(settings)
    try:
        _check_schema(runtime)
        report = import_file(
            runtime,
            args.kind,
            args.file,
            data,
            Actor(CLI_ACTOR, role),
            dry_run=args.dry_run,
            progress=progress_bar if sys.stdout.isatty() else no_progress,
        )
    finally:
        runtime.close()
    print_report(report)
    if report_path is not None:
        write_report(report, report_path)
    return EXIT_REJECTED if report.rejected and not report.already_imported else EXIT_OK


@contextmanager
def progress_bar(total: int, completed: int) -> Iterator[Callable[[int], None]]:
    """A progress bar of the rows imported, gone when the import ends."""
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
    task = bar.add_task("importing rows", total=total, completed=completed)
    with bar:
        yield lambda rows: bar.advance(task, rows)


def _check_schema(runtime: Runtime) -> None:
    from salur_cases.projections.migrate import SchemaOutOfDate, ensure_current  # noqa: PLC0415

    try:
        ensure_current(runtime)
    except SchemaOutOfDate as e:
        raise InvalidCommand("database", str(e)) from None


def print_report(report: ImportReport) -> None:
    """A summary line, then one line per problem: row, column, code, message."""
    if report.already_imported:
        print(
            f"import {report.import_id[:12]}: already imported ({report.kind}, {report.rows} rows, "
            f"{report.accepted} accepted); nothing added"
        )
    else:
        mode = " (dry run: nothing written)" if report.dry_run else ""
        rejected_rows = len({p.row for p in report.rejected})
        print(
            f"import {report.import_id[:12]}: {report.kind}, {report.rows} rows, {report.accepted} accepted, "
            f"{rejected_rows} rejected, {len(report.warnings)} warnings{mode}"
        )
    for label, problems in (("rejected", report.rejected), ("warning", report.warnings)):
        for p in problems:
            print(f"  row {p.row}\t{label}\t{p.column or '-'}\t{p.code}\t{p.message}")


def write_report(report: ImportReport, path: Path) -> None:
    """The report as JSON (the API's shape) or CSV (row, column, code, message, severity)."""
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = SafeCsvWriter(f)
        writer.writerow(["row", "column", "code", "message", "severity"])
        for severity, problems in (("rejected", report.rejected), ("warning", report.warnings)):
            for p in problems:
                writer.writerow([p.row, p.column or "", p.code, p.message, severity])

"""Importing a CSV or XLSX file of one kind: rows checked, good ones written in batches.

`import_file` reads the whole file, checks every row (a bad row is rejected with a code and never
stops the good ones; a bad member row rejects its whole household), splits the good rows into
batches that depend on the file's content only, and writes each batch through the application's bulk
commands (`salur_cases.intake.kinds`, one module per kind). Outside lists (roster, cleansing,
payments) are facts: written even when they break a city rule, with the rule's code as a warning.

The import log (`salur_cases.intake.importlog`) remembers every file by its content: a second import
of the same file writes nothing and says so, and an interrupted one resumes at the first batch not
marked done. A batch and its progress row are committed in different transactions, so the one batch
that may have been written without being marked is re-run idempotently: rows whose effect is already
recorded (this import's proposal, the same verval, a seat, a removal, a payment with the same
reference) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from salur_cases.collector import collector_paused
from salur_cases.domain.vocabulary import Role
from salur_cases.intake.columns import columns_of
from salur_cases.intake.importlog import ImportLog, content_id
from salur_cases.intake.kinds import KINDS
from salur_cases.intake.readers import Limits, open_table
from salur_cases.intake.report import ImportReport, RowProblem
from salur_cases.intake.rows import Sheet
from salur_cases.intake.steps import Context

if TYPE_CHECKING:
    from salur_cases.domain.actor import Actor
    from salur_cases.runtime import Runtime

KIND_ROLES: Mapping[str, frozenset[Role]] = {
    "registrations": frozenset({Role.DINSOS}),
    "population": frozenset({Role.DINSOS, Role.DUKCAPIL}),
    "verval": frozenset({Role.DINSOS}),
    "roster": frozenset({Role.DINSOS}),
    "cleansing": frozenset({Role.DINSOS}),
    "payments": frozenset({Role.DINSOS}),
}
"""Who may import each kind: Dinsos every kind, Disdukcapil only `population`."""

BATCH = 20_000
"""Rows (or households) per batch; removals, written one per transaction, go a fifth as many per batch.

A batch is the unit of resumption (an interrupted import redoes at most one) and of the bulk worker
processes' lifetime (`salur_cases.processes.bulk` forks them per batch): large, so forking is rare."""

Progress = Callable[[int, int], AbstractContextManager[Callable[[int], None]]]
"""A progress display: given the rows in all and those already done, a context whose value is told
the rows of each batch as it is written (the command line shows a bar on a terminal)."""


def may_import(role: Role | str, kind: str) -> bool:
    """Whether this role may import this kind."""
    return role in KIND_ROLES.get(kind, frozenset())


def no_progress(_total: int, _completed: int) -> AbstractContextManager[Callable[[int], None]]:
    """No progress display."""
    return nullcontext(lambda _rows: None)


@collector_paused()
def import_file(
    runtime: Runtime,
    kind: str,
    filename: str,
    data: bytes,
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import one file of `kind`; InvalidCommand (bad kind, missing column) or FileRefused (an unreadable
    file, or one above a limit of `SALUR_IMPORT_MAX_*`) writes nothing.

    `dry_run` checks every row and writes nothing. `progress` is told each batch written.
    Python's cyclic garbage collector is paused through the import (`salur_cases.collector`).
    """
    columns_of(kind)
    import_id = content_id(data)
    with open_table(filename, data, Limits.of(runtime.settings)) as table:
        sheet = Sheet.of(kind, table)
    log = ImportLog(runtime)
    previous = log.find(import_id, kind)
    if previous is not None and previous.done:
        return previous.report(dry_run=dry_run)
    size = previous.batch if previous is not None else BATCH
    problems, steps = KINDS[kind].plan(sheet, import_id, size)
    report = ImportReport(import_id, kind, len(sheet.rows), 0, list(problems), [], dry_run=dry_run)
    ctx = Context(runtime.app, runtime, actor, import_id, dry_run)
    done = 0
    step_rejected: list[RowProblem] = []
    if previous is not None and not dry_run:
        done = previous.steps_done
        report.accepted = previous.accepted
        step_rejected, report.warnings = list(previous.rejected), list(previous.warnings)
        ctx.resuming = True
    elif not dry_run:
        log.start(import_id, kind, filename, len(sheet.rows), len(steps), size, actor)
    with progress(len(sheet.rows), sum(len(s.rows) for s in steps[:done])) as advance:
        for index in range(done, len(steps)):
            outcome = steps[index].run(ctx)
            ctx.resuming = False
            report.accepted += outcome.accepted
            step_rejected.extend(outcome.rejected)
            report.warnings.extend(outcome.warnings)
            if not dry_run:
                last = index + 1 == len(steps)
                log.advance(
                    import_id,
                    index + 1,
                    None if last else steps[index + 1].first_row,
                    report.accepted,
                    step_rejected,
                    report.warnings,
                    done=last,
                )
            advance(len(steps[index].rows))
    if not steps and not dry_run:
        log.advance(import_id, 0, None, 0, [], [], done=True)
    report.rejected.extend(step_rejected)
    report.sort()
    return report

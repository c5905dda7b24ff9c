"""The import log: the `imports` table, one row per file content, which makes imports repeatable.

A file is known by the SHA-256 of its content. The same file imported again writes nothing and
answers the first import's report; an interrupted one resumes at the first batch not marked done,
with the batch size it started with (the steps depend on the file's content and that size only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from salur_cases.domain.clock import now
from salur_cases.domain.errors import InvalidCommand
from salur_cases.intake.report import ImportReport, RowProblem
from salur_cases.tables import imports

if TYPE_CHECKING:
    from salur_cases.domain.actor import Actor
    from salur_cases.runtime import Runtime


def content_id(data: bytes) -> str:
    """An import's id: the SHA-256 of the file's content."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Logged:
    """What the log holds of an import: its kind, size, progress and the problems of its batches done."""

    import_id: str
    kind: str
    rows: int
    batch: int
    steps_done: int
    accepted: int
    done: bool
    rejected: list[RowProblem]
    warnings: list[RowProblem]

    def report(self, *, dry_run: bool) -> ImportReport:
        """The report of a finished import, answered again when the same file comes back."""
        return ImportReport(
            self.import_id,
            self.kind,
            self.rows,
            self.accepted,
            list(self.rejected),
            list(self.warnings),
            already_imported=True,
            dry_run=dry_run,
        )


class ImportLog:
    """The `imports` table: one row per file content."""

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.engine

    def find(self, import_id: str, kind: str) -> Logged | None:
        """The import of this content, if any; InvalidCommand when it was imported as another kind."""
        with self.engine.connect() as conn:
            row = conn.execute(select(imports).where(imports.c.import_id == import_id)).mappings().first()
        if row is None:
            return None
        if row["kind"] != kind:
            raise InvalidCommand("kind", f"this file was imported as {row['kind']}")
        rejected, warnings = _load(row["problems"])
        return Logged(
            import_id,
            kind,
            row["rows"],
            row["batch"],
            row["steps_done"],
            row["accepted"],
            row["status"] == "DONE",
            rejected,
            warnings,
        )

    def start(
        self, import_id: str, kind: str, filename: str, rows: int, steps: int, size: int, actor: Actor
    ) -> None:
        """Record a new import, nothing done yet."""
        moment = now()
        with self.engine.begin() as conn:
            conn.execute(
                imports.insert().values(
                    import_id=import_id,
                    kind=kind,
                    filename=Path(filename).name[:255],
                    rows=rows,
                    steps=steps,
                    batch=size,
                    steps_done=0,
                    next_row=None,
                    accepted=0,
                    status="RUNNING",
                    actor=actor.name,
                    role=str(actor.role),
                    started_at=moment,
                    updated_at=moment,
                    problems=_dump([], []),
                )
            )

    def advance(
        self,
        import_id: str,
        steps_done: int,
        next_row: int | None,
        accepted: int,
        rejected: Sequence[RowProblem],
        warnings: Sequence[RowProblem],
        *,
        done: bool = False,
    ) -> None:
        """Mark one more step done (and the import DONE after the last one)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(imports)
                .where(imports.c.import_id == import_id)
                .values(
                    steps_done=steps_done,
                    next_row=None if done else next_row,
                    accepted=accepted,
                    status="DONE" if done else "RUNNING",
                    updated_at=now(),
                    problems=_dump(rejected, warnings),
                )
            )


def _dump(rejected: Sequence[RowProblem], warnings: Sequence[RowProblem]) -> str:
    return json.dumps(
        {"rejected": [p.to_json() for p in rejected], "warnings": [p.to_json() for p in warnings]}
    )


def _load(text: str) -> tuple[list[RowProblem], list[RowProblem]]:
    data: dict[str, Any] = json.loads(text)
    return [RowProblem.from_json(p) for p in data["rejected"]], [
        RowProblem.from_json(p) for p in data["warnings"]
    ]

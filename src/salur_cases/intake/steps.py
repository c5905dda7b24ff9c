"""The steps of an import: each kind plans its checked rows into steps, and each step writes one batch.

A `Kind` checks a file's rows (problems found in the file alone) and cuts the good ones into `Step`s;
a step runs with a `Context` (the application, the actor, whether it is a dry run or a resumption)
and returns an `Outcome`: rows accepted, rows rejected and warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.intake.report import RowProblem

if TYPE_CHECKING:
    from uuid import UUID

    from salur_cases.application import SalurApplication
    from salur_cases.domain.household import Household
    from salur_cases.domain.program import Program
    from salur_cases.intake.rows import Sheet
    from salur_cases.runtime import Runtime

LOOKUP_CHUNK = 20_000
"""No. KK asked about at once when checking which households are registered."""


@dataclass
class Outcome:
    """What one step wrote: rows accepted, problems."""

    accepted: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    def reject(self, rows: Sequence[int], code: str, message: str, column: str | None = None) -> None:
        """Reject these rows with one code."""
        self.rejected.extend(RowProblem(r, column, code, message) for r in rows)


@dataclass
class Context:
    """What a step runs with."""

    app: SalurApplication
    runtime: Runtime
    actor: Actor
    import_id: str
    dry_run: bool
    resuming: bool = False
    _programs: dict[str, Program | None] = field(default_factory=dict)

    def program(self, code: str) -> Program | None:
        """The program (cached for the import), or None."""
        if code not in self._programs:
            try:
                self._programs[code] = self.app.program(code)
            except Refusal:
                self._programs[code] = None
        return self._programs[code]

    def existing(self, no_kks: Sequence[str]) -> set[str]:
        """Those of these No. KK that are registered households."""
        ids = {self.app.household_id(k): k for k in no_kks}
        found: set[UUID] = set()
        keys = list(ids)
        for start in range(0, len(keys), LOOKUP_CHUNK):
            found |= self.app.chained.existing_originator_ids(keys[start : start + LOOKUP_CHUNK])
        return {ids[i] for i in found}

    def household(self, no_kk: str) -> Household | None:
        """A registered household, or None."""
        try:
            return self.app.household(no_kk)
        except Refusal:
            return None


@dataclass
class Step:
    """One batch: the file rows it covers and a function that writes it."""

    rows: list[int]
    run: Callable[[Context], Outcome]

    @property
    def first_row(self) -> int:
        """The first file row of the batch."""
        return min(self.rows) if self.rows else 0


def check_program(
    ctx: Context, out: Outcome, code: str, tahap: int, rows: Sequence[int], header: str
) -> bool:
    """Whether the program has this tahap; else reject the rows UNKNOWN_PROGRAM / UNKNOWN_TAHAP."""
    program = ctx.program(code)
    if program is None:
        out.reject(rows, RefusalCode.UNKNOWN_PROGRAM, "no program with this code", "program")
        return False
    if tahap not in program.tahap:
        out.reject(rows, RefusalCode.UNKNOWN_TAHAP, f"program {code} has no tahap {tahap}", header)
        return False
    return True


class Kind(Protocol):
    """An import kind: checks rows and cuts the good ones into steps."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:
        """Problems found in the file alone, and the steps (of `size` rows or households) writing the rest."""

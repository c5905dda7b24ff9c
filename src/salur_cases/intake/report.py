"""What an import answers: its rejected rows and warnings, and the counts (never a NIK or a name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowProblem:
    """A rejected row or a warning: the file's row number (the header is row 1), column, code, message."""

    row: int
    column: str | None
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowProblem:
        """From `to_json`'s shape."""
        return cls(int(data["row"]), data.get("column"), str(data["code"]), str(data["message"]))


@dataclass
class ImportReport:
    """What an import did: rows read, rows accepted, rejected rows and warnings (never a NIK or a name)."""

    import_id: str
    kind: str
    rows: int
    accepted: int
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    already_imported: bool = False
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The API's answer, JSON-ready: import_id, rows, accepted, rejected, warnings, already_imported."""
        return {
            "import_id": self.import_id,
            "kind": self.kind,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": [p.to_json() for p in self.rejected],
            "warnings": [p.to_json() for p in self.warnings],
            "already_imported": self.already_imported,
            "dry_run": self.dry_run,
        }

    def sort(self) -> None:
        """Problems in file order (then by code)."""
        self.rejected.sort(key=lambda p: (p.row, p.code))
        self.warnings.sort(key=lambda p: (p.row, p.code))

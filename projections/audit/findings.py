"""An anomaly finding: what the rules forbid, found in the data, and who must answer for it.

The invariants refuse most anomalies for the city's own writes; they still arrive as facts (payers'
reports, outside authorities' rosters) or in events written before a rule existed. Each finding has
a `code`, a `severity`, the household (`no_kk`; None for a tahap's own finding), `program`, `tahap`,
`amount_idr` (the Rupiah at stake: the payments it concerns), `evidence` (the public ids of the
events that show it, see `salur_cases.eventlog.event_id`) and `detail`, a JSON object that always
holds `outside_authority` (the finding concerns another authority's own list, see `scope`) and
`authority` (who supplied the seat or list concerned; null for the city's own allocation).

The rules, their scope and their `amount_idr` are documented in docs/anomalies.md; the checks are in
`checks` and `limits`, the filters, pages and summaries in `triage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from salur_cases.projections.schemas import AnomalyRead

CODES = (
    "PAID_BY_TWO_PROGRAMS",
    "NIK_IN_TWO_HOUSEHOLDS",
    "PAID_WITHOUT_PADAN",
    "PAID_WITHOUT_VERVAL",
    "PAID_AFTER_REMOVAL",
    "AMOUNT_MISMATCH",
    "NOT_PROPOSED_BY_DINSOS",
    "OVER_QUOTA",
    "OVER_CEILING",
)
"""The published anomaly codes, in report order."""

Severity = Literal["HIGH", "MEDIUM", "LOW"]
SEVERITIES: tuple[Severity, ...] = ("HIGH", "MEDIUM", "LOW")
"""HIGH: money paid that should not have been; MEDIUM: a step skipped or a limit passed; LOW: another
authority's own list (the city passes it on)."""

_SEVERITY: dict[str, Severity] = {
    "PAID_BY_TWO_PROGRAMS": "HIGH",
    "PAID_AFTER_REMOVAL": "HIGH",
    "NOT_PROPOSED_BY_DINSOS": "HIGH",
    "OVER_CEILING": "HIGH",
    "AMOUNT_MISMATCH": "MEDIUM",
    "PAID_WITHOUT_PADAN": "MEDIUM",
    "PAID_WITHOUT_VERVAL": "MEDIUM",
    "NIK_IN_TWO_HOUSEHOLDS": "MEDIUM",
    "OVER_QUOTA": "MEDIUM",
}
RANK = {code: rank for rank, code in enumerate(CODES)}


@dataclass(slots=True)
class Finding:
    """One anomaly; `household_id` (a keyed id, never PII) orders findings and pages."""

    code: str
    program: str | None
    tahap: int | None
    household_id: str | None
    no_kk: str | None
    evidence: list[str]
    detail: dict[str, Any] = field(default_factory=dict)
    amount_idr: int = 0

    @property
    def outside_authority(self) -> bool:
        """The finding concerns another authority's own list."""
        return bool(self.detail.get("outside_authority"))

    @property
    def authority(self) -> str | None:
        """Who supplied the seat or list concerned (None: the city's own allocation, or no seat)."""
        value = self.detail.get("authority")
        return str(value) if value is not None else None

    @property
    def severity(self) -> Severity:
        """HIGH, MEDIUM or LOW (see SEVERITIES)."""
        return "LOW" if self.outside_authority else _SEVERITY[self.code]

    @property
    def key(self) -> tuple[Any, ...]:
        """The order of the report, and the cursor of a page (unique: the evidence tells findings apart)."""
        return (
            RANK[self.code],
            self.program or "",
            self.tahap or 0,
            self.household_id or "",
            *self.evidence[:2],
        )

    def read(self) -> AnomalyRead:
        """The finding as the API answers it."""
        return AnomalyRead(
            code=self.code,
            severity=self.severity,
            evidence=self.evidence,
            amount_idr=self.amount_idr,
            no_kk=self.no_kk,
            program=self.program,
            tahap=self.tahap,
            detail=self.detail,
        )

    def to_json(self) -> dict[str, Any]:
        """`code`, `severity`, `no_kk`, `program`, `tahap`, `amount_idr`, `evidence`, `detail`."""
        return {
            "code": self.code,
            "severity": self.severity,
            "no_kk": self.no_kk,
            "program": self.program,
            "tahap": self.tahap,
            "amount_idr": self.amount_idr,
            "evidence": self.evidence,
            "detail": self.detail,
        }


def where(authority: str | None, *, outside: bool) -> dict[str, Any]:
    """A detail's accountability fields."""
    return {"outside_authority": outside, "authority": authority}

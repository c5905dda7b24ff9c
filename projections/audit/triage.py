"""The anomaly report (`salur report anomalies`, `GET /audit/anomalies`): filters, pages and summaries.

`find_all` runs the checks a filter needs and keeps what it asks for. Findings about another
authority's own list (`detail.outside_authority`) are summarised in a listing, one line per code,
program, tahap and authority, unless the filter names a program or an authority: the city reports
those lists, it does not answer for each household on them. `summary` gives counts and Rupiah per
code and program, and the headline: the city's most severe finding with the most money at stake.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from salur_cases import tables as t
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import BudgetSource
from salur_cases.projections.audit import checks
from salur_cases.projections.audit.findings import CODES, RANK, SEVERITIES, Finding
from salur_cases.projections.audit.limits import over_limits
from salur_cases.projections.audit.scope import CITY, ProgramScope
from salur_cases.projections.schemas import AnomalyPage

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from salur_cases.runtime import Runtime

MAX_LIMIT = 500
Check = Callable[["Connection", Mapping[str, ProgramScope]], list[Finding]]
_CHECKS: tuple[tuple[tuple[str, ...], Check], ...] = (
    (("PAID_BY_TWO_PROGRAMS",), checks.paid_by_two_programs),
    (("NIK_IN_TWO_HOUSEHOLDS",), checks.nik_in_two_households),
    (("PAID_WITHOUT_PADAN", "PAID_WITHOUT_VERVAL", "NOT_PROPOSED_BY_DINSOS"), checks.household_history),
    (("PAID_AFTER_REMOVAL",), checks.paid_after_removal),
    (("AMOUNT_MISMATCH",), checks.amount_mismatch),
    (("OVER_QUOTA", "OVER_CEILING"), over_limits),
)
"""Each query and the codes it finds (one pass finds several codes)."""

DESCRIPTIONS = {
    "PAID_BY_TWO_PROGRAMS": "paid by two programs in overlapping periods",
    "NIK_IN_TWO_HOUSEHOLDS": "a NIK in two households",
    "PAID_WITHOUT_PADAN": "paid without a MATCHED padan",
    "PAID_WITHOUT_VERVAL": "paid without an ELIGIBLE verval",
    "PAID_AFTER_REMOVAL": "paid after a removal took effect",
    "AMOUNT_MISMATCH": "paid another amount than the tahap's",
    "NOT_PROPOSED_BY_DINSOS": "on an outside roster, never proposed by Dinsos",
    "OVER_QUOTA": "more seats than the quota",
    "OVER_CEILING": "more money than the ceiling",
}


@dataclass(frozen=True)
class Filters:
    """What an inspector asks for; every field optional. Build with `parse` (it validates)."""

    codes: tuple[str, ...] = CODES
    budget_source: str | None = None
    program: str | None = None
    tahap: int | None = None
    authority: str | None = None

    @classmethod
    def parse(
        cls,
        code: str | None = None,
        budget_source: str | None = None,
        program: str | None = None,
        tahap: int | None = None,
        authority: str | None = None,
    ) -> Filters:
        """Validate the filters; `code` may list several codes, comma-separated."""
        codes = tuple(c.strip().upper() for c in code.split(",") if c.strip()) if code else CODES
        unknown = [c for c in codes if c not in CODES]
        if unknown or not codes:
            raise InvalidCommand("code", f"must be one of {', '.join(CODES)}")
        if budget_source is not None and budget_source.upper() not in set(BudgetSource):
            raise InvalidCommand("budget_source", f"must be one of {', '.join(BudgetSource)}")
        if tahap is not None and tahap < 1:
            raise InvalidCommand("tahap", "must be 1 or more")
        if authority is not None and not authority.strip():
            raise InvalidCommand("authority", f"must name an authority ({CITY} for the city's own seats)")
        return cls(
            tuple(c for c in CODES if c in codes),
            budget_source.upper() if budget_source else None,
            program.strip().upper() if program else None,
            tahap,
            authority.strip().upper() if authority else None,
        )

    @property
    def lists_outside(self) -> bool:
        """Whether other authorities' own lists are listed one by one (a program or an authority named)."""
        return self.program is not None or self.authority is not None

    def keeps(self, finding: Finding, scopes: Mapping[str, ProgramScope]) -> bool:
        """Whether the finding answers these filters."""
        scope = scopes.get(finding.program or "")
        return (
            (self.program is None or finding.program == self.program)
            and (self.tahap is None or finding.tahap == self.tahap)
            and (
                self.budget_source is None
                or (scope is not None and scope.budget_source == self.budget_source)
            )
            and (self.authority is None or (finding.authority or CITY) == self.authority)
        )


def program_scopes(conn: Connection) -> dict[str, ProgramScope]:
    """Every defined program's scope, by code."""
    p = t.programs
    return {
        code: ProgramScope(code, group, source)
        for code, group, source in conn.execute(select(p.c.code, p.c.group, p.c.budget_source))
    }


def find_all(runtime: Runtime, filters: Filters | None = None) -> list[Finding]:
    """Every finding the filters keep (default: all), household by household, in report order."""
    filters = filters or Filters()
    wanted = set(filters.codes)
    found: list[Finding] = []
    with runtime.engine.connect() as conn:
        _analyze_if_never(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL work_mem = '64MB'"))  # the report's sorts stay in memory
            conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves on these scans
        scopes = program_scopes(conn)
        if filters.program is not None and filters.program not in scopes:
            raise InvalidCommand("program", "is not a defined program")
        for check_codes, check in _CHECKS:
            if wanted & set(check_codes):
                found.extend(f for f in check(conn, scopes) if f.code in wanted and filters.keeps(f, scopes))
    return sorted(found, key=lambda f: f.key)


def listing(findings: Iterable[Finding], filters: Filters) -> list[Finding]:
    """The report's lines: outside authorities' own lists summarised unless the filters name them."""
    if filters.lists_outside:
        return list(findings)
    lines: list[Finding] = []
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    for finding in findings:
        if finding.outside_authority and finding.household_id is not None:
            groups.setdefault((finding.code, finding.program, finding.tahap, finding.authority), []).append(
                finding
            )
        else:
            lines.append(finding)
    for (code, program, tahap, authority), members in groups.items():
        lines.append(
            Finding(
                code,
                program,
                tahap,
                None,
                None,
                members[0].evidence,
                {
                    "outside_authority": True,
                    "authority": authority,
                    "summarised": True,
                    "findings": len(members),
                    "households": len({m.household_id for m in members}),
                },
                sum(m.amount_idr for m in members),
            )
        )
    return sorted(lines, key=lambda f: f.key)


def anomalies(
    runtime: Runtime, filters: Filters | None = None, limit: int = 50, cursor: str | None = None
) -> AnomalyPage:
    """One page of the report's lines, in report order, with the cursor of the next page."""
    filters = filters or Filters()
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCommand("limit", f"must be 1 to {MAX_LIMIT}")
    after = _decode_cursor(cursor) if cursor else None
    lines = listing(find_all(runtime, filters), filters)
    if after is not None:
        lines = [f for f in lines if f.key > after]
    page = lines[:limit]
    next_cursor = _encode_cursor(list(page[-1].key)) if len(lines) > limit else None
    return AnomalyPage([f.read() for f in page], next_cursor)


def summary(findings: Iterable[Finding], scopes: Mapping[str, ProgramScope]) -> list[dict[str, Any]]:
    """Counts and Rupiah per code and program (and authority), most severe and costly first."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in findings:
        scope = scopes.get(f.program or "")
        line = groups.setdefault(
            (f.code, f.program, f.authority, f.outside_authority),
            {
                "severity": f.severity,
                "code": f.code,
                "program": f.program,
                "budget_source": scope.budget_source if scope else None,
                "authority": f.authority or CITY,
                "outside_authority": f.outside_authority,
                "tahap": set(),
                "findings": 0,
                "households": set(),
                "amount_idr": 0,
            },
        )
        line["findings"] += 1
        line["amount_idr"] += f.amount_idr
        if f.tahap is not None:
            line["tahap"].add(f.tahap)
        if f.household_id is not None:
            line["households"].add(f.household_id)
    lines = [
        {**line, "tahap": sorted(line["tahap"]), "households": len(line["households"])}
        for line in groups.values()
    ]
    return sorted(
        lines,
        key=lambda g: (
            SEVERITIES.index(g["severity"]),
            -g["amount_idr"],
            RANK[g["code"]],
            g["program"] or "",
        ),
    )


def headline(lines: list[dict[str, Any]]) -> str | None:
    """The city's most severe finding with the most Rupiah at stake, in one sentence (None: nothing)."""
    own = [g for g in lines if not g["outside_authority"]]
    if not own:
        return None
    top = own[0]  # `summary` orders by severity, then Rupiah
    where = f" in {top['program']}" if top["program"] else ""
    tahap = f" tahap {', '.join(map(str, top['tahap']))}" if top["tahap"] else ""
    roster = f" ({top['authority']}'s roster)" if top["authority"] != CITY else ""
    households = f"{top['households']:,} households, " if top["households"] else ""
    return (
        f"{top['severity']} {top['code']}: {households}{top['findings']:,} findings{where}{tahap}{roster}: "
        f"{DESCRIPTIONS[top['code']]}; Rp{top['amount_idr']:,} at stake"
    )


def _analyze_if_never(conn: Connection) -> None:
    """Give PostgreSQL's planner statistics for read-model tables that were never analyzed (a fresh load).

    Without them it guesses tiny tables and picks nested loops that take minutes at the city's scale.
    """
    if conn.dialect.name != "postgresql":
        return
    tables = (
        t.payment_ledger,
        t.program_tahap,
        t.tahap_roster,
        t.timeline,
        t.withdrawal,
        t.household,
        t.person_index,
    )
    never = (
        conn.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND relname = ANY(:names) AND last_analyze IS NULL AND last_autoanalyze IS NULL"
            ),
            {"names": [table.name for table in tables]},
        )
        .scalars()
        .all()
    )
    for name in never:
        conn.execute(text(f'ANALYZE "{name}"'))
    if never:
        conn.commit()


def _encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error):
        raise InvalidCommand("cursor", "is not a cursor this report gave") from None
    if not isinstance(key, list) or len(key) < 4 or not isinstance(key[0], int):  # noqa: PLR2004
        raise InvalidCommand("cursor", "is not a cursor this report gave")
    return tuple(key)

"""The anomaly report (`salur report anomalies`, `GET /audit/anomalies`): what the rules forbid, in the data.

The invariants refuse most of these for the city's own writes; they still arrive as facts (payers'
reports, outside authorities' rosters) or in events written before a rule existed. Each finding has
a `code`, the household (`no_kk`; None for a tahap's own finding), `program`, `tahap`, `evidence`
(the public ids of the events that show it, see `salur_cases.eventlog.event_id`) and `detail`.
Payment and seat findings carry `detail.outside_authority` (and `authority`): whether the seat came
from an outside authority's roster, so those lists are reported apart from the city's own.

| code | finding |
| --- | --- |
| PAID_BY_TWO_PROGRAMS | standing PAID payments by two programs whose tahap periods overlap |
| NIK_IN_TWO_HOUSEHOLDS | a NIK among the current members of two households (a finding per household) |
| PAID_WITHOUT_PADAN | a PAID payment while the latest padan recorded before it was not MATCHED (or none) |
| PAID_WITHOUT_VERVAL | a PAID payment while the latest verval recorded before it was not ELIGIBLE (or none) |
| PAID_AFTER_REMOVAL | paid on or after a removal's (or transfer's) effective date, however late recorded |
| AMOUNT_MISMATCH | a PAID amount different from the tahap's amount per household |
| NOT_PROPOSED_BY_DINSOS | a seat from an outside roster, with no ELIGIBLE verval recorded before it |
| OVER_QUOTA | a tahap holding more households than its quota |
| OVER_CEILING | a tahap committing, or paying net of returns, more than its budget ceiling |

Every check is a set-based query over the read models (`payment_ledger`, `tahap_roster`, `timeline`,
`withdrawal`, `household`, `person_index`, `program_tahap`); Python only shapes the findings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, null, or_, select, text, union_all

from salur_cases import tables as t
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.program import Program
from salur_cases.domain.vocabulary import PadanResult, VervalDecision
from salur_cases.eventlog import EVENT_NAMESPACE
from salur_cases.projections.schemas import AnomalyPage, AnomalyRead

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from salur_cases.runtime import Runtime

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
"""CONTRACT.md's anomaly codes, in report order."""

ASSIGNED = "household.Assigned"
_RANK = {code: rank for rank, code in enumerate(CODES)}
MAX_LIMIT = 500
IN_CHUNK = 500
"""Ids per `IN (...)` list in the few follow-up queries that fetch a finding's details."""
_PADAN = tuple(str(r) for r in PadanResult)
_VERVAL = tuple(str(d) for d in VervalDecision)
_UNKNOWN_OUTCOME = 15
_EVENT_NAMESPACE = EVENT_NAMESPACE.bytes
_MEMBER_TYPES = (
    "household.Proposed",
    "household.MembersRecorded",
    "household.MemberMovedIn",
    "household.Corrected",
)


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

    @property
    def key(self) -> tuple[Any, ...]:
        """The order of the report, and the cursor of a page (unique: the evidence tells findings apart)."""
        return (
            _RANK[self.code],
            self.program or "",
            self.tahap or 0,
            self.household_id or "",
            *self.evidence[:2],
        )

    def read(self) -> AnomalyRead:
        """The finding as the API answers it."""
        return AnomalyRead(self.code, self.evidence, self.no_kk, self.program, self.tahap, self.detail)

    def to_json(self) -> dict[str, Any]:
        """`code`, `no_kk`, `program`, `tahap`, `evidence`, `detail`."""
        return {
            "code": self.code,
            "no_kk": self.no_kk,
            "program": self.program,
            "tahap": self.tahap,
            "evidence": self.evidence,
            "detail": self.detail,
        }


def anomalies(
    runtime: Runtime, code: str | None = None, limit: int = 50, cursor: str | None = None
) -> AnomalyPage:
    """One page of findings (all codes, or one), in report order, with the cursor of the next page."""
    if code is not None and code not in CODES:
        raise InvalidCommand("code", f"must be one of {', '.join(CODES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCommand("limit", f"must be 1 to {MAX_LIMIT}")
    after = _decode_cursor(cursor) if cursor else None
    findings = find_all(runtime, [code] if code else list(CODES))
    if after is not None:
        findings = [f for f in findings if f.key > after]
    page = findings[:limit]
    next_cursor = _encode_cursor(list(page[-1].key)) if len(findings) > limit else None
    return AnomalyPage([f.read() for f in page], next_cursor)


def find_all(runtime: Runtime, codes: list[str] | None = None) -> list[Finding]:
    """Every finding of these codes (default all), in report order."""
    wanted = set(codes or CODES)
    found: list[Finding] = []
    with runtime.engine.connect() as conn:
        _analyze_if_never(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL work_mem = '64MB'"))  # the report's sorts stay in memory
            conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves on these scans
        for check_codes, check in _CHECKS:
            if wanted & set(check_codes):
                found.extend(f for f in check(conn) if f.code in wanted)
    return sorted(found, key=lambda f: f.key)


def _analyze_if_never(conn: Connection) -> None:
    """Give PostgreSQL's planner statistics for read-model tables that were never analyzed (a fresh load).

    Without them it guesses tiny tables and picks nested loops that take minutes at the city's scale.
    """
    if conn.dialect.name != "postgresql":
        return
    names = [table.name for table in (pl, pt, roster, tl, wd, hh, t.person_index)]
    never = (
        conn.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND relname = ANY(:names) AND last_analyze IS NULL AND last_autoanalyze IS NULL"
            ),
            {"names": names},
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


# --- the checks -------------------------------------------------------------------------------

pl, pt, roster, tl, wd, hh = (
    t.payment_ledger,
    t.program_tahap,
    t.tahap_roster,
    t.timeline,
    t.withdrawal,
    t.household,
)


def _paid() -> Any:
    """PAID rows of the payment ledger, with the seat's authority (None for the city or no seat)."""
    return (
        select(pl, roster.c.authority)
        .outerjoin(
            roster,
            and_(
                roster.c.household_id == pl.c.household_id,
                roster.c.program == pl.c.program,
                roster.c.tahap == pl.c.tahap,
            ),
        )
        .where(pl.c.status == "PAID")
    )


def _outside(authority: str | None) -> dict[str, Any]:
    return {"outside_authority": authority is not None, "authority": authority}


def _paid_by_two_programs(conn: Connection) -> list[Finding]:
    """Households with PAID reports from two programs (one hash aggregate), then their standing pairs."""
    candidates = (
        conn.execute(
            select(pl.c.household_id)
            .where(pl.c.status == "PAID")
            .group_by(pl.c.household_id)
            .having(func.min(pl.c.program) != func.max(pl.c.program))
        )
        .scalars()
        .all()
    )
    findings: list[Finding] = []
    for start in range(0, len(candidates), IN_CHUNK):
        chunk = candidates[start : start + IN_CHUNK]
        rows = conn.execute(
            select(
                pl.c.position,
                pl.c.event_id,
                pl.c.household_id,
                pl.c.no_kk,
                pl.c.program,
                pl.c.tahap,
                pl.c.status,
                pt.c.starts_on,
                pt.c.ends_on,
            )
            .join(pt, and_(pt.c.program == pl.c.program, pt.c.tahap == pl.c.tahap))
            .where(pl.c.household_id.in_(chunk), pl.c.status.in_(("PAID", "RETURNED")))
            .order_by(pl.c.position)
        ).all()
        standing: dict[tuple[str, str, int], Any] = {}
        for row in rows:  # the latest PAID or RETURNED of each seat decides
            standing[row.household_id, row.program, row.tahap] = row
        paid: dict[str, list[Any]] = defaultdict(list)
        for row in sorted(standing.values(), key=lambda r: r.program):
            if row.status == "PAID":
                paid[row.household_id].append(row)
        for a, b in ((a, b) for seats in paid.values() for i, a in enumerate(seats) for b in seats[i + 1 :]):
            if b.program != a.program and a.starts_on <= b.ends_on and b.starts_on <= a.ends_on:
                findings.append(
                    Finding(
                        "PAID_BY_TWO_PROGRAMS",
                        a.program,
                        a.tahap,
                        a.household_id,
                        a.no_kk,
                        [a.event_id, b.event_id],
                        {"other_program": b.program, "other_tahap": b.tahap},
                    )
                )
    return findings


def _nik_in_two_households(conn: Connection) -> list[Finding]:
    """Members whose NIK the person index gives to another household: the NIK is in both."""
    if conn.dialect.name == "postgresql":
        members = (
            f"SELECT m.value ->> 'nik_hash' AS nik_hash, h.household_id "  # noqa: S608 - table names
            f"FROM {hh.name} h CROSS JOIN LATERAL jsonb_array_elements(CAST(h.members AS jsonb)) AS m(value)"
        )
    else:
        members = (
            f"SELECT json_extract(m.value, '$.nik_hash') AS nik_hash, h.household_id "  # noqa: S608
            f"FROM {hh.name} h, json_each(h.members) AS m"
        )
    person = t.person_index.name
    rows = conn.execute(
        text(
            f"SELECT m.nik_hash, m.household_id, p.household_id FROM ({members}) m "  # noqa: S608
            f"JOIN {person} p ON p.nik_hash = m.nik_hash WHERE p.household_id <> m.household_id"
        )
    ).all()
    sharing: dict[str, set[str]] = defaultdict(set)
    for nik_hash, household_id, claimed_by in rows:
        sharing[nik_hash].update((household_id, claimed_by))
    ids = sorted({h for holders in sharing.values() for h in holders})
    no_kk: dict[str, str] = {}
    member_event: dict[str, str] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        no_kk.update(
            (h, k)
            for h, k in conn.execute(
                select(hh.c.household_id, hh.c.no_kk).where(hh.c.household_id.in_(chunk))
            )
        )
        latest = (
            select(tl.c.aggregate_id, func.max(tl.c.position).label("position"))
            .where(tl.c.aggregate_id.in_(chunk), tl.c.type.in_(_MEMBER_TYPES))
            .group_by(tl.c.aggregate_id)
            .subquery()
        )
        member_event.update(
            (h, e)
            for h, e in conn.execute(
                select(tl.c.aggregate_id, tl.c.event_id).join(latest, latest.c.position == tl.c.position)
            )
        )
    findings: dict[str, Finding] = {}
    for holders in sharing.values():
        for household_id in sorted(holders):
            finding = findings.setdefault(
                household_id,
                Finding(
                    "NIK_IN_TWO_HOUSEHOLDS",
                    None,
                    None,
                    household_id,
                    no_kk.get(household_id),
                    [],
                    {"other_no_kk": [], "shared_niks": 0},
                ),
            )
            finding.detail["shared_niks"] += 1
            others = [no_kk.get(h) for h in sorted(holders) if h != household_id]
            finding.detail["other_no_kk"].extend(o for o in others if o not in finding.detail["other_no_kk"])
            for holder in [household_id, *sorted(holders)]:
                event = member_event.get(holder)
                if event and event not in finding.evidence:
                    finding.evidence.append(event)
    return list(findings.values())


def _stamped(value: Any, outcomes: tuple[str, ...]) -> Any:
    """An event's position, version and outcome as one integer whose order is the position's.

    The latest of several stamps (MAX) then carries the latest event's version (hence its id) and
    outcome along: `position << 20 | version << 4 | index of the outcome in outcomes (+1)`.
    """
    code = case(*((value == outcome, i + 1) for i, outcome in enumerate(outcomes)), else_=_UNKNOWN_OUTCOME)
    return case((value.is_(None), null()), else_=tl.c.position * 1_048_576 + tl.c.version * 16 + code)


def _unstamp(
    stamp: int | None, household_id: str, outcomes: tuple[str, ...]
) -> tuple[str | None, str | None]:
    """(event id, outcome) of a `_stamped` integer."""
    if stamp is None:
        return None, None
    code = stamp & 0xF
    outcome = outcomes[code - 1] if 0 < code <= len(outcomes) else None
    return fast_event_id(household_id, (stamp >> 4) & 0xFFFF), outcome


def fast_event_id(aggregate_id: str, version: int) -> str:
    """`salur_cases.eventlog.event_id` (uuid5 over "<aggregate_id>/<version>") without UUID objects.

    Six times faster, which counts for a quarter of a million findings.
    """
    name = f"{aggregate_id}/{version}".encode()
    digest = bytearray(hashlib.sha1(_EVENT_NAMESPACE + name).digest()[:16])  # noqa: S324 - uuid5 is SHA-1
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _household_history(conn: Connection) -> list[Finding]:
    """PAID_WITHOUT_PADAN, PAID_WITHOUT_VERVAL and NOT_PROPOSED_BY_DINSOS in one ordered pass.

    Per household, in position order, padan and verval decisions, outside rosters' assignments and
    PAID payments: a window's running MAX over position-stamped values carries the latest padan and
    verval, and whether any ELIGIBLE verval was recorded yet, to each payment and assignment.
    """
    padan_type, verval_type, assigned_type = (
        "household.PopulationMatched",
        "household.VervalDecided",
        ASSIGNED,
    )
    decision = tl.c.data["decision"].as_string()
    outside = tl.c.data["authority"].as_string()
    marks = union_all(
        select(
            tl.c.aggregate_id.label("household_id"),
            tl.c.position,
            tl.c.type.label("kind"),
            tl.c.event_id,
            _stamped(tl.c.data["result"].as_string(), _PADAN).label("padan"),
            _stamped(decision, _VERVAL).label("verval"),
            case((decision == "ELIGIBLE", 1)).label("eligible"),
            outside.label("authority"),
            tl.c.data["program"].as_string().label("program"),
            tl.c.data["tahap"].as_integer().label("tahap"),
            null().label("no_kk"),
        ).where(
            or_(
                tl.c.type.in_((padan_type, verval_type)),
                and_(tl.c.type == assigned_type, outside.is_not(None)),
            )
        ),
        select(
            pl.c.household_id,
            pl.c.position,
            literal("PAID"),
            pl.c.event_id,
            null(),
            null(),
            null(),
            null(),
            pl.c.program,
            pl.c.tahap,
            pl.c.no_kk,
        ).where(pl.c.status == "PAID"),
    ).subquery("marks")
    household, position = marks.c.household_id, marks.c.position
    carried = select(
        *marks.c,
        func.max(marks.c.padan).over(partition_by=household, order_by=position).label("padan_then"),
        func.max(marks.c.verval).over(partition_by=household, order_by=position).label("verval_then"),
        func.max(marks.c.eligible).over(partition_by=household, order_by=position).label("eligible_then"),
    ).subquery("carried")
    paid_wrong = and_(
        carried.c.kind == "PAID",
        or_(
            func.coalesce(carried.c.padan_then.op("%")(16), 0) != 1 + _PADAN.index("MATCHED"),
            func.coalesce(carried.c.verval_then.op("%")(16), 0) != 1 + _VERVAL.index("ELIGIBLE"),
        ),
    )
    never_proposed = and_(carried.c.kind == assigned_type, carried.c.eligible_then.is_(None))
    rows = conn.execute(
        select(
            carried.c.kind,
            carried.c.program,
            carried.c.tahap,
            carried.c.household_id,
            func.coalesce(carried.c.no_kk, roster.c.no_kk),
            carried.c.event_id,
            func.coalesce(carried.c.authority, roster.c.authority),
            roster.c.household_id.is_not(None),
            carried.c.padan_then,
            carried.c.verval_then,
        )
        .outerjoin(
            roster,
            and_(
                roster.c.household_id == carried.c.household_id,
                roster.c.program == carried.c.program,
                roster.c.tahap == carried.c.tahap,
            ),
        )
        .where(or_(paid_wrong, never_proposed))
    ).all()
    findings: list[Finding] = []
    for (
        kind,
        program,
        tahap,
        household_id,
        no_kk,
        event_id,
        authority,
        seated,
        padan_stamp,
        verval_stamp,
    ) in rows:
        where = (program, tahap, household_id, no_kk)
        detail = {"outside_authority": authority is not None, "authority": authority}
        if kind == assigned_type:
            findings.append(Finding("NOT_PROPOSED_BY_DINSOS", *where, [event_id], detail))
            continue
        padan_event, padan = _unstamp(padan_stamp, household_id, _PADAN)
        verval_event, verval = _unstamp(verval_stamp, household_id, _VERVAL)
        if padan != "MATCHED":
            evidence = [event_id, padan_event] if padan_event else [event_id]
            findings.append(
                Finding("PAID_WITHOUT_PADAN", *where, evidence, {**detail, "seated": seated, "padan": padan})
            )
        if verval != "ELIGIBLE":
            evidence = [event_id, verval_event] if verval_event else [event_id]
            findings.append(
                Finding(
                    "PAID_WITHOUT_VERVAL", *where, evidence, {**detail, "seated": seated, "verval": verval}
                )
            )
    return findings


def _paid_after_removal(conn: Connection) -> list[Finding]:
    paid = _paid().subquery("paid")
    rows = conn.execute(
        select(
            paid,
            wd.c.event_id.label("removal_event"),
            wd.c.kind,
            wd.c.effective_on,
            wd.c.recorded_at.label("removal_recorded_at"),
            wd.c.authority.label("removed_by"),
        ).join(
            wd,
            and_(
                wd.c.household_id == paid.c.household_id,
                wd.c.program == paid.c.program,
                wd.c.tahap <= paid.c.tahap,
                wd.c.effective_on <= paid.c.paid_on,
                or_(wd.c.reinstated_on.is_(None), wd.c.reinstated_on > paid.c.paid_on),
            ),
        )
    )
    return [
        Finding(
            "PAID_AFTER_REMOVAL",
            row.program,
            row.tahap,
            row.household_id,
            row.no_kk,
            [row.event_id, row.removal_event],
            {
                **_outside(row.authority),
                "kind": row.kind,
                "removed_by": row.removed_by,
                "effective_on": row.effective_on.isoformat(),
                "paid_on": row.paid_on.isoformat(),
                "recorded_after_payment": row.removal_recorded_at > row.recorded_at,
            },
        )
        for row in rows
    ]


def _amount_mismatch(conn: Connection) -> list[Finding]:
    paid = _paid().subquery("paid")
    rows = conn.execute(
        select(paid, pt.c.amount_idr.label("tahap_amount_idr"), pt.c.opened_event_id)
        .join(pt, and_(pt.c.program == paid.c.program, pt.c.tahap == paid.c.tahap))
        .where(paid.c.amount_idr != pt.c.amount_idr)
    )
    return [
        Finding(
            "AMOUNT_MISMATCH",
            row.program,
            row.tahap,
            row.household_id,
            row.no_kk,
            [row.event_id, row.opened_event_id],
            {
                **_outside(row.authority),
                "amount_idr": row.amount_idr,
                "tahap_amount_idr": row.tahap_amount_idr,
            },
        )
        for row in rows
    ]


def _over_limits(conn: Connection) -> list[Finding]:
    """OVER_QUOTA and OVER_CEILING, with the seat commitments that crossed the line as evidence."""
    per_tahap = (roster.c.program, roster.c.tahap)
    seats = {
        (p, n): count for p, n, count in conn.execute(select(*per_tahap, func.count()).group_by(*per_tahap))
    }
    signed = case(
        (pl.c.status == "PAID", pl.c.amount_idr), (pl.c.status == "RETURNED", -pl.c.amount_idr), else_=0
    )
    net_paid = {
        (p, n): int(net)
        for p, n, net in conn.execute(
            select(pl.c.program, pl.c.tahap, func.sum(signed)).group_by(pl.c.program, pl.c.tahap)
        )
    }
    findings: list[Finding] = []
    for row in conn.execute(select(pt)).all():
        assigned = max(seats.get((row.program, row.tahap), 0), row.assigned)
        net = net_paid.get((row.program, row.tahap), 0)
        if assigned <= row.quota and max(row.committed_idr, net) <= row.budget_ceiling_idr:
            continue
        commitments = _commitments(conn, row.program, row.tahap)
        if assigned > row.quota:
            crossing = _crossing(commitments, row.quota, lambda c: len(c[1]["households"]))
            findings.append(
                Finding(
                    "OVER_QUOTA",
                    row.program,
                    row.tahap,
                    None,
                    None,
                    [row.opened_event_id, *crossing],
                    {"quota": row.quota, "assigned": assigned, **_authorities(commitments)},
                )
            )
        if row.committed_idr > row.budget_ceiling_idr or net > row.budget_ceiling_idr:
            crossing = _crossing(commitments, row.budget_ceiling_idr, lambda c: int(c[1]["amount_idr"]))
            findings.append(
                Finding(
                    "OVER_CEILING",
                    row.program,
                    row.tahap,
                    None,
                    None,
                    [row.opened_event_id, *crossing],
                    {
                        "ceiling_idr": row.budget_ceiling_idr,
                        "committed_idr": row.committed_idr,
                        "net_paid_idr": net,
                        **_authorities(commitments),
                    },
                )
            )
    return findings


def _commitments(conn: Connection, program: str, tahap: int) -> list[tuple[str, dict[str, Any]]]:
    """The tahap's SeatsCommitted events in order: (event id, data)."""
    rows = conn.execute(
        select(tl.c.event_id, tl.c.data)
        .where(
            tl.c.aggregate_id == str(Program.create_id(program)),
            tl.c.type == "program.SeatsCommitted",
            tl.c.data["tahap"].as_integer() == tahap,
        )
        .order_by(tl.c.position)
    )
    return [(event_id, data) for event_id, data in rows]


def _crossing(
    commitments: list[tuple[str, dict[str, Any]]],
    limit: int,
    size: Callable[[tuple[str, dict[str, Any]]], int],
) -> list[str]:
    """The commitments from the one that first went past `limit` on."""
    total, crossing = 0, []
    for commitment in commitments:
        total += size(commitment)
        if total > limit:
            crossing.append(commitment[0])
    return crossing


def _authorities(commitments: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    outside = sorted({c[1]["authority"] for c in commitments if c[1].get("authority")})
    return {"outside_authority": bool(outside), "authorities": outside}


_CHECKS: tuple[tuple[tuple[str, ...], Callable[[Connection], list[Finding]]], ...] = (
    (("PAID_BY_TWO_PROGRAMS",), _paid_by_two_programs),
    (("NIK_IN_TWO_HOUSEHOLDS",), _nik_in_two_households),
    (("PAID_WITHOUT_PADAN", "PAID_WITHOUT_VERVAL", "NOT_PROPOSED_BY_DINSOS"), _household_history),
    (("PAID_AFTER_REMOVAL",), _paid_after_removal),
    (("AMOUNT_MISMATCH",), _amount_mismatch),
    (("OVER_QUOTA", "OVER_CEILING"), _over_limits),
)
"""Each query and the codes it finds (one pass finds several codes)."""

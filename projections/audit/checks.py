"""The anomaly checks on households and payments: each a set-based query over the read models.

`payment_ledger`, `tahap_roster`, `timeline`, `withdrawal`, `household` and `person_index` hold
what the checks need; Python only shapes the findings. Each check takes the programs' scopes
(`scope.ProgramScope` by code) and leaves out what the city does not own (docs/anomalies.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, false, func, literal, null, or_, select, text, union_all

from salur_cases import tables as t
from salur_cases.domain import payloads
from salur_cases.domain.vocabulary import PadanResult, VervalDecision
from salur_cases.projections.audit.findings import Finding, where
from salur_cases.projections.audit.scope import ProgramScope, outside
from salur_cases.projections.projector import fast_event_id

if TYPE_CHECKING:
    from sqlalchemy import Connection

Scopes = Mapping[str, ProgramScope]
ASSIGNED = payloads.Assigned.EVENT_TYPE
IN_CHUNK = 500
"""Ids per `IN (...)` list in the few follow-up queries that fetch a finding's details."""
_PADAN = tuple(str(r) for r in PadanResult)
_VERVAL = tuple(str(d) for d in VervalDecision)
_UNKNOWN_OUTCOME = 15
_MEMBER_TYPES = (
    payloads.Proposed.EVENT_TYPE,
    payloads.MembersRecorded.EVENT_TYPE,
    payloads.MemberMovedIn.EVENT_TYPE,
    payloads.Corrected.EVENT_TYPE,
)

pl, pt, roster, tl, wd, hh = (
    t.payment_ledger,
    t.program_tahap,
    t.tahap_roster,
    t.timeline,
    t.withdrawal,
    t.household,
)


def _seat_of(table: Any) -> Any:
    """The join condition of a row with its seat (household, program, tahap) in the roster."""
    return and_(
        roster.c.household_id == table.c.household_id,
        roster.c.program == table.c.program,
        roster.c.tahap == table.c.tahap,
    )


def _paid() -> Any:
    """PAID rows of the payment ledger, with the seat's authority (None for the city or no seat)."""
    return select(pl, roster.c.authority).outerjoin(roster, _seat_of(pl)).where(pl.c.status == "PAID")


def paid_by_two_programs(conn: Connection, scopes: Scopes) -> list[Finding]:
    """Households with PAID reports from two programs (one hash aggregate), then their standing pairs.

    `amount_idr`: the finding's own program's payment (the second one of the pair is its own finding
    only when the other program is listed first).
    """
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
                pl.c.amount_idr,
                pt.c.starts_on,
                pt.c.ends_on,
                roster.c.authority,
            )
            .join(pt, and_(pt.c.program == pl.c.program, pt.c.tahap == pl.c.tahap))
            .outerjoin(roster, _seat_of(pl))
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
                both_outside = outside(scopes.get(a.program)) and outside(scopes.get(b.program))
                findings.append(
                    Finding(
                        "PAID_BY_TWO_PROGRAMS",
                        a.program,
                        a.tahap,
                        a.household_id,
                        a.no_kk,
                        [a.event_id, b.event_id],
                        {
                            **where(a.authority, outside=both_outside),
                            "other_program": b.program,
                            "other_tahap": b.tahap,
                            "other_amount_idr": int(b.amount_idr),
                        },
                        int(a.amount_idr),
                    )
                )
    return findings


def nik_in_two_households(conn: Connection, scopes: Scopes) -> list[Finding]:  # noqa: ARG001 - every check's signature
    """Members whose NIK the person index gives to another household: the NIK is in both.

    Registration is the city's own data (never another authority's list). `amount_idr`: what the
    household was paid, net of returns, across every program.
    """
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
    paid: dict[str, int] = {}
    signed = case((pl.c.status == "PAID", pl.c.amount_idr), (pl.c.status == "RETURNED", -pl.c.amount_idr))
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
        paid.update(
            (h, int(net or 0))
            for h, net in conn.execute(
                select(pl.c.household_id, func.sum(signed))
                .where(pl.c.household_id.in_(chunk))
                .group_by(pl.c.household_id)
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
                    {**where(None, outside=False), "other_no_kk": [], "shared_niks": 0},
                    paid.get(household_id, 0),
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


def _history_marks() -> Any:
    """Per household, padan and verval decisions, outside rosters' assignments and PAID payments."""
    decision = tl.c.data["decision"].as_string()
    authority = tl.c.data["authority"].as_string()
    return union_all(
        select(
            tl.c.aggregate_id.label("household_id"),
            tl.c.position,
            tl.c.type.label("kind"),
            tl.c.event_id,
            _stamped(tl.c.data["result"].as_string(), _PADAN).label("padan"),
            _stamped(decision, _VERVAL).label("verval"),
            case((decision == "ELIGIBLE", 1)).label("eligible"),
            authority.label("authority"),
            tl.c.data["program"].as_string().label("program"),
            tl.c.data["tahap"].as_integer().label("tahap"),
            null().label("no_kk"),
            null().label("amount_idr"),
        ).where(
            or_(
                tl.c.type.in_((payloads.PopulationMatched.EVENT_TYPE, payloads.VervalDecided.EVENT_TYPE)),
                and_(tl.c.type == ASSIGNED, authority.is_not(None)),
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
            pl.c.amount_idr,
        ).where(pl.c.status == "PAID"),
    ).subquery("marks")


def household_history(conn: Connection, scopes: Scopes) -> list[Finding]:
    """PAID_WITHOUT_PADAN, PAID_WITHOUT_VERVAL and NOT_PROPOSED_BY_DINSOS in one ordered pass.

    A window's running MAX over position-stamped values carries the latest padan and verval, and
    whether any ELIGIBLE verval was recorded yet, to each payment and assignment. Only what the city
    owns is kept: assignments on city-fed programs, payments on city-fed programs or on seats the
    city allocated by its own rule.
    """
    marks = _history_marks()
    household, position = marks.c.household_id, marks.c.position
    carried = select(
        *marks.c,
        func.max(marks.c.padan).over(partition_by=household, order_by=position).label("padan_then"),
        func.max(marks.c.verval).over(partition_by=household, order_by=position).label("verval_then"),
        func.max(marks.c.eligible).over(partition_by=household, order_by=position).label("eligible_then"),
    ).subquery("carried")
    fed = sorted(code for code, scope in scopes.items() if scope.city_fed)
    on_fed = carried.c.program.in_(fed) if fed else false()
    paid_wrong = and_(
        carried.c.kind == "PAID",
        or_(on_fed, and_(roster.c.household_id.is_not(None), roster.c.authority.is_(None))),
        or_(
            func.coalesce(carried.c.padan_then.op("%")(16), 0) != 1 + _PADAN.index("MATCHED"),
            func.coalesce(carried.c.verval_then.op("%")(16), 0) != 1 + _VERVAL.index("ELIGIBLE"),
        ),
    )
    never_proposed = and_(carried.c.kind == ASSIGNED, on_fed, carried.c.eligible_then.is_(None))
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
            func.coalesce(carried.c.amount_idr, roster.c.amount_idr, 0),
        )
        .outerjoin(roster, _seat_of(carried))
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
        amount,
    ) in rows:
        at = (program, tahap, household_id, no_kk)
        detail = where(authority, outside=outside(scopes.get(program)))
        if kind == ASSIGNED:
            findings.append(Finding("NOT_PROPOSED_BY_DINSOS", *at, [event_id], detail, int(amount)))
            continue
        padan_event, padan = _unstamp(padan_stamp, household_id, _PADAN)
        verval_event, verval = _unstamp(verval_stamp, household_id, _VERVAL)
        context = {**detail, "seated": bool(seated)}
        if padan != "MATCHED":
            evidence = [event_id, padan_event] if padan_event else [event_id]
            findings.append(
                Finding("PAID_WITHOUT_PADAN", *at, evidence, {**context, "padan": padan}, int(amount))
            )
        if verval != "ELIGIBLE":
            evidence = [event_id, verval_event] if verval_event else [event_id]
            findings.append(
                Finding("PAID_WITHOUT_VERVAL", *at, evidence, {**context, "verval": verval}, int(amount))
            )
    return findings


def paid_after_removal(conn: Connection, scopes: Scopes) -> list[Finding]:
    """PAID on or after a removal's (or transfer's) effective date, however late recorded."""
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
                **where(row.authority, outside=outside(scopes.get(row.program))),
                "kind": row.kind,
                "removed_by": row.removed_by,
                "effective_on": row.effective_on.isoformat(),
                "paid_on": row.paid_on.isoformat(),
                "recorded_after_payment": row.removal_recorded_at > row.recorded_at,
            },
            int(row.amount_idr),
        )
        for row in rows
    ]


def amount_mismatch(conn: Connection, scopes: Scopes) -> list[Finding]:
    """A PAID amount different from the tahap's amount per household."""
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
                **where(row.authority, outside=outside(scopes.get(row.program))),
                "amount_idr": int(row.amount_idr),
                "tahap_amount_idr": int(row.tahap_amount_idr),
            },
            int(row.amount_idr),
        )
        for row in rows
    ]

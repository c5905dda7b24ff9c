"""Reads over the read models: households as of a moment, rosters, timelines, the feed, lookups.

`as_of` is a recorded time (what the system knew then); `effective_on` a date by which decisions
took effect (a removal decreed on the 21st with effect from the 1st counts on the 10th). Lists
page with opaque cursors that never carry a No. KK or NIK.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, select

from salur_cases import tables as t
from salur_cases.domain.clock import WIB
from salur_cases.domain.household import Household
from salur_cases.domain.parsing import parse_nik, parse_no_kk
from salur_cases.domain.program import Program
from salur_cases.eventlog import record_of
from salur_cases.identifiers import keyed_hex
from salur_cases.projections.projector import fold_name, wib_date
from salur_cases.projections.runner import position as applied_position
from salur_cases.projections.runner import status
from salur_cases.projections.schemas import (
    EventPage,
    EventRead,
    FeedPage,
    HouseholdRead,
    PublicStatusRead,
    RosterItem,
    RosterPage,
)
from salur_cases.projections.views import household_view
from salur_cases.runtime import Runtime

Item = dict[str, Any]
WAIT_STEP = 0.02


def wait_for_position(runtime: Runtime, position: int, timeout: float = 5.0) -> bool:
    """Wait until the read models that answer reads (the standby's, when there is one) have applied
    `position` (read your writes); False on timeout."""
    deadline = time.monotonic() + timeout
    while applied_position(runtime, runtime.reader) < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(WAIT_STEP)
    return True


def projection_lag(runtime: Runtime) -> int:
    """Events recorded but not yet applied to the read models."""
    return status(runtime)["lag"]


def standby_lag(runtime: Runtime) -> int:
    """Events the read standby's read models are behind the primary's (0 without a standby)."""
    return max(0, applied_position(runtime) - applied_position(runtime, runtime.reader))


def as_wib(moment: datetime) -> datetime:
    """An aware moment (a naive one means WIB)."""
    return moment.replace(tzinfo=WIB) if moment.tzinfo is None else moment


def iso(moment: datetime | None) -> str | None:
    """A recorded time as ISO 8601 in WIB."""
    return moment.astimezone(WIB).isoformat() if moment is not None else None


def household_id(runtime: Runtime, no_kk: str) -> str:
    """The keyed id of a household, from a validated No. KK."""
    return str(runtime.app.household_id(parse_no_kk(no_kk)))


# --- households as of a moment ------------------------------------------------------------------


def _decision_date(event: DomainEventProtocol[UUID], effective: date | None) -> date | None:
    if effective is not None:
        return effective
    paid_at = getattr(event, "paid_at", None)
    return wib_date(paid_at) if isinstance(paid_at, datetime) else None


def household_read(
    runtime: Runtime, no_kk: str, as_of: datetime | None = None, effective_on: date | None = None
) -> HouseholdRead | None:
    """The household's view folded from its events recorded up to `as_of`, counting only decisions
    (and payments) effective on or before `effective_on`; None when it did not exist then."""
    app = runtime.app
    hid = app.household_id(parse_no_kk(no_kk))
    return _fold(runtime, app.recorder.select_events(hid), as_of, effective_on)


def household_of_nik(runtime: Runtime, nik: str) -> HouseholdRead | None:
    """The view of the household a NIK belongs to now (None when none), in one round trip: the person
    index (a read model) joined to that household's events in the store, folded as `household_read`."""
    sql, parameters = nik_query(runtime, nik)
    return fold_rows(runtime, _driver_rows(runtime.reader, sql, parameters))


def nik_query(runtime: Runtime, nik: str) -> tuple[str, tuple[str]]:
    """The one query of `household_of_nik` (for the driver: no SQLAlchemy) and its parameters."""
    key = keyed_hex(runtime.settings.id_key, "nik", parse_nik(nik))
    table = cast("Any", runtime.app.recorder).events_table_name  # both of our recorders name it
    if runtime.settings.is_postgres:
        sql = (
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM person_index p "  # noqa: S608
            f"JOIN {table} e ON e.originator_id = CAST(p.household_id AS uuid) "
            "WHERE p.nik_hash = %s ORDER BY e.originator_version"
        )
    else:  # the SQLite store keeps ids as 32 hex digits
        sql = (
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM person_index p "  # noqa: S608
            f"JOIN {table} e ON e.originator_id = replace(p.household_id, '-', '') "
            "WHERE p.nik_hash = ? ORDER BY e.originator_version"
        )
    return sql, (key,)


def fold_rows(runtime: Runtime, rows: Sequence[Sequence[Any]]) -> HouseholdRead | None:
    """The household view folded from the rows of `nik_query` (ids as UUIDs from PostgreSQL, as hex
    digits from SQLite)."""
    return _fold(
        runtime,
        [StoredEvent(r[0] if isinstance(r[0], UUID) else UUID(r[0]), r[1], r[2], bytes(r[3])) for r in rows],
    )


def _driver_rows(engine: Engine, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
    """The rows of one query run by the driver itself on a connection of ``engine``'s pool: the API's
    hottest read skips SQLAlchemy's execution context, which cost more than the query's own round trip."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())
    finally:
        connection.close()


def _fold(
    runtime: Runtime,
    stored: Sequence[StoredEvent],
    as_of: datetime | None = None,
    effective_on: date | None = None,
) -> HouseholdRead | None:
    events: list[Any] = [runtime.app.mapper.to_domain_event(s) for s in stored]
    if as_of is not None:
        moment = as_wib(as_of)
        events = [e for e in events if e.timestamp <= moment]
    if effective_on is not None:
        events = [
            e
            for e in events
            if (d := _decision_date(e, record_of(0, type(e).TOPIC, e).effective_on)) is None
            or d <= effective_on
        ]
    if not events or events[0].originator_version != 1:
        return None
    household: Any = None
    for event in events:
        if household is not None:
            household.version = event.originator_version - 1  # events left out by date leave gaps
        household = event.mutate(household)
    return household_view(cast("Household", household))


# --- rosters -----------------------------------------------------------------------------------


def roster(
    runtime: Runtime,
    program: str,
    tahap: int,
    as_of: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> RosterPage:
    """A page of a tahap's seats (`no_kk`, `state`, `amount_idr`), now or as recorded at `as_of`.

    The cursor is the last household id of the page (never a No. KK).
    """
    r = t.tahap_roster
    query = select(r).where(r.c.program == program, r.c.tahap == tahap)
    if as_of is not None:
        query = query.where(r.c.assigned_at <= as_wib(as_of))
    if cursor:
        query = query.where(r.c.household_id > cursor)
    with runtime.reader.connect() as conn:
        rows = [dict(x._mapping) for x in conn.execute(query.order_by(r.c.household_id).limit(limit + 1))]
        page, more = rows[:limit], len(rows) > limit
        states = {row["household_id"]: row["state"] for row in page}
        if as_of is not None and page:
            states = _states_as_of(conn, program, tahap, [row["household_id"] for row in page], as_wib(as_of))
    items = [RosterItem(row["no_kk"], states[row["household_id"]], row["amount_idr"]) for row in page]
    return RosterPage(items, page[-1]["household_id"] if more else None)


def _states_as_of(conn: Any, program: str, tahap: int, ids: list[str], moment: datetime) -> dict[str, str]:
    ledger, w = t.payment_ledger, t.withdrawal
    states = dict.fromkeys(ids, "ASSIGNED")
    payments = conn.execute(
        select(ledger.c.household_id, ledger.c.status)
        .where(
            ledger.c.household_id.in_(ids),
            ledger.c.program == program,
            ledger.c.tahap == tahap,
            ledger.c.seated.is_(True),
            ledger.c.recorded_at <= moment,
        )
        .order_by(ledger.c.position)
    )
    for hid, payment_status in payments:
        states[hid] = payment_status
    removed = conn.execute(
        select(w.c.household_id).where(
            w.c.household_id.in_(ids),
            w.c.program == program,
            w.c.tahap <= tahap,
            w.c.recorded_at <= moment,
            (w.c.reinstated_at.is_(None)) | (w.c.reinstated_at > moment),
        )
    )
    for (hid,) in removed:
        states[hid] = "REMOVED"
    return states


def payments(
    runtime: Runtime, program: str | None = None, tahap: int | None = None, as_of: datetime | None = None
) -> list[Item]:
    """Ledger rows (every payment attempt), with `after_removal` as known now or as recorded at `as_of`."""
    ledger, w = t.payment_ledger, t.withdrawal
    query = select(ledger).order_by(ledger.c.position)
    if program is not None:
        query = query.where(ledger.c.program == program)
    if tahap is not None:
        query = query.where(ledger.c.tahap == tahap)
    moment = as_wib(as_of) if as_of is not None else None
    with runtime.reader.connect() as conn:
        if moment is not None:
            query = query.where(ledger.c.recorded_at <= moment)
        rows = [dict(x._mapping) for x in conn.execute(query)]
        if moment is not None and rows:
            known = conn.execute(
                select(w).where(
                    w.c.household_id.in_({r["household_id"] for r in rows}), w.c.recorded_at <= moment
                )
            )
            withdrawals = [dict(x._mapping) for x in known]
            for row in rows:
                row["after_removal"] = row["status"] == "PAID" and any(
                    x["household_id"] == row["household_id"]
                    and x["program"] == row["program"]
                    and x["tahap"] <= row["tahap"]
                    and x["effective_on"] <= row["paid_on"]
                    and (
                        x["reinstated_at"] is None
                        or x["reinstated_at"] > moment
                        or row["paid_on"] < x["reinstated_on"]
                    )
                    for x in withdrawals
                )
    return [_ledger_item(r) for r in rows]


def _ledger_item(row: Item) -> Item:
    return {
        "event_id": row["event_id"],
        "no_kk": row["no_kk"],
        "budget_source": row["budget_source"],
        "program": row["program"],
        "tahap": row["tahap"],
        "amount_idr": row["amount_idr"],
        "status": row["status"],
        "reference": row["reference"],
        "paid_at": iso(row["paid_at"]),
        "recorded_at": iso(row["recorded_at"]),
        "after_removal": bool(row["after_removal"]),
        "warnings": list(row["warnings"]),
    }


# --- events ------------------------------------------------------------------------------------


def event_item(row: Any, no_kk: str | None = None, program_codes: dict[str, str] | None = None) -> EventRead:
    """A timeline row as an event of `/events` and the feed (recorded in WIB): with the household's
    No. KK, and the program and tahap the event concerns (a program's own events name it by their
    aggregate)."""
    data = row.data
    program = data.get("program") or data.get("from_program")
    if program is None and program_codes is not None:
        program = program_codes.get(row.aggregate_id)
    tahap = data.get("tahap", data.get("from_tahap", data.get("number") if program else None))
    return EventRead(
        position=row.position,
        event_id=row.event_id,
        type=row.type,
        recorded_at=row.recorded_at.astimezone(WIB),
        effective_on=row.effective_on,
        actor=row.actor,
        role=row.role,
        data=data,
        no_kk=no_kk,
        program=program if isinstance(program, str) else None,
        tahap=tahap if isinstance(tahap, int) else None,
    )


def household_events(runtime: Runtime, no_kk: str, limit: int = 50, cursor: str | None = None) -> EventPage:
    """A page of the household's events in order; the cursor is the last position shown."""
    tl = t.timeline
    after = int(cursor) if cursor and cursor.isdigit() else 0
    query = (
        select(tl)
        .where(tl.c.aggregate_id == household_id(runtime, no_kk), tl.c.position > after)
        .order_by(tl.c.position)
        .limit(limit + 1)
    )
    with runtime.reader.connect() as conn:
        rows = list(conn.execute(query))
    page = rows[:limit]
    return EventPage(
        [event_item(r, no_kk) for r in page], str(page[-1].position) if len(rows) > limit else None
    )


def feed(runtime: Runtime, after: int = 0, limit: int = 50) -> FeedPage:
    """A page of every event in commit order after position `after`, and the position to ask after next."""
    tl, h = t.timeline, t.household
    query = (
        select(tl, h.c.no_kk.label("household_no_kk"))
        .outerjoin(h, h.c.household_id == tl.c.aggregate_id)
        .where(tl.c.position > after)
        .order_by(tl.c.position)
        .limit(limit)
    )
    with runtime.reader.connect() as conn:
        rows = list(conn.execute(query))
        codes = {
            str(Program.create_id(code)): code for code in conn.execute(select(t.programs.c.code)).scalars()
        }
    items = [event_item(r, r.household_no_kk, codes) for r in rows]
    return FeedPage(items, rows[-1].position if rows else after)


# --- lookups -----------------------------------------------------------------------------------


def lookup_nik(runtime: Runtime, nik: str) -> str | None:
    """The No. KK of the household a NIK belongs to now, if any."""
    p, h = t.person_index, t.household
    key = keyed_hex(runtime.settings.id_key, "nik", parse_nik(nik))
    with runtime.reader.connect() as conn:
        value = conn.execute(
            select(h.c.no_kk).join(p, p.c.household_id == h.c.household_id).where(p.c.nik_hash == key)
        ).scalar()
    return str(value) if value is not None else None


NOT_FOUND = PublicStatusRead("NOT_FOUND")


def public_status(runtime: Runtime, nik: str, name: str) -> PublicStatusRead:
    """A citizen's check: RECEIVING when the household's latest decision is a seat (assigned or paid).

    An unknown NIK, an invalid one and a wrong name all answer exactly NOT_FOUND.
    """
    p, s, pt, w = t.person_index, t.household_status, t.program_tahap, t.withdrawal
    try:
        key = keyed_hex(runtime.settings.id_key, "nik", parse_nik(nik))
    except ValueError:
        return NOT_FOUND
    name_key = keyed_hex(runtime.settings.id_key, "name", fold_name(name))
    with runtime.reader.connect() as conn:
        person = conn.execute(select(p).where(p.c.nik_hash == key)).first()
        if person is None or person.name_hash != name_key:
            return NOT_FOUND
        latest = conn.execute(
            select(s.c.program, s.c.tahap, s.c.state)
            .join(pt, (pt.c.program == s.c.program) & (pt.c.tahap == s.c.tahap))
            .where(s.c.household_id == person.household_id)
            .order_by(pt.c.starts_on.desc(), s.c.position.desc())
            .limit(1)
        ).first()
        withdrawn = (
            latest is not None
            and conn.execute(
                select(w.c.position).where(
                    w.c.household_id == person.household_id,
                    w.c.program == latest.program,
                    w.c.reinstated_at.is_(None),
                )
            ).first()
        )
    receiving = latest is not None and latest.state in {"ASSIGNED", "PAID"} and not withdrawn
    return PublicStatusRead(
        status="RECEIVING" if receiving else "NOT_RECEIVING",
        masked_name=person.masked_name,
        program=latest.program if latest else None,
        tahap=latest.tahap if latest else None,
    )


def program_names(runtime: Runtime) -> dict[str, str]:
    """Program code -> name."""
    with runtime.reader.connect() as conn:
        return {row.code: row.name for row in conn.execute(select(t.programs.c.code, t.programs.c.name))}

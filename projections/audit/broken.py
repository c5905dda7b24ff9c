"""What a broken position of the chain concerns: the household, the program and tahap, and when.

Read from the read models, which hold each event as it was projected when written (before any later
tampering): the timeline row at that position names the aggregate and the event's program and tahap;
the household table gives a household's No. KK. When the read models never saw the position (a row
forged past their last update), the stored row is decoded instead, if it still decodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from salur_cases import tables as t
from salur_cases.domain.program import Program

if TYPE_CHECKING:
    from salur_cases.runtime import Runtime

tl = t.timeline


def concerning(runtime: Runtime, position: int) -> dict[str, Any]:
    """`household` (No. KK, or None), `program`, `tahap`, `type` and `recorded_at` (ISO 8601) of the
    event at `position`, as far as they are known (None otherwise)."""
    found: dict[str, Any] = dict.fromkeys(("household", "program", "tahap", "type", "recorded_at"))
    try:
        with runtime.engine.connect() as conn:
            row = conn.execute(
                select(tl.c.aggregate_id, tl.c.type, tl.c.recorded_at, tl.c.data).where(
                    tl.c.position == position
                )
            ).first()
    except DBAPIError:  # no read models in this database
        row = None
    if row is not None:
        aggregate_id, data = row.aggregate_id, row.data
        found.update(type=row.type, recorded_at=row.recorded_at.isoformat())
    else:
        event = _stored_event(runtime, position)
        if event is None:
            return found
        aggregate_id, data = str(event.originator_id), dict(event.__dict__)
        found.update(type=type(event).__name__, recorded_at=data["timestamp"].isoformat())
    found["program"] = data.get("program") or data.get("from_program") or data.get("code")
    found["tahap"] = data.get("tahap") or data.get("from_tahap") or data.get("number")
    found["household"] = data.get("no_kk") or _no_kk(runtime, aggregate_id)
    if found["program"] is None and found["household"] is None:
        found["program"] = next(
            (code for code in _codes(runtime) if str(Program.create_id(code)) == aggregate_id), None
        )
    return found


def _no_kk(runtime: Runtime, household_id: str) -> str | None:
    try:
        with runtime.engine.connect() as conn:
            return conn.execute(
                select(t.household.c.no_kk).where(t.household.c.household_id == household_id)
            ).scalar()
    except DBAPIError:
        return None


def _codes(runtime: Runtime) -> list[str]:
    try:
        with runtime.engine.connect() as conn:
            return list(conn.execute(select(t.programs.c.code)).scalars())
    except DBAPIError:
        return []


def _stored_event(runtime: Runtime, position: int) -> Any:
    app = runtime.app
    rows = app.chained.select_chain(position, 1)
    if not rows or rows[0].notification_id != position:
        return None
    row = rows[0]
    try:
        return app.mapper.to_domain_event(
            StoredEvent(UUID(str(row.originator_id)), row.originator_version, row.topic, row.state)
        )
    except Exception:
        return None

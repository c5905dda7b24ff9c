"""Evidence export (`salur audit export`, `GET /audit/evidence`): events and their chain links, JSON Lines.

Each line is one stored event: `position`, `originator_id`, `originator_version`, `topic`, `state`
(base64 of the bytes as stored), `chain_hash` and `prev_hash` (hex; `prev_hash` is the previous
row's chain hash, so every line verifies alone with `verify_offline.py`), and `event`, the decoded
event for reading (the shape of `/events`). Read from the event store only.

- One household: its own events, the claims of its members' NIKs, and the Program events that fix the
  tahap it is named in (the program's definition, the tahap's opening and certification, and the
  seat commitment that lists it).
- One tahap: the program's definition and every Program event of that tahap (openings, every seat
  commitment, certification), and every household event naming it: assignments, left-outs and
  payments in it, and removals, reinstatements and transfers from it or an earlier tahap.

Either holds the first signed chain head (`salur:notary.HeadSigned`) that covers its last event, or
while none does yet, the latest: `verify_offline.py --public-key FILE` checks its signature.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household import Household
from salur_cases.domain.parsing import parse_no_kk
from salur_cases.domain.program import Program
from salur_cases.eventlog import record_of
from salur_cases.projections.audit.links import KEYS_PER_QUERY, Link, links_at, links_of, stream_chain
from salur_cases.store.signing import NOTARY_ID

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEventProtocol

    from salur_cases.application import SalurApplication
    from salur_cases.runtime import Runtime

_NAMING_TAHAP = frozenset(
    {Household.Assigned.TOPIC, Household.LeftOut.TOPIC, Household.PaymentRecorded.TOPIC}
)
_FROM_TAHAP = frozenset({Household.Removed.TOPIC, Household.Reinstated.TOPIC, Household.Transferred.TOPIC})


def evidence_lines(
    runtime: Runtime, no_kk: str | None = None, program: str | None = None, tahap: int | None = None
) -> Iterator[str]:
    """JSON Lines (each ending in a newline) for one household (`no_kk`) or one tahap (`program`, `tahap`).

    InvalidCommand when neither or both are given; Refusal when the household, program or tahap is
    unknown (raised before the first line).
    """
    app = runtime.app
    if no_kk is not None and (program is not None or tahap is not None):
        raise InvalidCommand("no_kk", "give a No. KK, or a program and a tahap, not both")
    if no_kk is not None:
        positions = _household_positions(app, parse_no_kk(no_kk))
    elif program is not None and tahap is not None:
        positions = _tahap_positions(app, program.strip().upper(), tahap)
    else:
        raise InvalidCommand(
            "program" if tahap is not None else "tahap", "give a No. KK, or a program and a tahap"
        )
    covering = _covering_head(app, max(positions, default=0))
    return _lines(app, sorted(positions | covering))


def _lines(app: SalurApplication, positions: list[int]) -> Iterator[str]:
    for start in range(0, len(positions), KEYS_PER_QUERY):
        for link in links_at(app.recorder, positions[start : start + KEYS_PER_QUERY]):
            yield line_of(app, link) + "\n"


def line_of(app: SalurApplication, link: Link) -> str:
    """One event as an evidence line (JSON, no newline)."""
    record = record_of(link.position, link.topic, _decode(app, link))
    return json.dumps(
        {
            "position": link.position,
            "originator_id": str(link.originator_id),
            "originator_version": link.originator_version,
            "topic": link.topic,
            "state": base64.b64encode(link.state).decode("ascii"),
            "chain_hash": link.chain_hash.hex(),
            "prev_hash": link.prev_hash.hex(),
            "event": {f.name: getattr(record, f.name) for f in fields(record)},
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_value,
    )


def _json_value(value: object) -> str:
    """Dates and times as ISO 8601, UUIDs as text (the `/events` shape; no deep copy of large events)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def _decode(app: SalurApplication, link: Link) -> DomainEventProtocol[UUID]:
    stored = StoredEvent(link.originator_id, link.originator_version, link.topic, link.state)
    return app.mapper.to_domain_event(stored)


def _household_positions(app: SalurApplication, no_kk: str) -> set[int]:
    household = app.household(no_kk)
    own = links_of(app.recorder, [household.id])
    named: dict[str, set[int]] = defaultdict(set)
    for link in own:
        if link.topic in _NAMING_TAHAP:
            event: Any = _decode(app, link)
            named[event.program].add(event.tahap)
    claims = links_of(app.recorder, [app.claim_id(m.nik) for m in household.members])
    fixing = [
        link
        for code, numbers in sorted(named.items())
        for link in links_of(app.recorder, [Program.create_id(code)])
        if _fixes(_decode(app, link), numbers, str(household.id))
    ]
    return {link.position for link in [*own, *claims, *fixing]}


def _fixes(event: Any, numbers: set[int], household_id: str) -> bool:
    """Whether a Program event fixes one of its tahap `numbers` for this household."""
    if isinstance(event, Program.Defined):
        return True
    if isinstance(event, Program.TahapOpened):
        return event.number in numbers
    if isinstance(event, Program.TahapCertified):
        return event.tahap in numbers
    return (
        isinstance(event, Program.SeatsCommitted)
        and event.tahap in numbers
        and household_id in event.households
    )


def _tahap_positions(app: SalurApplication, code: str, number: int) -> set[int]:
    app.program(code).get_tahap(number)
    positions = {
        link.position
        for link in links_of(app.recorder, [Program.create_id(code)])
        if _of_tahap(_decode(app, link), number)
    }
    needle = None if app.mapper.cipher else json.dumps(code).encode()  # plain JSON names the program as is
    for position, oid, version, topic, state, _ in stream_chain(app.recorder, _NAMING_TAHAP | _FROM_TAHAP):
        if needle is not None and needle not in state:
            continue
        event: Any = app.mapper.to_domain_event(StoredEvent(UUID(bytes=oid), version, topic, state))
        if topic in _NAMING_TAHAP:
            wanted = event.program == code and event.tahap == number
        elif topic == Household.Transferred.TOPIC:
            wanted = event.from_program == code and event.from_tahap <= number
        else:
            wanted = event.program == code and event.tahap <= number
        if wanted:
            positions.add(position)
    return positions


def _covering_head(app: SalurApplication, last: int) -> set[int]:
    """The position of the first signed head that signs `last` or a later position; while none does
    yet (the next checkpoint is still to come), the latest one."""
    heads = links_of(app.recorder, [NOTARY_ID])
    for link in heads:
        if link.position > last and _decode(app, link).position >= last:  # type: ignore[attr-defined]
            return {link.position}
    return {heads[-1].position} if heads else set()


def _of_tahap(event: Any, number: int) -> bool:
    if isinstance(event, Program.Defined):
        return True
    if isinstance(event, Program.TahapOpened):
        return bool(event.number == number)
    return bool(getattr(event, "tahap", None) == number)

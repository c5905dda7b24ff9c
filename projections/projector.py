"""The projection: folds a page of stored events into the read-model tables with bulk SQL.

A batch is loaded, folded, prepared and written (`load`, `fold`, `prepare`, `write`; the runner
stores the page's timeline and commits the rows with the new position; on PostgreSQL a batch is
written on a connection of its own while the next one is loaded and folded, from its households). What depends
on the events alone is made with their page (`read_page`, on the runner's read-ahead thread): the
decoded events, the entries of the members they list, and the timeline's rows. The rows the events
need are loaded once (households not created in the batch, their seats and withdrawals, all
programs), the events change them in memory in commit order, and the changed rows are written back
in bulk: no round trip per event.

Speed matters here (a rebuild replays millions of events), so the hot path avoids per-event
objects and per-row SQL:
- Event state is decoded straight from the stored msgspec JSON (`salur_cases.store.transcoder`'s
  tagged format; decrypted first when encrypted at rest) into the event's payload Struct
  (`salur_cases.domain.payloads`, found by its topic), which the fold reads by attribute, and the JSON
  the timeline keeps; only with a compressor configured does it go through the application's mapper.
- PostgreSQL: rows new to a table (households proposed, their seats, statuses and withdrawals, the
  ledger) are COPYed straight in, in the binary format (typed values: no text to format here or to
  parse in the server); rows that may exist are COPYed into a temporary staging table and upserted
  with one INSERT ... ON CONFLICT DO UPDATE. Existing rows are loaded with one query of an index
  probe per id, the ids travelling as one text (`salur_cases.store.pglist`). A removal recorded
  after the payments it covers reflags them in memory when they are the batch's, with SQL only for
  stored ones.
- SQLite: one executemany of the driver with values converted by the columns' own SQLAlchemy types
  (exactly what SQLAlchemy would store), without its per-statement compilation.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy import Connection, Table, and_, bindparam, select, update

from salur_cases import tables as t
from salur_cases.domain import payloads
from salur_cases.domain.clock import WIB
from salur_cases.domain.payloads import AddressData, MemberData, Payload, payload_type
from salur_cases.domain.program import Program
from salur_cases.domain.vocabulary import SourceKind
from salur_cases.eventlog import EVENT_NAMESPACE, event_type, record_of
from salur_cases.identifiers import keyed_hex
from salur_cases.store.transcoder import MsgspecTranscoder
from salur_cases.tables.bulk import (
    Prepared,
    Row,
    insert_prepared,
    prepare_rows,
    prepare_values,
    select_in,
    update_prepared,
    upsert_prepared,
)

if TYPE_CHECKING:
    from eventsourcing.persistence import Cipher, Mapper, Notification
    from sqlalchemy.engine import Dialect

NEVER = date(9999, 12, 31)


def fold_name(name: str) -> str:
    """A name as padan compares it: case folded, spaces removed."""
    return "".join(name.split()).upper()


def mask_name(name: str) -> str:
    """`BUDI SANTOSO` -> `B*** S******`: enough for its owner to recognise, not for anyone else."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def member_entry(id_key: bytes, member: MemberData) -> Row:
    """A member as the household row keeps it: keyed hashes and a masked name, never the NIK or name."""
    return {
        "nik_hash": keyed_hex(id_key, "nik", member.nik),
        "name_hash": keyed_hex(id_key, "name", fold_name(member.name)),
        "masked_name": mask_name(member.name),
        "relationship": member.relationship,
    }


def _area(address: AddressData | None) -> tuple[str | None, str | None]:
    """(kecamatan, kelurahan) of an event's address, if it has one."""
    return (address.kecamatan, address.kelurahan) if address else (None, None)


def wib_date(moment: datetime) -> date:
    """The calendar date of a moment in WIB (a naive moment is WIB already)."""
    return moment.date() if moment.tzinfo is None else moment.astimezone(WIB).date()


def jsonable(value: Any) -> Any:
    """Event data as JSON values (ISO dates, times and UUIDs as text), without copying plain lists."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if all(isinstance(v, str | int) for v in value):
            return value
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def aggregate_kind(topic: str) -> str:
    """`salur:household.Assigned` -> `household`."""
    return topic.partition(":")[2].partition(".")[0] or "other"


# --- decoding -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Decoded:
    """One stored event as the fold needs it: its aggregate's `kind`, its typed `payload`, and `shown`,
    the timeline's JSON."""

    position: int
    topic: str
    kind: str
    event_id: str
    aggregate_id: str
    version: int
    type: str
    recorded_at: datetime
    effective_on: date | None
    actor: str
    role: str
    payload: Payload
    shown: dict[str, Any]
    members: list[Row] | None = None
    """The entries (`member_entry`) of the members the event lists, made with its page (`read_page`)."""


_STATE = msgspec.json.Decoder()
_JSON = msgspec.json.Encoder()
_NAMESPACE = EVENT_NAMESPACE.bytes


_VARIANT = {f"{n:x}": "89ab"[n & 3] for n in range(16)}
"""A UUID's variant digit (RFC 4122: `10` in its top bits) for the hex digit it replaces."""


def fast_event_id(aggregate_id: str, version: int) -> str:
    """`eventlog.event_id` (a UUID5 of "id/version") without building UUID objects: the SHA-1's first
    32 hex digits, with the version digit 5 and the variant bits set."""
    name = f"{aggregate_id}/{version}".encode()
    x = hashlib.sha1(_NAMESPACE + name, usedforsecurity=False).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


@functools.cache
def _topic(topic: str) -> tuple[str, str, type[Payload]]:
    """(aggregate kind, event type, payload Struct) of a stored topic."""
    return aggregate_kind(topic), event_type(topic), payload_type(topic)


def _text(tagged: dict[str, str]) -> str:
    """A tagged value (`{"_type_": ..., "_data_": ...}`) as its JSON text."""
    text = tagged["_data_"]
    if tagged["_type_"] != "uuid_hex":
        return text
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"  # str(UUID(text))


def effective_on(payload: Payload) -> date | None:
    """The date a decision takes effect: its `effective_on`, or the day a padan result was checked."""
    if isinstance(payload, payloads.PopulationMatched):
        return payload.checked_on
    effective = getattr(payload, "effective_on", None)
    return effective if isinstance(effective, date) else None


def _decode_state(notification: Notification, cipher: Cipher | None) -> Decoded | None:
    """Decode the tagged msgspec JSON of a notification, decrypted first when there is a cipher (None:
    an upcast is due, use the mapper).

    The tags become their text, which is what the timeline shows; msgspec parses the dates and times
    from it into the payload."""
    state = _STATE.decode(cipher.decrypt(notification.state) if cipher else notification.state)
    if "class_version" in state:
        return None
    topic = notification.topic
    kind, name, struct = _topic(topic)
    recorded_at = datetime.fromisoformat(state.pop("timestamp")["_data_"])
    state.pop("originator_topic", None)
    for key, value in state.items():
        if type(value) is dict and len(value) == 2 and "_type_" in value:  # noqa: PLR2004 - the tag's keys
            state[key] = _text(value)
    payload = msgspec.convert(state, struct)
    state.pop("actor", None)
    state.pop("role", None)
    aggregate_id = str(notification.originator_id)
    version = notification.originator_version
    return Decoded(  # by position: the hot path
        notification.id,
        topic,
        kind,
        fast_event_id(aggregate_id, version),
        aggregate_id,
        version,
        name,
        recorded_at,
        effective_on(payload),
        payload.actor,
        payload.role,
        payload,
        state,
    )


def _decode_mapped(notification: Notification, mapper: Mapper[Any]) -> Decoded:
    event = mapper.to_domain_event(notification)
    record = record_of(notification.id, notification.topic, event)
    return Decoded(
        position=record.position,
        topic=notification.topic,
        kind=aggregate_kind(notification.topic),
        event_id=record.event_id,
        aggregate_id=record.aggregate_id,
        version=record.version,
        type=record.type,
        recorded_at=record.recorded_at,
        effective_on=record.effective_on,
        actor=record.actor,
        role=record.role,
        payload=msgspec.convert(event.__dict__, payload_type(notification.topic)),
        shown=jsonable(record.data),
    )


def decode(notifications: Sequence[Notification], mapper: Mapper[Any]) -> list[Decoded]:
    """Decode a batch: straight from the stored (decrypted) JSON when it is msgspec's, uncompressed."""
    plain = mapper.compressor is None and isinstance(mapper.transcoder, MsgspecTranscoder)
    cipher = mapper.cipher
    out: list[Decoded] = []
    for n in notifications:
        decoded = _decode_state(n, cipher) if plain else None
        out.append(decoded or _decode_mapped(n, mapper))
    return out


TIMELINE = [
    "position",
    "event_id",
    "aggregate_id",
    "kind",
    "version",
    "type",
    "recorded_at",
    "effective_on",
    "actor",
    "role",
    "data",
]
"""The timeline's columns, in the order of `timeline_values`."""


def timeline_values(r: Decoded) -> tuple[Any, ...]:
    """The event as the timeline keeps it (`TIMELINE`)."""
    return (
        r.position,
        r.event_id,
        r.aggregate_id,
        r.kind,
        r.version,
        r.type,
        r.recorded_at,
        r.effective_on,
        r.actor,
        r.role,
        r.shown,
    )


def listed_members(id_key: bytes, payload: Payload) -> list[Row] | None:
    """The entries of the members an event lists: a proposal's, a new member list, a member moving in."""
    if isinstance(payload, payloads.Proposed | payloads.MembersRecorded):
        return [member_entry(id_key, m) for m in payload.members]
    if isinstance(payload, payloads.MemberMovedIn):
        return [member_entry(id_key, payload.member)]
    return None


@dataclass(slots=True)
class Page:
    """Stored events decoded, with what depends on the events alone made ready: their timeline rows
    converted for the driver and the entries of the members they list. A page is made ready while the
    batch before it is written."""

    records: list[Decoded]
    timeline: Prepared


def read_page(
    notifications: Sequence[Notification], mapper: Mapper[Any], dialect: Dialect, id_key: bytes
) -> Page:
    """Decode a page of notifications, make its members' entries and its timeline rows for `dialect`."""
    records = decode(notifications, mapper)
    for record in records:
        record.members = listed_members(id_key, record.payload)
    return Page(records, prepare_values(dialect, t.timeline, TIMELINE, map(timeline_values, records)))


@dataclass
class HouseholdState:
    """What the batch knows of one household: its row, seats (roster rows) and withdrawals.

    `seats_known`: its seats and withdrawals are all here (loaded, or the household was proposed in
    the batch); a household loaded for events that need neither has none loaded."""

    row: Row
    seats: dict[tuple[str, int], Row] = field(default_factory=dict)
    withdrawals: list[Row] = field(default_factory=list)
    seats_known: bool = True

    def copy(self) -> HouseholdState:
        """A copy whose rows the next batch may change while this batch's are written."""
        return HouseholdState(
            dict(self.row),
            {key: dict(seat) for key, seat in self.seats.items()},
            [dict(w) for w in self.withdrawals],
            self.seats_known,
        )

    def covering(self, program: str, tahap: int) -> Row | None:
        """The standing withdrawal that takes the household out of this tahap, if any."""
        standing = [
            w
            for w in self.withdrawals
            if w["reinstated_at"] is None and w["program"] == program and w["tahap"] <= tahap
        ]
        return standing[-1] if standing else None

    def after_removal(self, program: str, tahap: int, paid_on: date) -> bool:
        """Whether a payment on `paid_on` falls in the effect of a removal or transfer (reinstated or not)."""
        return any(
            w["program"] == program
            and w["tahap"] <= tahap
            and w["effective_on"] <= paid_on < (w["reinstated_on"] or NEVER)
            for w in self.withdrawals
        )


_SEAT_TOPICS = frozenset(
    {
        payloads.Assigned.TOPIC,
        payloads.LeftOut.TOPIC,
        payloads.PaymentRecorded.TOPIC,
        payloads.Removed.TOPIC,
        payloads.Reinstated.TOPIC,
        payloads.Transferred.TOPIC,
    }
)

_MEMBER_TOPICS = frozenset(
    {
        payloads.MembersRecorded.TOPIC,
        payloads.Corrected.TOPIC,
        payloads.MemberMovedOut.TOPIC,
        payloads.MemberMovedIn.TOPIC,
    }
)
"""Events that read or replace a household's member list: only their households are loaded with it."""
_NO_MEMBERS = [c.name for c in t.household.c if c.name != "members"]
_FIXED = frozenset({"no_kk", "first_source", "registered_at"})
_CHANGING = [name for name in _NO_MEMBERS if name not in _FIXED]
"""What a household's events after its proposal change, besides its member list: the columns it is
written back with when its members did not change (no resealed No. KK, no index entry rewritten)."""


class BatchProjection:
    """Applies a page of events (`read_page`) to the read models: `load` over `conn`, `fold`,
    `prepare`, then `write` (the caller commits).

    `before`: the batch folded just before this one, whose rows may not be committed yet (PostgreSQL
    writes a batch while the next one folds). The households it holds and the programs are taken
    from it, copied; only the rest is loaded, and what it did not load of its households (a member
    list, seats and withdrawals) it did not change either."""

    def __init__(self, conn: Connection, id_key: bytes, before: BatchProjection | None = None) -> None:
        self.conn = conn
        self.id_key = id_key
        self.before = before
        self.households: dict[str, HouseholdState] = {}
        self.programs: dict[str, Row] = {}
        self.program_codes: dict[str, str] = {}
        self.tahap: dict[tuple[str, int], Row] = {}
        self.ledger: list[Row] = []
        self.persons: dict[str, Row | None] = {}
        self.persons_before: set[str] = set()
        """The NIK hashes the batch before writes into the person index."""
        self.person_holders: dict[str, set[str]] = {}
        self.statuses: dict[tuple[str, str, int], Row] = {}
        self.dirty_households: set[str] = set()
        self.new_members: set[str] = set()
        """Households whose member list changed in the batch: the others are written without it."""
        self.stored_seats: set[tuple[str, str, int]] = set()
        self.created: set[str] = set()
        self.dirty_seats: set[tuple[str, str, int]] = set()
        self.seat_times: dict[tuple[str, str, int], datetime] = {}
        self.dirty_withdrawals: dict[int, Row] = {}
        self.dirty_programs: set[str] = set()
        self.dirty_tahap: set[tuple[str, int]] = set()
        self.reflag: set[tuple[str, str]] = set()
        self._steps: list[Step] = []

    # --- the batch ------------------------------------------------------------------------------

    def load(self, page: Page) -> None:
        """Read the stored rows the page's events need: households not proposed in it (with their
        seats and withdrawals when the events need them), and the programs."""
        self._load(page.records)

    def fold(self, page: Page) -> None:
        """Fold the page's events into the loaded rows in commit order, in memory: the fold neither
        reads nor writes, so the page's timeline may be stored meanwhile (`inserting`)."""
        for record in page.records:
            kind = record.kind
            if kind == "household":
                self._household_event(record)
            elif kind == "program":
                self._program_event(record)

    def prepare(self) -> None:
        """Convert the rows the folded events changed for the database: what `write` sends, ready
        before it is (on PostgreSQL the next batch folds while this one is written, and only the
        writes are left to the thread that writes). Person-index rows new to it are COPYed, the
        others upserted: which NIK hashes it holds is read over `conn`."""
        self._steps = self._prepare(self.conn.dialect)

    def write(self, conn: Connection) -> None:
        """Write the prepared rows over `conn` (the page's timeline is the caller's)."""
        for step in self._steps:
            step(conn)

    def _load(self, records: Sequence[Decoded]) -> None:
        created = self.created
        wanted: set[str] = set()
        seat_wanted: set[str] = set()
        members_wanted: set[str] = set()
        for record in records:
            topic = record.topic
            if record.kind != "household":
                continue
            hid = record.aggregate_id
            if topic == payloads.Proposed.TOPIC:
                created.add(hid)
            elif hid not in created:
                wanted.add(hid)
                if topic in _SEAT_TOPICS:
                    seat_wanted.add(hid)
                elif topic in _MEMBER_TOPICS:
                    members_wanted.add(hid)
        before, self.before = self.before, None  # held no longer: each batch would keep all before it
        if before is not None:
            self._carry(before, wanted, members_wanted)
        self._load_households(wanted, members_wanted, seat_wanted)
        if before is not None:
            return
        for program in self.conn.execute(select(t.programs)):
            self.programs[program.code] = dict(program._mapping)
            self.program_codes[str(Program.create_id(program.code))] = program.code
        for tahap in self.conn.execute(select(t.program_tahap)):
            self.tahap[tahap.program, tahap.tahap] = dict(tahap._mapping)

    def _load_households(self, wanted: set[str], members_wanted: set[str], seat_wanted: set[str]) -> None:
        """Load the households wanted that the batch does not hold yet (with their members when
        wanted), and the seats and withdrawals wanted that it does not know."""
        households = self.households
        for row in select_in(self.conn, t.household, "household_id", members_wanted - households.keys()):
            households[row["household_id"]] = HouseholdState(row, seats_known=False)
        unloaded = wanted - members_wanted - households.keys()
        for row in select_in(self.conn, t.household, "household_id", unloaded, _NO_MEMBERS):
            households[row["household_id"]] = HouseholdState(row, seats_known=False)
        unknown = {h for h in seat_wanted if not households[h].seats_known}
        for hid in unknown:
            households[hid].seats_known = True
        for row in select_in(self.conn, t.tahap_roster, "household_id", unknown):
            households[row["household_id"]].seats[row["program"], row["tahap"]] = row
            self.stored_seats.add((row["household_id"], row["program"], row["tahap"]))
        withdrawals = select_in(self.conn, t.withdrawal, "household_id", unknown)
        for row in sorted(withdrawals, key=lambda r: r["position"]):
            households[row["household_id"]].withdrawals.append(row)

    def _carry(self, before: BatchProjection, wanted: set[str], members_wanted: set[str]) -> None:
        """Take from the batch before the households it holds and the programs (see the class)."""
        for hid in wanted & before.households.keys():
            state = self.households[hid] = before.households[hid].copy()
            self.stored_seats.update((hid, program, tahap) for program, tahap in state.seats)
        households = self.households
        missing = [h for h in members_wanted if h in households and "members" not in households[h].row]
        for row in select_in(self.conn, t.household, "household_id", missing, ["household_id", "members"]):
            households[row["household_id"]].row["members"] = row["members"]
        self.persons_before = {key for key, person in before.persons.items() if person is not None}
        self.programs = {code: dict(program) for code, program in before.programs.items()}
        self.program_codes = dict(before.program_codes)
        self.tahap = {key: dict(tahap) for key, tahap in before.tahap.items()}

    # --- households -----------------------------------------------------------------------------

    def _household_event(self, record: Decoded) -> None:  # noqa: PLR0912
        hid, payload = record.aggregate_id, record.payload
        if isinstance(payload, payloads.Proposed):
            self._proposed(record, payload)
            return
        state = self.households[hid]
        row = state.row
        row.update(version=record.version, updated_at=record.recorded_at, position=record.position)
        self.dirty_households.add(hid)
        match payload:
            case payloads.Reproposed():
                row["city_proposed"] = row["city_proposed"] or _is_city(payload.source_kind)
            case payloads.MembersRecorded():
                row["kecamatan"], row["kelurahan"] = _area(payload.address)
                self._set_members(hid, row, record.members or [])
            case payloads.PopulationMatched():
                row["padan"], row["padan_on"] = payload.result, payload.checked_on
            case payloads.VervalDecided():
                row["verval"], row["verval_on"] = payload.decision, payload.decided_on
            case payloads.Assigned():
                self._assigned(state, record, payload)
            case payloads.LeftOut():
                self._left_out(state, record, payload)
            case payloads.PaymentRecorded():
                self._payment(state, record, payload)
            case payloads.Removed() | payloads.Transferred():
                self._withdrawn(state, record, payload)
            case payloads.Reinstated():
                self._reinstated(state, record, payload)
            case payloads.Corrected():
                self._corrected(hid, row, payload)
            case payloads.MemberMovedOut():
                gone = keyed_hex(self.id_key, "nik", payload.nik)
                self._set_members(hid, row, [m for m in row["members"] if m["nik_hash"] != gone])
            case payloads.MemberMovedIn():
                self._set_members(hid, row, [*row["members"], *(record.members or [])])
            case _:
                pass

    def _proposed(self, record: Decoded, payload: payloads.Proposed) -> None:
        kecamatan, kelurahan = _area(payload.address)
        row: Row = {
            "household_id": record.aggregate_id,
            "no_kk": payload.no_kk,
            "version": record.version,
            "kecamatan": kecamatan,
            "kelurahan": kelurahan,
            "first_source": payload.source_kind,
            "city_proposed": _is_city(payload.source_kind),
            "padan": None,
            "padan_on": None,
            "verval": None,
            "verval_on": None,
            "members": [],
            "registered_at": record.recorded_at,
            "updated_at": record.recorded_at,
            "position": record.position,
        }
        self.households[record.aggregate_id] = HouseholdState(row)
        self.dirty_households.add(record.aggregate_id)
        self._set_members(record.aggregate_id, row, record.members or [])

    def _set_members(self, hid: str, row: Row, members: list[Row]) -> None:
        self.new_members.add(hid)
        kept = {m["nik_hash"] for m in members}
        for old in row["members"]:
            key = old["nik_hash"]
            if key not in kept:
                pending = self.persons.get(key)
                if pending is None or pending["household_id"] == hid:
                    self.persons[key] = None
                self.person_holders.setdefault(key, set()).add(hid)
        for member in members:
            key = member["nik_hash"]
            self.persons[key] = {
                "nik_hash": key,
                "household_id": hid,
                "name_hash": member["name_hash"],
                "masked_name": member["masked_name"],
            }
            self.person_holders.setdefault(key, set()).add(hid)
        row["members"] = members

    def _corrected(self, hid: str, row: Row, payload: payloads.Corrected) -> None:
        section, _, attribute = payload.field.partition(".")
        value = payload.new_value
        if section == "address":
            if attribute in {"kecamatan", "kelurahan"}:
                row[attribute] = value
            return
        index = int(section[len("members[") : -1])
        members = [dict(m) for m in row["members"]]
        member = members[index]
        if attribute == "nik":
            member["nik_hash"] = keyed_hex(self.id_key, "nik", value)
        elif attribute == "name":
            member["name_hash"] = keyed_hex(self.id_key, "name", fold_name(value))
            member["masked_name"] = mask_name(value)
        elif attribute == "relationship":
            member["relationship"] = value
        self._set_members(hid, row, members)

    def _assigned(self, state: HouseholdState, record: Decoded, data: payloads.Assigned) -> None:
        key = (data.program, data.tahap)
        state.seats[key] = {
            "program": data.program,
            "tahap": data.tahap,
            "household_id": record.aggregate_id,
            "no_kk": state.row["no_kk"],
            "amount_idr": data.amount_idr,
            "budget_source": data.budget_source,
            "authority": data.authority,
            "rank": data.rank,
            "decree_ref": data.decree_ref,
            "state": "ASSIGNED",
            "last_status": None,
            "paid": False,
            "removed": False,
            "assigned_at": record.recorded_at,
            "paid_at": None,
            "failed_at": None,
            "returned_at": None,
            "removed_at": None,
            "position": record.position,
        }
        self._restate(state, data.program, record)

    def _left_out(self, state: HouseholdState, record: Decoded, data: payloads.LeftOut) -> None:
        key = (data.program, data.tahap)
        if key in state.seats:
            return
        self.statuses[record.aggregate_id, *key] = {
            "household_id": record.aggregate_id,
            "program": data.program,
            "tahap": data.tahap,
            "no_kk": state.row["no_kk"],
            "state": "LEFT_OUT",
            "amount_idr": None,
            "authority": data.authority,
            "left_out_code": data.code,
            "rank": data.rank,
            "cutoff": data.cutoff,
            "other_program": data.other_program,
            "updated_at": record.recorded_at,
            "position": record.position,
        }

    def _payment(self, state: HouseholdState, record: Decoded, data: payloads.PaymentRecorded) -> None:
        program, tahap, status, paid_at = data.program, data.tahap, data.status, data.paid_at
        seat = state.seats.get((program, tahap))
        budget_source = seat["budget_source"] if seat else self.programs.get(program, {}).get("budget_source")
        paid_on = wib_date(paid_at)
        self.ledger.append(
            {
                "position": record.position,
                "event_id": record.event_id,
                "household_id": record.aggregate_id,
                "no_kk": state.row["no_kk"],
                "budget_source": budget_source,
                "program": program,
                "tahap": tahap,
                "amount_idr": data.amount_idr,
                "status": status,
                "reference": data.reference,
                "paid_at": paid_at,
                "paid_on": paid_on,
                "recorded_at": record.recorded_at,
                "seated": seat is not None,
                "after_removal": status == "PAID" and state.after_removal(program, tahap, paid_on),
                "roster_hash": data.roster_hash,
                "warnings": data.warnings,
            }
        )
        if seat is None:
            return
        seat["last_status"] = status
        if status == "PAID":
            seat["paid"], seat["paid_at"] = True, record.recorded_at
        elif status == "RETURNED":
            seat["paid"], seat["returned_at"] = False, record.recorded_at
        else:
            seat["failed_at"] = record.recorded_at
        self._restate(state, program, record)

    def _withdrawn(
        self, state: HouseholdState, record: Decoded, data: payloads.Removed | payloads.Transferred
    ) -> None:
        removed = isinstance(data, payloads.Removed)
        row: Row = {
            "position": record.position,
            "event_id": record.event_id,
            "household_id": record.aggregate_id,
            "no_kk": state.row["no_kk"],
            "kind": "REMOVED" if removed else "TRANSFERRED",
            "program": data.program if isinstance(data, payloads.Removed) else data.from_program,
            "tahap": data.tahap if isinstance(data, payloads.Removed) else data.from_tahap,
            "to_program": None if isinstance(data, payloads.Removed) else data.to_program,
            "authority": data.authority,
            "reason": data.reason,
            "decree_ref": data.decree_ref if isinstance(data, payloads.Removed) else "",
            "effective_on": data.effective_on,
            "recorded_at": record.recorded_at,
            "reinstated_on": None,
            "reinstated_at": None,
            "reinstated_event_id": None,
        }
        state.withdrawals.append(row)
        self.dirty_withdrawals[record.position] = row
        self.reflag.add((record.aggregate_id, row["program"]))
        self._restate(state, row["program"], record)

    def _reinstated(self, state: HouseholdState, record: Decoded, data: payloads.Reinstated) -> None:
        for row in state.withdrawals:
            covers = row["program"] == data.program and row["tahap"] <= data.tahap
            if covers and row["reinstated_at"] is None:
                row.update(
                    reinstated_on=data.effective_on,
                    reinstated_at=record.recorded_at,
                    reinstated_event_id=record.event_id,
                )
                self.dirty_withdrawals[row["position"]] = row
        self.reflag.add((record.aggregate_id, data.program))
        self._restate(state, data.program, record)

    def _restate(self, state: HouseholdState, program: str, record: Decoded) -> None:
        """Recompute the state of the household's seats in `program` (a removal covers later tahap too)."""
        hid = state.row["household_id"]
        for (seat_program, tahap), seat in state.seats.items():
            if seat_program != program:
                continue
            cover = state.covering(program, tahap)
            seat.update(
                state="REMOVED" if cover else (seat["last_status"] or "ASSIGNED"),
                removed=cover is not None,
                removed_at=cover["recorded_at"] if cover else None,
                position=record.position,
            )
            self.dirty_seats.add((hid, program, tahap))
            self.seat_times[hid, program, tahap] = record.recorded_at

    # --- programs -------------------------------------------------------------------------------

    def _program_event(self, record: Decoded) -> None:
        payload = record.payload
        if isinstance(payload, payloads.Defined):
            self.programs[payload.code] = {
                "code": payload.code,
                "name": payload.name,
                "budget_source": payload.budget_source,
                "group": payload.group,
                "defined_at": record.recorded_at,
                "position": record.position,
            }
            self.program_codes[str(Program.create_id(payload.code))] = payload.code
            self.dirty_programs.add(payload.code)
            return
        code = self.program_codes[record.aggregate_id]
        if isinstance(payload, payloads.TahapOpened):
            program = self.programs[code]
            self.tahap[code, payload.number] = {
                "program": code,
                "tahap": payload.number,
                "name": program["name"],
                "budget_source": program["budget_source"],
                "group": program["group"],
                "starts_on": payload.starts_on,
                "ends_on": payload.ends_on,
                "quota": payload.quota,
                "amount_idr": payload.amount_idr,
                "budget_ceiling_idr": payload.budget_ceiling_idr,
                "decree_ref": payload.decree_ref,
                "assigned": 0,
                "committed_idr": 0,
                "roster_hash": None,
                "opened_at": record.recorded_at,
                "opened_event_id": record.event_id,
                "certified_at": None,
                "position": record.position,
            }
            self.dirty_tahap.add((code, payload.number))
            return
        if not isinstance(payload, payloads.SeatsCommitted | payloads.TahapCertified):
            return
        tahap = self.tahap[code, payload.tahap]
        if isinstance(payload, payloads.SeatsCommitted):
            tahap["assigned"] += len(payload.households)
            tahap["committed_idr"] += payload.amount_idr
        else:
            tahap["roster_hash"], tahap["certified_at"] = payload.roster_hash, record.recorded_at
        tahap["position"] = record.position
        self.dirty_tahap.add((code, payload.tahap))

    # --- writing --------------------------------------------------------------------------------

    def _prepare(self, dialect: Dialect) -> list[Step]:
        steps: list[Step] = []

        def rows(write: Callable[[Connection, Prepared], None], table: Table, rows: list[Row]) -> None:
            if rows:
                steps.append(_step(write, prepare_rows(dialect, table, rows)))

        def new_or_not(table: Table, candidates: list[Row], new: Callable[[Row], bool]) -> None:
            """COPY the rows `new` says are not stored yet straight in, upsert the others."""
            rows(insert_prepared, table, [r for r in candidates if new(r)])
            rows(upsert_prepared, table, [r for r in candidates if not new(r)])

        rows(upsert_prepared, t.programs, [self.programs[c] for c in sorted(self.dirty_programs)])
        rows(upsert_prepared, t.program_tahap, [self.tahap[k] for k in sorted(self.dirty_tahap)])
        households = sorted(self.dirty_households)
        rows(insert_prepared, t.household, [self.households[h].row for h in households if h in self.created])
        existing = [self.households[h].row for h in households if h not in self.created]
        rows(upsert_prepared, t.household, [r for r in existing if r["household_id"] in self.new_members])
        unchanged = [r for r in existing if r["household_id"] not in self.new_members]
        if unchanged:
            prepared = prepare_rows(dialect, t.household, unchanged, _CHANGING)
            steps.append(_step(update_prepared, prepared))
        gone = [k for k, v in self.persons.items() if v is None]
        deletes = [{"k": k, "h": h} for k in gone for h in sorted(self.person_holders[k])]
        if deletes:
            steps.append(_step(_delete_persons, deletes))
        written = [v for v in self.persons.values() if v is not None]
        held = self._stored_persons([v["nik_hash"] for v in written])
        new_or_not(t.person_index, written, lambda v: v["nik_hash"] not in held)
        seats = [self.households[h].seats[p, n] for h, p, n in sorted(self.dirty_seats)]
        stored = self.stored_seats
        new_or_not(
            t.tahap_roster, seats, lambda s: (s["household_id"], s["program"], s["tahap"]) not in stored
        )
        for seat in seats:
            key = (seat["household_id"], seat["program"], seat["tahap"])
            self.statuses[key] = _status_of_seat(seat, self.seat_times[key])
        created = self.created
        statuses = [self.statuses[k] for k in sorted(self.statuses)]
        new_or_not(t.household_status, statuses, lambda s: s["household_id"] in created)
        withdrawals = [self.dirty_withdrawals[p] for p in sorted(self.dirty_withdrawals)]
        new_or_not(t.withdrawal, withdrawals, lambda w: w["household_id"] in created)
        self._reflag_batch_payments()
        rows(insert_prepared, t.payment_ledger, self.ledger)
        reflag = self._reflag_stored_payments()
        if reflag is not None:
            steps.append(_step(_reflag_payments, reflag))
        return steps

    def _stored_persons(self, keys: list[str]) -> set[str]:
        """Which of these NIK hashes the person index may hold when this batch is written: those it
        holds now, and those the batch before writes."""
        held = select_in(self.conn, t.person_index, "nik_hash", keys, ["nik_hash"])
        return {row["nik_hash"] for row in held} | self.persons_before

    def _reflag_batch_payments(self) -> None:
        """Recompute `after_removal` of the batch's payments of households whose removals changed
        after the payment was folded (a removal may be recorded after the payments it covers)."""
        if not self.reflag:
            return
        for row in self.ledger:
            hid, program = row["household_id"], row["program"]
            if (hid, program) in self.reflag:
                row["after_removal"] = row["status"] == "PAID" and self.households[hid].after_removal(
                    program, row["tahap"], row["paid_on"]
                )

    def _reflag_stored_payments(self) -> tuple[list[Row], list[Row]] | None:
        """The stored payments whose `after_removal` to recompute, those of households whose removals
        changed (households proposed in the batch have none): (the households' programs, the spans
        of their removals); None when there are none."""
        reflag = sorted((h, p) for h, p in self.reflag if h not in self.created)
        if not reflag:
            return None
        flagged = [
            {"h": h, "p": p, "t": w["tahap"], "eff": w["effective_on"], "until": w["reinstated_on"] or NEVER}
            for h, p in reflag
            for w in self.households[h].withdrawals
            if w["program"] == p
        ]
        return [{"h": h, "p": p} for h, p in reflag], flagged


Step = Callable[[Connection], None]
"""One write of a prepared batch."""
_T = TypeVar("_T")


def _step(write: Callable[[Connection, _T], None], argument: _T) -> Step:
    return lambda conn: write(conn, argument)


def _delete_persons(conn: Connection, deletes: list[Row]) -> None:
    """Delete person-index rows by NIK hash (`k`) and household (`h`)."""
    person = t.person_index.c
    conn.execute(
        t.person_index.delete().where(
            person.nik_hash == bindparam("k"), person.household_id == bindparam("h")
        ),
        deletes,
    )


def _reflag_payments(conn: Connection, reflag: tuple[list[Row], list[Row]]) -> None:
    """Clear `after_removal` of the payments of each household's program, then set it on the PAID
    ones in the span of one of its removals (`BatchProjection._reflag_stored_payments`)."""
    programs, flagged = reflag
    ledger = t.payment_ledger
    same = and_(ledger.c.household_id == bindparam("h"), ledger.c.program == bindparam("p"))
    conn.execute(update(ledger).where(same).values(after_removal=False), programs)
    if flagged:
        conn.execute(
            update(ledger)
            .where(
                same,
                ledger.c.status == "PAID",
                ledger.c.tahap >= bindparam("t"),
                ledger.c.paid_on >= bindparam("eff"),
                ledger.c.paid_on < bindparam("until"),
            )
            .values(after_removal=True),
            flagged,
        )


def _status_of_seat(seat: Row, updated_at: datetime) -> Row:
    return {
        "household_id": seat["household_id"],
        "program": seat["program"],
        "tahap": seat["tahap"],
        "no_kk": seat["no_kk"],
        "state": seat["state"],
        "amount_idr": seat["amount_idr"],
        "authority": seat["authority"],
        "left_out_code": None,
        "rank": seat["rank"],
        "cutoff": None,
        "other_program": None,
        "updated_at": updated_at,
        "position": seat["position"],
    }


def _is_city(kind: str) -> bool:
    try:
        return SourceKind(kind).is_city
    except ValueError:
        return False

"""Event payloads: one frozen msgspec Struct per event type, keyed by the event's stored `TOPIC`.

A payload holds exactly the fields an event stores, by the names and in the shape they are stored
(flat; dates and times at the top level, which the store tags; member lists and addresses as plain
JSON objects), so every stored event decodes into its payload. The aggregates' event classes take
their `TOPIC` from here and declare the same fields; readers (the projections, the audit) decode a
stored event's state straight into `payload_type(topic)` and read typed attributes.

Each Struct is named after its event and carries `TOPIC` as a class variable; `EVENT_TYPE` is the
topic without its `salur:` prefix, as the timeline and `/events` name the event.

Payloads are immutable values that never refer back to anything, so they are left out of the cyclic
garbage collector (`gc=False`): a rebuild decodes millions of them, and tracking each one would make
the collector run (and walk every live payload of the batch) far more often.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

import msgspec


def _type_of(topic: str) -> str:
    return topic.partition(":")[2] or topic


class Payload(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What every event records besides its aggregate, version and time: who recorded it, in which role."""

    TOPIC: ClassVar[str]
    EVENT_TYPE: ClassVar[str]
    actor: str = ""
    role: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.EVENT_TYPE = _type_of(cls.TOPIC)


class MemberData(msgspec.Struct, frozen=True, gc=False):
    """A member as an event stores it (`birth_date` as ISO text)."""

    nik: str
    name: str
    relationship: str
    birth_date: str | None = None


class AddressData(msgspec.Struct, frozen=True, gc=False):
    """An address as an event stores it."""

    kecamatan: str
    kelurahan: str
    rw: str = ""
    rt: str = ""


# --- household ------------------------------------------------------------------------------------


class Proposed(Payload, frozen=True, kw_only=True):
    """First proposal of a household by a source."""

    TOPIC: ClassVar[str] = "salur:household.Proposed"
    no_kk: str
    source_kind: str
    source_ref: str
    address: AddressData | None
    members: list[MemberData]


class Reproposed(Payload, frozen=True, kw_only=True):
    """Another source proposed the same household again."""

    TOPIC: ClassVar[str] = "salur:household.Reproposed"
    source_kind: str
    source_ref: str


class MembersRecorded(Payload, frozen=True, kw_only=True):
    """A different member list or address."""

    TOPIC: ClassVar[str] = "salur:household.MembersRecorded"
    address: AddressData | None
    members: list[MemberData]


class PopulationMatched(Payload, frozen=True, kw_only=True):
    """A padan result."""

    TOPIC: ClassVar[str] = "salur:household.PopulationMatched"
    result: str
    checked_on: date
    basis: str


class VervalDecided(Payload, frozen=True, kw_only=True):
    """A verval decision."""

    TOPIC: ClassVar[str] = "salur:household.VervalDecided"
    decision: str
    reason: str
    officer: str
    decided_on: date
    effective_on: date


class Assigned(Payload, frozen=True, kw_only=True):
    """A seat in a program's tahap (`authority` None: by the city's rule)."""

    TOPIC: ClassVar[str] = "salur:household.Assigned"
    program: str
    tahap: int
    starts_on: date
    ends_on: date
    amount_idr: int
    budget_source: str
    authority: str | None
    rank: int | None
    warnings: list[str]
    decree_ref: str
    effective_on: date | None = None  # an outside roster's berlaku (events before it was recorded lack it)


class LeftOut(Payload, frozen=True, kw_only=True):
    """Considered for a tahap and not assigned, and why."""

    TOPIC: ClassVar[str] = "salur:household.LeftOut"
    program: str
    tahap: int
    code: str
    rank: int | None
    cutoff: int | None
    authority: str | None
    other_program: str | None
    effective_on: date | None = None  # an outside roster's berlaku, for NOT_IN_SOURCE_LIST


class PaymentRecorded(Payload, frozen=True, kw_only=True):
    """A payer's report of one payment attempt."""

    TOPIC: ClassVar[str] = "salur:household.PaymentRecorded"
    program: str
    tahap: int
    amount_idr: int
    paid_at: datetime
    status: str
    reference: str
    roster_hash: str | None
    warnings: list[str]


class Removed(Payload, frozen=True, kw_only=True):
    """Removal from a program from a tahap on."""

    TOPIC: ClassVar[str] = "salur:household.Removed"
    program: str
    tahap: int
    authority: str
    reason: str
    decree_ref: str
    effective_on: date


class Reinstated(Payload, frozen=True, kw_only=True):
    """A removal or transfer undone from a tahap on."""

    TOPIC: ClassVar[str] = "salur:household.Reinstated"
    program: str
    tahap: int
    authority: str
    reason: str
    effective_on: date


class Transferred(Payload, frozen=True, kw_only=True):
    """Taken out of one program from a tahap on, naming the program it goes to."""

    TOPIC: ClassVar[str] = "salur:household.Transferred"
    from_program: str
    from_tahap: int
    to_program: str
    authority: str
    reason: str
    effective_on: date


class ComplaintFiled(Payload, frozen=True, kw_only=True):
    """An aduan."""

    TOPIC: ClassVar[str] = "salur:household.ComplaintFiled"
    complaint_id: str
    channel: str
    text: str


class ComplaintResolved(Payload, frozen=True, kw_only=True):
    """An aduan answered."""

    TOPIC: ClassVar[str] = "salur:household.ComplaintResolved"
    complaint_id: str
    outcome: str
    note: str


class Corrected(Payload, frozen=True, kw_only=True):
    """A data correction (`field` is a path such as `members[0].name`)."""

    TOPIC: ClassVar[str] = "salur:household.Corrected"
    field: str
    old_value: str | None
    new_value: str
    evidence: str


class MemberMovedOut(Payload, frozen=True, kw_only=True):
    """A member left for another household."""

    TOPIC: ClassVar[str] = "salur:household.MemberMovedOut"
    nik: str
    to_no_kk: str
    reason: str
    evidence: str


class MemberMovedIn(Payload, frozen=True, kw_only=True):
    """A member arrived from another household."""

    TOPIC: ClassVar[str] = "salur:household.MemberMovedIn"
    member: MemberData
    from_no_kk: str
    reason: str
    evidence: str


# --- program --------------------------------------------------------------------------------------


class Defined(Payload, frozen=True, kw_only=True):
    """A program defined."""

    TOPIC: ClassVar[str] = "salur:program.Defined"
    code: str
    name: str
    budget_source: str
    group: str


class TahapOpened(Payload, frozen=True, kw_only=True):
    """A tahap opened, with its period, quota, amount and ceiling."""

    TOPIC: ClassVar[str] = "salur:program.TahapOpened"
    number: int
    starts_on: date
    ends_on: date
    quota: int
    amount_idr: int
    budget_ceiling_idr: int
    decree_ref: str


class SeatsCommitted(Payload, frozen=True, kw_only=True):
    """Seats committed in a tahap (household ids, the amount they commit)."""

    TOPIC: ClassVar[str] = "salur:program.SeatsCommitted"
    tahap: int
    households: list[str]
    amount_idr: int
    authority: str | None
    weighed_through: int | None = None  # the store's position an allocation by the city's rule had read


class TahapCertified(Payload, frozen=True, kw_only=True):
    """A tahap's roster certified: its hash and the chain head it was certified at."""

    TOPIC: ClassVar[str] = "salur:program.TahapCertified"
    tahap: int
    roster_hash: str
    households: int
    chain_head: dict[str, Any]


# --- person ---------------------------------------------------------------------------------------


class Claimed(Payload, frozen=True, kw_only=True):
    """A NIK claimed by a household."""

    TOPIC: ClassVar[str] = "salur:person.Claimed"
    household_id: str


class Moved(Payload, frozen=True, kw_only=True):
    """A NIK's claim moved to another household."""

    TOPIC: ClassVar[str] = "salur:person.Moved"
    household_id: str


class Released(Payload, frozen=True, kw_only=True):
    """A NIK's claim released."""

    TOPIC: ClassVar[str] = "salur:person.Released"


# --- the ledger's notary ------------------------------------------------------------------------


class HeadSigned(Payload, frozen=True, kw_only=True):
    """The chain's head at `position` (its hash, hex) signed with the Ed25519 key `public_key`."""

    TOPIC: ClassVar[str] = "salur:notary.HeadSigned"
    position: int
    hash: str
    signature: str
    public_key: str
    reason: str


PAYLOADS: dict[str, type[Payload]] = {
    cls.TOPIC: cls
    for cls in (
        Proposed,
        Reproposed,
        MembersRecorded,
        PopulationMatched,
        VervalDecided,
        Assigned,
        LeftOut,
        PaymentRecorded,
        Removed,
        Reinstated,
        Transferred,
        ComplaintFiled,
        ComplaintResolved,
        Corrected,
        MemberMovedOut,
        MemberMovedIn,
        Defined,
        TahapOpened,
        SeatsCommitted,
        TahapCertified,
        Claimed,
        Moved,
        Released,
        HeadSigned,
    )
}
"""Every event's payload type by its stored topic."""


def payload_type(topic: str) -> type[Payload]:
    """The payload Struct of the event stored under `topic` (KeyError for a topic not of this domain)."""
    return PAYLOADS[topic]

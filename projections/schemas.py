"""The read side's answers as msgspec Structs (``HouseholdRead``, ``RosterPage``, ``ExplainRead``, ...).

The views, queries and audit functions build these Structs themselves, so the type checker holds
what the API answers against what they select; the API serves them as they are and documents them
in its OpenAPI schema. ``ExplainRead`` documents the explain engine's answer, whose reasons also
carry the facts of their code (``rank``, ``cutoff``, ``detail``, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Struct

from salur_cases.domain.vocabulary import BudgetSource, ProgramGroup
from salur_cases.fields import Code, Nik, NoKK, TahapNumber, example


class TahapRead(Struct):
    """A tahap of a program."""

    program: Code
    number: TahapNumber
    starts_on: date
    ends_on: date
    quota: int
    amount_idr: int
    budget_ceiling_idr: int
    decree_ref: str
    assigned: int = 0
    certified: bool = False


class ProgramRead(Struct):
    """An aid program."""

    code: Code
    name: str
    budget_source: BudgetSource
    group: ProgramGroup
    tahap: list[TahapRead] = msgspec.field(default_factory=list)


class ChainHead(Struct):
    """A position in the tamper-evident chain and its hash."""

    position: int
    hash: str


class RosterItem(Struct):
    """A household on a tahap's roster."""

    no_kk: NoKK
    state: Literal["ASSIGNED", "PAID", "FAILED", "RETURNED", "REMOVED"]
    amount_idr: int


class RosterPage(Struct):
    """A page of a roster."""

    items: list[RosterItem]
    next_cursor: str | None


class AddressRead(Struct):
    """An address (Kemendagri codes)."""

    kecamatan: Annotated[str, example("32.71.03")]
    kelurahan: Annotated[str, example("32.71.03.1005")]
    rw: str
    rt: str


class MemberRead(Struct):
    """A member."""

    nik: Nik
    name: str
    relationship: str
    birth_date: date | None = None


class SourceRead(Struct):
    """A proposal's source."""

    kind: str
    reference: str


class PadanRead(Struct):
    """The latest padan result."""

    result: str
    checked_on: date | None = None


class VervalRead(Struct):
    """The latest verval decision."""

    decision: str
    decided_on: date | None = None


class SeatRead(Struct):
    """A household's place in one tahap of a program."""

    program: str
    tahap: int
    state: str
    amount_idr: int
    authority: str | None = None


class RemovalRead(Struct):
    """A removal or transfer."""

    kind: str
    program: str
    tahap: int
    authority: str
    reason: str
    effective_on: date
    decree_ref: str | None = None
    to_program: str | None = None
    reinstated: bool = False


class ComplaintRead(Struct):
    """An aduan and its outcome."""

    complaint_id: str
    channel: str
    outcome: str | None = None


class HouseholdRead(Struct):
    """A household as it stands (or stood, with ``as_of`` / ``effective_on``); ``version`` is its ETag."""

    no_kk: NoKK
    version: int
    address: AddressRead | None
    members: list[MemberRead]
    sources: list[SourceRead]
    padan: PadanRead | None
    verval: VervalRead | None
    programs: list[SeatRead]
    removals: list[RemovalRead]
    complaints: list[ComplaintRead] = msgspec.field(default_factory=list)


class LookupRead(Struct):
    """The household a NIK belongs to."""

    no_kk: NoKK
    household: HouseholdRead


class EventRead(Struct):
    """One stored event."""

    position: int
    event_id: str
    type: Annotated[str, example("household.Assigned")]
    recorded_at: datetime
    effective_on: date | None
    actor: str
    role: str
    data: dict[str, Any]
    no_kk: NoKK | None = None
    program: str | None = None
    tahap: int | None = None


class EventPage(Struct):
    """A page of a household's events."""

    items: list[EventRead]
    next_cursor: str | None


class FeedPage(Struct):
    """Events in commit order after a position."""

    items: list[EventRead]
    next_after: int | None


class MemberPadanRead(Struct):
    """One member's padan result (masked NIK and name) and the near miss, if one exists."""

    nik: Annotated[str, example("3271********0001")]
    name: Annotated[str, example("B*** S******")]
    result: Annotated[str, example("NIK_NOT_FOUND")]
    relationship: str | None = None
    suggestion: Annotated[
        str | None, example("NIK_ONE_DIGIT", "NIK_ONE_DIGIT, NAME_NICKNAME, NAME_SPELLING or NAME_SIMILAR")
    ] = None
    suggested_nik: str | None = None
    suggested_name: str | None = None


class ReasonRead(Struct):
    """Why: a reason code, the event that caused it, its recorded facts and its sentence."""

    code: Annotated[str, example("REMOVED_BY_AUTHORITY")]
    text: str = ""
    at: datetime | None = None
    effective_on: date | None = None
    authority: str | None = None
    actor: str | None = None
    officer: str | None = None
    reason: Annotated[
        str | None, example("pindah domisili ke Kabupaten Bogor", "the recorded reason text")
    ] = None
    decree_ref: str | None = None
    event_id: str | None = None
    program: str | None = None
    tahap: int | None = None
    rank: int | None = None
    cutoff: int | None = None
    other_program: str | None = None
    other_tahap: int | None = None
    to_program: str | None = None
    result: Annotated[
        str | None, example("DECEASED", "the padan result, verval decision or payment status cited")
    ] = None
    detail: list[MemberPadanRead] | None = None
    reference: str | None = None
    amount_idr: int | None = None
    paid_on: date | None = None
    decided_on: date | None = None
    last_tahap: int | None = None
    ends_on: date | None = None


class PaymentLine(Struct):
    """A standing payment of the tahap explained."""

    tahap: int
    paid_on: date
    amount_idr: int
    reference: str
    event_id: str


class ExplainRead(Struct):
    """Why a household's aid changed between two tahap."""

    no_kk: NoKK
    outcome: Annotated[
        str, example("DROPPED", "STILL_RECEIVING, DROPPED, STARTED, NEVER_RECEIVED or AWAITING_PAYMENT")
    ]
    reasons: list[ReasonRead]
    next_steps: list[str]
    summary: str = ""
    payments: list[PaymentLine] = msgspec.field(default_factory=list)
    program: str | None = None
    program_name: str | None = None
    from_tahap: int | None = None
    to_tahap: int | None = None


class BudgetRow(Struct):
    """One program's tahap, by budget source."""

    budget_source: str
    program: str
    tahap: int
    quota: int
    assigned: int
    paid: int
    failed: int
    committed_idr: int
    paid_idr: int
    returned_idr: int
    ceiling_idr: int
    remainder_idr: int
    decree_ref: str | None = None


class BudgetPage(Struct):
    """Every budget row, when it was read, and the chain head it reflects."""

    items: list[BudgetRow]
    next_cursor: str | None = None
    as_of: datetime | None = None
    chain_head: ChainHead | None = None


class AnomalyRead(Struct):
    """A recorded fact that breaks a city rule: how severe, and the Rupiah at stake."""

    code: Annotated[str, example("PAID_WITHOUT_VERVAL")]
    severity: Literal["HIGH", "MEDIUM", "LOW"]
    evidence: list[str]
    amount_idr: int = 0
    no_kk: NoKK | None = None
    program: str | None = None
    tahap: int | None = None
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


class AnomalyPage(Struct):
    """A page of anomalies."""

    items: list[AnomalyRead]
    next_cursor: str | None


class PaymentRead(Struct):
    """One line of a payer's report, as the payment ledger keeps it."""

    reference: str
    paid_on: date
    amount_idr: int
    status: Literal["PAID", "FAILED", "RETURNED"]
    program: str
    tahap: int
    budget_source: str
    no_kk: str


class PaymentPage(Struct):
    """A page of the payment ledger, in commit order."""

    items: list[PaymentRead]
    next_cursor: str | None


class BrokenLink(Struct):
    """Where the chain first breaks, why, and what the event there concerns (as far as known)."""

    position: int
    reason: str
    household: str | None = None
    """The household's No. KK (masked unless the role may read households)."""
    program: str | None = None
    tahap: int | None = None
    type: str | None = None
    recorded_at: str | None = None


class VerifyRead(Struct):
    """The tamper-evident chain's check: rows recomputed, certified rosters checked, the head to remember."""

    ok: bool
    checked: int
    head: ChainHead
    first_broken: BrokenLink | None
    rosters: int = 0
    signatures: int | None = None
    """Signed chain heads found valid (None: no public key to check them with)."""


class PublicStatusRead(Struct):
    """A citizen's answer: nothing about anyone else."""

    status: Literal["RECEIVING", "NOT_RECEIVING", "NOT_FOUND"]
    masked_name: str | None = None
    program: str | None = None
    tahap: int | None = None
    reason: str | None = None
    next_step: str | None = None

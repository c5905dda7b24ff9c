"""The API's request and response shapes as msgspec Structs (``HouseholdCreate``, ``HouseholdRead``, ...).

Requests are decoded into these Structs (types and simple bounds; a violation is a 422 naming the
field) and then parsed by :mod:`salur_cases.commands`, which knows the domain's rules for a NIK, a
No. KK or an address. Responses are the views' plain dicts, described here for the OpenAPI schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    VervalDecision,
)

# --- examples (invented people; the same household throughout) ----------------------------------

EXAMPLE_NO_KK = "3271031503200001"
EXAMPLE_NIK = "3271031507750001"
EXAMPLE_NAME = "Budi Santoso"


def _ex(value: Any, description: str | None = None, **constraints: Any) -> Meta:
    schema: dict[str, Any] = {"examples": [value]}
    if description:
        schema["description"] = description
    return Meta(extra_json_schema=schema, **constraints)


NoKK = Annotated[str, _ex(EXAMPLE_NO_KK, "No. KK: 16 digits", min_length=1, max_length=32)]
Nik = Annotated[str, _ex(EXAMPLE_NIK, "NIK: 16 digits", min_length=1, max_length=32)]
Text = Annotated[str, Meta(max_length=2000)]
Code = Annotated[str, _ex("WALIKOTA", "a program code", min_length=1, max_length=40)]
TahapNumber = Annotated[int, _ex(1, "a tahap number", ge=1, le=1000)]
Rupiah = Annotated[int, _ex(500_000, "whole Rupiah", ge=0, le=10**15)]


# --- requests -----------------------------------------------------------------------------------


class ProgramCreate(Struct, forbid_unknown_fields=True):
    """A new aid program."""

    code: Code
    name: Annotated[str, _ex("Bantuan Walikota", min_length=1, max_length=200)]
    budget_source: BudgetSource
    group: ProgramGroup


class TahapCreate(Struct, forbid_unknown_fields=True):
    """A new tahap (disbursement round) of a program."""

    number: TahapNumber
    starts_on: Annotated[date, _ex("2020-04-27")]
    ends_on: Annotated[date, _ex("2020-05-26")]
    quota: Annotated[int, _ex(19904, ge=0, le=10**9)]
    amount_idr: Rupiah
    budget_ceiling_idr: Annotated[int, _ex(9_952_000_000, ge=0, le=10**15)]
    decree_ref: Annotated[str, _ex("027.45-312", max_length=200)]


class AllocationCreate(Struct, forbid_unknown_fields=True):
    """``{}`` for the city's rule; ``authority`` and ``no_kk`` for an outside authority's complete list."""

    authority: Annotated[str, _ex("KEMENSOS", max_length=200)] | None = None
    no_kk: Annotated[list[NoKK], Meta(max_length=500_000)] | None = None


class PaymentCreate(Struct, forbid_unknown_fields=True):
    """One payment attempt (a time without offset is WIB)."""

    no_kk: NoKK
    amount_idr: Rupiah
    paid_at: Annotated[str, _ex("2020-05-02T10:00:00+07:00", "ISO 8601; no offset means WIB", max_length=64)]
    status: PaymentStatus
    reference: Annotated[str, _ex("POS-1", max_length=200)]


class PaymentsCreate(Struct, forbid_unknown_fields=True):
    """Payments of one tahap."""

    items: Annotated[list[PaymentCreate], Meta(max_length=100_000)]


class SourceIn(Struct, forbid_unknown_fields=True):
    """Who proposes: KELURAHAN, SELF, DINAS:name, DPRD:name, DTKS, PROVINSI or KEMENSOS."""

    kind: Annotated[str, _ex("KELURAHAN", max_length=200)]
    reference: Annotated[str, Meta(max_length=200)] = ""


class AddressIn(Struct, forbid_unknown_fields=True):
    """An address in Kota Bogor: kecamatan and kelurahan by name or code."""

    kecamatan: Annotated[str, _ex("Bogor Tengah", max_length=100)]
    kelurahan: Annotated[str, _ex("Sempur", max_length=100)]
    rw: Annotated[str, _ex("003", max_length=10)] = ""
    rt: Annotated[str, _ex("002", max_length=10)] = ""


class MemberIn(Struct, forbid_unknown_fields=True):
    """A person on the family card."""

    nik: Nik
    name: Annotated[str, _ex(EXAMPLE_NAME, max_length=200)]
    relationship: Annotated[str, _ex("KEPALA KELUARGA", max_length=50)]
    birth_date: Annotated[date, _ex("1975-07-15")] | None = None


class HouseholdCreate(Struct, forbid_unknown_fields=True):
    """A household proposed by a source."""

    no_kk: NoKK
    source: SourceIn
    address: AddressIn | None = None
    members: Annotated[list[MemberIn], Meta(max_length=50)] = msgspec.field(default_factory=list)


class PopulationMatchCreate(Struct, forbid_unknown_fields=True):
    """A padan result decided by Disdukcapil."""

    result: PadanResult
    checked_on: Annotated[date, _ex("2020-05-02")] | None = None


class VervalCreate(Struct, forbid_unknown_fields=True):
    """A verval decision."""

    decision: VervalDecision
    reason: Annotated[str, _ex("terdampak", max_length=2000)]
    officer: Annotated[str, _ex("petugas-1", max_length=200)]
    decided_on: Annotated[date, _ex("2020-04-24")]
    effective_on: date | None = None


class RemovalCreate(Struct, forbid_unknown_fields=True):
    """A removal by an authority, from a tahap on."""

    program: Code
    tahap: TahapNumber
    authority: Annotated[str, _ex("KEMENSOS", max_length=200)]
    reason: Annotated[str, _ex("tidak padan", max_length=2000)]
    decree_ref: Annotated[str, _ex("KEP-1", max_length=200)]
    effective_on: date | None = None


class ReinstatementCreate(Struct, forbid_unknown_fields=True):
    """Undoing a removal, from a tahap on."""

    program: Code
    tahap: TahapNumber
    authority: Annotated[str, _ex("DINSOS", max_length=200)]
    reason: Annotated[str, _ex("sanggahan diterima", max_length=2000)]
    effective_on: date | None = None


class TransferCreate(Struct, forbid_unknown_fields=True):
    """A transfer out of one program, naming the program the household goes to."""

    from_program: Code
    from_tahap: TahapNumber
    to_program: Code
    authority: Annotated[str, _ex("DINSOS", max_length=200)]
    reason: Annotated[str, _ex("kuota kota habis", max_length=2000)]
    effective_on: date | None = None


class CorrectionCreate(Struct, forbid_unknown_fields=True):
    """A correction of one field, with its evidence."""

    field: Annotated[str, _ex("address.rt", max_length=100)]
    new_value: Annotated[str, _ex("004", max_length=200)]
    evidence: Annotated[str, _ex("KK terbaru", max_length=2000)]


class MemberMoveCreate(Struct, forbid_unknown_fields=True):
    """A member moving to another household."""

    nik: Nik
    to_no_kk: NoKK
    reason: Annotated[str, _ex("pindah KK", max_length=2000)]
    evidence: Annotated[str, _ex("KK baru", max_length=2000)]


class ComplaintCreate(Struct, forbid_unknown_fields=True):
    """An aduan."""

    channel: Annotated[str, _ex("WHATSAPP", max_length=100)]
    text: Annotated[str, _ex("bantuan tahap 2 belum diterima", max_length=5000)]


class ComplaintResolutionCreate(Struct, forbid_unknown_fields=True):
    """The answer to an aduan."""

    outcome: Annotated[str, _ex("RESOLVED", max_length=100)]
    note: Annotated[str, _ex("sudah dibayar ulang", max_length=5000)]


class LookupRequest(Struct, forbid_unknown_fields=True):
    """A NIK to look up (in the body, so it stays out of URLs and logs)."""

    nik: Nik


class PublicStatusRequest(Struct, forbid_unknown_fields=True):
    """A citizen's own NIK and name."""

    nik: Nik
    name: Annotated[str, _ex(EXAMPLE_NAME, min_length=1, max_length=200)]


# --- responses ----------------------------------------------------------------------------------


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


class ItemIssue(Struct):
    """A refused or warned item of a list: its index, a code and a message."""

    index: int
    code: str
    message: str
    field: str | None = None


class AllocationRead(Struct):
    """An allocation's result."""

    assigned: int
    left_out: int
    cutoff: int | None
    warnings: list[ItemIssue] = msgspec.field(default_factory=list)


class PaymentsRead(Struct):
    """Payments recorded and refused."""

    accepted: int
    rejected: list[ItemIssue]
    warnings: list[ItemIssue] = msgspec.field(default_factory=list)


class ChainHead(Struct):
    """A position in the tamper-evident chain and its hash."""

    position: int
    hash: str


class CertificationRead(Struct):
    """A certified roster."""

    roster_hash: str
    households: int
    chain_head: ChainHead


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

    kecamatan: Annotated[str, _ex("32.71.03")]
    kelurahan: Annotated[str, _ex("32.71.03.1005")]
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


class ComplaintCreated(Struct):
    """A filed aduan."""

    complaint_id: str


class LookupRead(Struct):
    """The household a NIK belongs to."""

    no_kk: NoKK
    household: HouseholdRead


class EventRead(Struct):
    """One stored event."""

    position: int
    event_id: str
    type: Annotated[str, _ex("household.Assigned")]
    recorded_at: datetime
    effective_on: date | None
    actor: str
    role: str
    data: dict[str, Any]


class EventPage(Struct):
    """A page of a household's events."""

    items: list[EventRead]
    next_cursor: str | None


class FeedPage(Struct):
    """Events in commit order after a position."""

    items: list[EventRead]
    next_after: int | None


class ReasonRead(Struct):
    """Why: a reason code, the event that caused it, and its text."""

    code: Annotated[str, _ex("REMOVED_BY_AUTHORITY")]
    text: str = ""
    at: datetime | None = None
    effective_on: date | None = None
    authority: str | None = None
    actor: str | None = None
    decree_ref: str | None = None
    event_id: str | None = None


class ExplainRead(Struct):
    """Why a household's aid changed between two tahap."""

    no_kk: NoKK
    outcome: Annotated[str, _ex("DROPPED", "STILL_RECEIVING, DROPPED, STARTED or NEVER_RECEIVED")]
    reasons: list[ReasonRead]
    next_steps: list[str]
    program: str | None = None
    from_tahap: int | None = None
    to_tahap: int | None = None


class ImportIssue(Struct):
    """A rejected or warned row of an import."""

    row: int
    code: str
    message: str
    column: str | None = None


class ImportRead(Struct):
    """An import's report."""

    import_id: str
    rows: int
    accepted: int
    rejected: list[ImportIssue]
    warnings: list[ImportIssue]
    already_imported: bool


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
    """Every budget row."""

    items: list[BudgetRow]
    next_cursor: str | None = None


class AnomalyRead(Struct):
    """A recorded fact that breaks a city rule."""

    code: Annotated[str, _ex("PAID_WITHOUT_VERVAL")]
    evidence: list[str]
    no_kk: NoKK | None = None
    program: str | None = None
    tahap: int | None = None
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


class AnomalyPage(Struct):
    """A page of anomalies."""

    items: list[AnomalyRead]
    next_cursor: str | None


class BrokenLink(Struct):
    """Where the chain first breaks, and why."""

    position: int
    reason: str


class VerifyRead(Struct):
    """The tamper-evident chain's check: rows recomputed, certified rosters checked, the head to remember."""

    ok: bool
    checked: int
    head: ChainHead
    first_broken: BrokenLink | None
    rosters: int = 0


class PublicStatusRead(Struct):
    """A citizen's answer: nothing about anyone else."""

    status: Literal["RECEIVING", "NOT_RECEIVING", "NOT_FOUND"]
    masked_name: str | None = None
    program: str | None = None
    tahap: int | None = None


class HealthRead(Struct, omit_defaults=True):
    """Liveness or readiness."""

    status: Literal["ok", "ready", "not_ready"]
    database: bool | None = None
    projection_lag: int | None = None

"""The API's requests and the answers of its writes as msgspec Structs (``HouseholdCreate``, ...).

Requests are decoded into these Structs (types and simple bounds; a violation is a 422 naming the
field) and then parsed by :mod:`salur_cases.commands`, which knows the domain's rules for a NIK, a
No. KK or an address. The answers of writes are here too; the read side's answers are in
:mod:`salur_cases.projections.schemas`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from salur_cases import wilayah
from salur_cases.domain.household.corrections import ADDRESS_FIELDS, MEMBER_FIELDS
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    SourceKind,
    VervalDecision,
)
from salur_cases.fields import (
    EXAMPLE_NAME,
    NAME_PATTERN,
    NO_KK_PATTERN,
    REQUIRED_TEXT,
    Code,
    Nik,
    NoKK,
    Rupiah,
    TahapNumber,
    example,
)
from salur_cases.projections.schemas import ChainHead

SOURCE_KIND_PATTERN = rf"^\s*(?:{'|'.join(kind.value for kind in SourceKind)})\s*(?::.*)?$"
"""A source's kind, upper case, with a name after a colon for DINAS and DPRD."""
CORRECTION_FIELD_PATTERN = (
    rf"^(?:members\[[0-9]+\]\.(?:{'|'.join(MEMBER_FIELDS)})|address\.(?:{'|'.join(ADDRESS_FIELDS)}))$"
)
"""The fields a correction may change."""


def _place(shown: str, places: Iterable[wilayah.Kecamatan | wilayah.Kelurahan]) -> Meta:
    """A kecamatan or kelurahan of Kota Bogor, by name or dotted code (the document lists them)."""
    names = sorted({p.name for p in places} | {p.code for p in places})
    return Meta(max_length=100, extra_json_schema={"examples": [shown], "extra": {"enum": names}})


# --- requests -----------------------------------------------------------------------------------


class ProgramCreate(Struct, forbid_unknown_fields=True):
    """A new aid program."""

    code: Code
    name: Annotated[str, example("Bantuan Walikota", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    budget_source: BudgetSource
    group: ProgramGroup


class TahapCreate(Struct, forbid_unknown_fields=True):
    """A new tahap (disbursement round) of a program."""

    number: TahapNumber
    starts_on: Annotated[date, example("2020-04-27")]
    ends_on: Annotated[date, example("2020-05-26")]
    quota: Annotated[int, example(19904, ge=0, le=10**9)]
    amount_idr: Rupiah
    budget_ceiling_idr: Annotated[int, example(9_952_000_000, ge=0, le=10**15)]
    decree_ref: Annotated[str, example("027.45-312", max_length=200)]


_NO_KK_ITEMS = {
    "extra": {"items": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": NO_KK_PATTERN}}
}
"""The rules of each No. KK of a list, which the document would otherwise leave out of the list's items."""


class AllocationCreate(Struct, forbid_unknown_fields=True):
    """``{}`` for the city's rule; ``authority`` and ``no_kk`` (and its ``effective_on``) for an outside
    authority's complete list."""

    authority: Annotated[str, example("KEMENSOS", max_length=200)] | None = None
    no_kk: Annotated[list[NoKK], Meta(max_length=500_000, extra_json_schema=_NO_KK_ITEMS)] | None = None
    effective_on: (
        Annotated[date, Meta(description="the outside list's berlaku (outside lists only)")] | None
    ) = None


class CertificationCreate(Struct, forbid_unknown_fields=True):
    """A certification: no fields (``{}``)."""


class PaymentCreate(Struct, forbid_unknown_fields=True):
    """One payment attempt (a time without offset is WIB)."""

    no_kk: NoKK
    amount_idr: Rupiah
    paid_at: Annotated[
        str,
        Meta(
            max_length=64,
            extra_json_schema={
                "examples": ["2020-05-02T10:00:00+07:00"],
                "description": "ISO 8601; no offset means WIB",
                "extra": {"format": "date-time"},
            },
        ),
    ]
    status: PaymentStatus
    reference: Annotated[str, example("POS-1", max_length=200)]


class PaymentsCreate(Struct, forbid_unknown_fields=True):
    """Payments of one tahap."""

    items: Annotated[list[PaymentCreate], Meta(max_length=100_000)]


class SourceIn(Struct, forbid_unknown_fields=True):
    """Who proposes: KELURAHAN, SELF, DINAS:name, DPRD:name, DTKS, PROVINSI or KEMENSOS."""

    kind: Annotated[str, example("KELURAHAN", max_length=200, pattern=SOURCE_KIND_PATTERN)]
    reference: Annotated[str, Meta(max_length=200)] = ""


class AddressIn(Struct, forbid_unknown_fields=True):
    """An address in Kota Bogor: kecamatan and kelurahan by name or code."""

    kecamatan: Annotated[str, _place("Bogor Tengah", wilayah.all_kecamatan())]
    kelurahan: Annotated[str, _place("Sempur", wilayah.all_kelurahan())]
    rw: Annotated[str, example("003", max_length=10)] = ""
    rt: Annotated[str, example("002", max_length=10)] = ""


class MemberIn(Struct, forbid_unknown_fields=True):
    """A person on the family card."""

    nik: Nik
    name: Annotated[str, example(EXAMPLE_NAME, max_length=200, min_length=1, pattern=NAME_PATTERN)]
    relationship: Annotated[
        str, example("KEPALA KELUARGA", max_length=50, min_length=1, pattern=REQUIRED_TEXT)
    ]
    birth_date: Annotated[date, example("1975-07-15")] | None = None


class HouseholdCreate(Struct, forbid_unknown_fields=True):
    """A household proposed by a source."""

    no_kk: NoKK
    source: SourceIn
    address: AddressIn | None = None
    members: Annotated[list[MemberIn], Meta(max_length=50)] = msgspec.field(default_factory=list)


class PopulationMatchCreate(Struct, forbid_unknown_fields=True):
    """A padan result decided by Disdukcapil."""

    result: PadanResult
    checked_on: Annotated[date, example("2020-05-02")] | None = None


class VervalCreate(Struct, forbid_unknown_fields=True):
    """A verval decision."""

    decision: VervalDecision
    reason: Annotated[str, example("terdampak", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    officer: Annotated[str, example("petugas-1", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    decided_on: Annotated[date, example("2020-04-24")]
    effective_on: date | None = None


class RemovalCreate(Struct, forbid_unknown_fields=True):
    """A removal by an authority, from a tahap on."""

    program: Code
    tahap: TahapNumber
    authority: Annotated[str, example("KEMENSOS", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    reason: Annotated[str, example("tidak padan", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    decree_ref: Annotated[str, example("KEP-1", max_length=200)]
    effective_on: date | None = None


class ReinstatementCreate(Struct, forbid_unknown_fields=True):
    """Undoing a removal, from a tahap on."""

    program: Code
    tahap: TahapNumber
    authority: Annotated[str, example("DINSOS", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    reason: Annotated[
        str, example("sanggahan diterima", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)
    ]
    effective_on: date | None = None


class TransferCreate(Struct, forbid_unknown_fields=True):
    """A transfer out of one program, naming the program the household goes to."""

    from_program: Code
    from_tahap: TahapNumber
    to_program: Code
    authority: Annotated[str, example("DINSOS", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    reason: Annotated[str, example("kuota kota habis", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    effective_on: date | None = None


class CorrectionCreate(Struct, forbid_unknown_fields=True):
    """A correction of one field, with its evidence."""

    field: Annotated[str, example("address.rt", max_length=100, pattern=CORRECTION_FIELD_PATTERN)]
    new_value: Annotated[str, example("004", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    evidence: Annotated[str, example("KK terbaru", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]


class MemberMoveCreate(Struct, forbid_unknown_fields=True):
    """A member moving to another household."""

    nik: Nik
    to_no_kk: NoKK
    reason: Annotated[str, example("pindah KK", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    evidence: Annotated[str, example("KK baru", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]


class ComplaintCreate(Struct, forbid_unknown_fields=True):
    """An aduan."""

    channel: Annotated[str, example("WHATSAPP", max_length=100, min_length=1, pattern=REQUIRED_TEXT)]
    text: Annotated[
        str, example("bantuan tahap 2 belum diterima", max_length=5000, min_length=1, pattern=REQUIRED_TEXT)
    ]


class ComplaintResolutionCreate(Struct, forbid_unknown_fields=True):
    """The answer to an aduan."""

    outcome: Annotated[str, example("RESOLVED", max_length=100, min_length=1, pattern=REQUIRED_TEXT)]
    note: Annotated[str, example("sudah dibayar ulang", max_length=5000)]


class LookupRequest(Struct, forbid_unknown_fields=True):
    """A NIK to look up (in the body, so it stays out of URLs and logs)."""

    nik: Nik


class PublicStatusRequest(Struct, forbid_unknown_fields=True):
    """A citizen's own NIK and name."""

    nik: Nik
    name: Annotated[str, example(EXAMPLE_NAME, max_length=200, min_length=1, pattern=NAME_PATTERN)]
    lang: Literal["id", "en"] = "id"


# --- responses ----------------------------------------------------------------------------------


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


class CertificationRead(Struct):
    """A certified roster."""

    roster_hash: str
    households: int
    chain_head: ChainHead


class ComplaintCreated(Struct):
    """A filed aduan."""

    complaint_id: str


class ImportIssue(Struct):
    """A rejected or warned row of an import."""

    row: int
    code: str
    message: str
    column: str | None = None


class ImportRead(Struct):
    """An import's report (``dry_run``: checked, nothing written)."""

    import_id: str
    kind: str
    rows: int
    accepted: int
    rejected: list[ImportIssue]
    warnings: list[ImportIssue]
    already_imported: bool
    dry_run: bool = False


class HealthRead(Struct, omit_defaults=True):
    """Liveness or readiness."""

    status: Literal["ok", "ready", "not_ready"]
    database: bool | None = None
    projection_lag: int | None = None
    standby: bool | None = None
    """With a read standby: whether it answers."""
    standby_lag: int | None = None
    """With a read standby: the events its read models are behind the primary's (not yet replayed)."""

"""Commands: one msgspec Struct per decision, as the API decodes it from a request body and an import
builds it from a row; the write side passes it whole to the aggregate that decides it.

Each Struct carries the bounds the API enforces (a violation is a 422 naming the field) and keeps the
name of its OpenAPI component (`__schema_name__`). Identifiers and places are checked by the domain's
parsers (`parsed()`), whose messages say which rule a value breaks and never echo it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta, Struct

from salur_cases import wilayah
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household.corrections import ADDRESS_FIELDS, MEMBER_FIELDS
from salur_cases.domain.parsing import (
    parse_address,
    parse_members,
    parse_nik,
    parse_no_kk,
    parse_source,
    parse_time,
)
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


# --- programs -------------------------------------------------------------------------------------


class DefineProgram(Struct, forbid_unknown_fields=True):
    """A new aid program."""

    __schema_name__: ClassVar[str] = "ProgramCreate"
    code: Code
    name: Annotated[str, example("Bantuan Walikota", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    budget_source: BudgetSource
    group: ProgramGroup


class OpenTahap(Struct, forbid_unknown_fields=True):
    """A new tahap (disbursement round) of a program."""

    __schema_name__: ClassVar[str] = "TahapCreate"
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


class AllocateTahap(Struct, forbid_unknown_fields=True):
    """``{}`` for the city's rule; ``authority`` and ``no_kk`` (and its ``effective_on``) for an outside
    authority's complete list."""

    __schema_name__: ClassVar[str] = "AllocationCreate"
    authority: Annotated[str, example("KEMENSOS", max_length=200)] | None = None
    no_kk: Annotated[list[NoKK], Meta(max_length=500_000, extra_json_schema=_NO_KK_ITEMS)] | None = None
    effective_on: (
        Annotated[date, Meta(description="the outside list's berlaku (outside lists only)")] | None
    ) = None


class CertifyTahap(Struct, forbid_unknown_fields=True):
    """A certification: no fields (``{}``)."""

    __schema_name__: ClassVar[str] = "CertificationCreate"


class RecordPayment(Struct, forbid_unknown_fields=True):
    """One payment attempt (a time without offset is WIB)."""

    __schema_name__: ClassVar[str] = "PaymentCreate"
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

    def parsed(self, where: str = "") -> RecordPayment:
        """The payment with its No. KK checked and its time with an offset (`where` prefixes the fields)."""
        return msgspec.structs.replace(
            self,
            no_kk=parse_no_kk(self.no_kk, f"{where}no_kk"),
            paid_at=parse_time(self.paid_at, f"{where}paid_at").isoformat(),
        )

    @property
    def paid_time(self) -> datetime:
        """When it was paid (of a parsed payment)."""
        return datetime.fromisoformat(self.paid_at)


class RecordPayments(Struct, forbid_unknown_fields=True):
    """Payments of one tahap."""

    __schema_name__: ClassVar[str] = "PaymentsCreate"
    items: Annotated[list[RecordPayment], Meta(max_length=100_000)]

    def parsed(self) -> list[RecordPayment]:
        """Every payment parsed; the first bad one is refused naming its index."""
        return [item.parsed(f"items[{i}].") for i, item in enumerate(self.items)]


# --- registration ---------------------------------------------------------------------------------


class ProposedSource(Struct, forbid_unknown_fields=True):
    """Who proposes: KELURAHAN, SELF, DINAS:name, DPRD:name, DTKS, PROVINSI or KEMENSOS."""

    __schema_name__: ClassVar[str] = "SourceIn"
    kind: Annotated[str, example("KELURAHAN", max_length=200, pattern=SOURCE_KIND_PATTERN)]
    reference: Annotated[str, Meta(max_length=200)] = ""


class ProposedAddress(Struct, forbid_unknown_fields=True):
    """An address in Kota Bogor: kecamatan and kelurahan by name or code."""

    __schema_name__: ClassVar[str] = "AddressIn"
    kecamatan: Annotated[str, _place("Bogor Tengah", wilayah.all_kecamatan())]
    kelurahan: Annotated[str, _place("Sempur", wilayah.all_kelurahan())]
    rw: Annotated[str, example("003", max_length=10)] = ""
    rt: Annotated[str, example("002", max_length=10)] = ""


class ProposedMember(Struct, forbid_unknown_fields=True):
    """A person on the family card."""

    __schema_name__: ClassVar[str] = "MemberIn"
    nik: Nik
    name: Annotated[str, example(EXAMPLE_NAME, max_length=200, min_length=1, pattern=NAME_PATTERN)]
    relationship: Annotated[
        str, example("KEPALA KELUARGA", max_length=50, min_length=1, pattern=REQUIRED_TEXT)
    ]
    birth_date: Annotated[date, example("1975-07-15")] | None = None


class ProposeHousehold(Struct, forbid_unknown_fields=True):
    """A household proposed by a source."""

    __schema_name__: ClassVar[str] = "HouseholdCreate"
    no_kk: NoKK
    source: ProposedSource
    address: ProposedAddress | None = None
    members: Annotated[list[ProposedMember], Meta(max_length=50)] = msgspec.field(default_factory=list)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ProposeHousehold:
        """A proposal from plain values, parsed: a city proposal names an address and a member."""
        no_kk = parse_no_kk(data.get("no_kk", ""))
        source_data = data.get("source") or {}
        source = parse_source(str(source_data.get("kind", "")), str(source_data.get("reference", "") or ""))
        address_data = data.get("address")
        address = parse_address(address_data) if address_data else None
        if address is None and SourceKind(source.kind).is_city:
            raise InvalidCommand("address", "is required for a proposal by the city")
        members = parse_members(data.get("members") or [])
        if not members and SourceKind(source.kind).is_city:
            raise InvalidCommand("members", "a proposal by the city lists at least one member")
        return cls(
            no_kk,
            ProposedSource(source.kind, source.reference),
            ProposedAddress(address.kecamatan, address.kelurahan, address.rw, address.rt)
            if address
            else None,
            [ProposedMember(m.nik, m.name, m.relationship, m.birth_date) for m in members],
        )

    def parsed(self) -> ProposeHousehold:
        """The proposal with its No. KK, source, address (as codes) and members checked."""
        return self.from_data(msgspec.to_builtins(self))


class CorrectHousehold(Struct, forbid_unknown_fields=True):
    """A correction of one field, with its evidence."""

    __schema_name__: ClassVar[str] = "CorrectionCreate"
    field: Annotated[str, example("address.rt", max_length=100, pattern=CORRECTION_FIELD_PATTERN)]
    new_value: Annotated[str, example("004", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    evidence: Annotated[str, example("KK terbaru", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]


class MoveMember(Struct, forbid_unknown_fields=True):
    """A member moving to another household."""

    __schema_name__: ClassVar[str] = "MemberMoveCreate"
    nik: Nik
    to_no_kk: NoKK
    reason: Annotated[str, example("pindah KK", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    evidence: Annotated[str, example("KK baru", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]

    def parsed(self) -> MoveMember:
        """The move with its NIK and No. KK checked."""
        return msgspec.structs.replace(
            self, nik=parse_nik(self.nik), to_no_kk=parse_no_kk(self.to_no_kk, "to_no_kk")
        )


# --- padan and verval -----------------------------------------------------------------------------


class RecordPopulationMatch(Struct, forbid_unknown_fields=True):
    """A padan result decided by Disdukcapil."""

    __schema_name__: ClassVar[str] = "PopulationMatchCreate"
    result: PadanResult
    checked_on: Annotated[date, example("2020-05-02")] | None = None


class DecideVerval(Struct, forbid_unknown_fields=True):
    """A verval decision."""

    __schema_name__: ClassVar[str] = "VervalCreate"
    decision: VervalDecision
    reason: Annotated[str, example("terdampak", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    officer: Annotated[str, example("petugas-1", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    decided_on: Annotated[date, example("2020-04-24")]
    effective_on: date | None = None


# --- withdrawal -----------------------------------------------------------------------------------


class RemoveHousehold(Struct, forbid_unknown_fields=True):
    """A removal by an authority, from a tahap on."""

    __schema_name__: ClassVar[str] = "RemovalCreate"
    program: Code
    tahap: TahapNumber
    authority: Annotated[str, example("KEMENSOS", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    reason: Annotated[str, example("tidak padan", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    decree_ref: Annotated[str, example("KEP-1", max_length=200)]
    effective_on: date | None = None


class ReinstateHousehold(Struct, forbid_unknown_fields=True):
    """Undoing a removal, from a tahap on."""

    __schema_name__: ClassVar[str] = "ReinstatementCreate"
    program: Code
    tahap: TahapNumber
    authority: Annotated[str, example("DINSOS", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    reason: Annotated[
        str, example("sanggahan diterima", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)
    ]
    effective_on: date | None = None


class TransferHousehold(Struct, forbid_unknown_fields=True):
    """A transfer out of one program, naming the program the household goes to."""

    __schema_name__: ClassVar[str] = "TransferCreate"
    from_program: Code
    from_tahap: TahapNumber
    to_program: Code
    authority: Annotated[str, example("DINSOS", max_length=200, min_length=1, pattern=REQUIRED_TEXT)]
    reason: Annotated[str, example("kuota kota habis", max_length=2000, min_length=1, pattern=REQUIRED_TEXT)]
    effective_on: date | None = None


# --- complaints -----------------------------------------------------------------------------------


class FileComplaint(Struct, forbid_unknown_fields=True):
    """An aduan."""

    __schema_name__: ClassVar[str] = "ComplaintCreate"
    channel: Annotated[str, example("WHATSAPP", max_length=100, min_length=1, pattern=REQUIRED_TEXT)]
    text: Annotated[
        str, example("bantuan tahap 2 belum diterima", max_length=5000, min_length=1, pattern=REQUIRED_TEXT)
    ]


class ResolveComplaint(Struct, forbid_unknown_fields=True):
    """The answer to an aduan."""

    __schema_name__: ClassVar[str] = "ComplaintResolutionCreate"
    outcome: Annotated[str, example("RESOLVED", max_length=100, min_length=1, pattern=REQUIRED_TEXT)]
    note: Annotated[str, example("sudah dibayar ulang", max_length=5000)]

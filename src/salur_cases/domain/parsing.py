"""Commands' values parsed from plain values into domain values, with errors that name the field.

Parsing never echoes a refused value (it may be a NIK or a name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from salur_cases import wilayah
from salur_cases.domain.clock import WIB
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household.values import Address, Member, Source
from salur_cases.domain.vocabulary import SourceKind
from salur_cases.identifiers import InvalidIdentifier, Nik, NoKK, parse_rupiah


def parse_no_kk(value: object, field_name: str = "no_kk") -> str:
    """A valid No. KK, or InvalidCommand naming the field."""
    try:
        return str(NoKK.parse(str(value), field_name))
    except InvalidIdentifier as e:
        raise InvalidCommand(e.field, e.message) from None


def parse_nik(value: object, field_name: str = "nik") -> str:
    """A valid NIK, or InvalidCommand naming the field."""
    try:
        return str(Nik.parse(str(value), field_name))
    except InvalidIdentifier as e:
        raise InvalidCommand(e.field, e.message) from None


def parse_amount(value: object, field_name: str = "amount_idr") -> int:
    """Whole Rupiah >= 0, or InvalidCommand naming the field."""
    try:
        return parse_rupiah(value, field_name)
    except InvalidIdentifier as e:
        raise InvalidCommand(e.field, e.message) from None


def parse_date(value: object, field_name: str) -> date:
    """An ISO date (a datetime's date part is accepted)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        text = str(value).strip()
        return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)
    except ValueError:
        raise InvalidCommand(field_name, "must be a date (YYYY-MM-DD)") from None


def parse_time(value: object, field_name: str) -> datetime:
    """An ISO time; one without offset means WIB; a bare date means its start in WIB."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidCommand(field_name, "must be an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def parse_source(kind: str, reference: str = "") -> Source:
    """`KELURAHAN`, `SELF`, `DINAS:Pertanian`, `DPRD:name`, `DTKS`, `PROVINSI`, `KEMENSOS`."""
    head, _, tail = kind.strip().partition(":")
    try:
        source_kind = SourceKind(head.strip().upper())
    except ValueError:
        allowed = ", ".join(k.value for k in SourceKind)
        raise InvalidCommand("source.kind", f"must be one of {allowed}") from None
    return Source(source_kind.value, (tail.strip() or reference.strip()))


def parse_address(data: Mapping[str, Any], field_name: str = "address") -> Address:
    """An address in Kota Bogor; unknown kecamatan or kelurahan is refused naming the field."""
    try:
        kelurahan = wilayah.resolve_address(str(data.get("kecamatan", "")), str(data.get("kelurahan", "")))
    except wilayah.OutsideCity as e:
        raise InvalidCommand(f"{field_name}.{e.field}", e.message) from None
    return Address(
        kecamatan=kelurahan.kecamatan.code,
        kelurahan=kelurahan.code,
        rw=str(data.get("rw", "") or "").strip(),
        rt=str(data.get("rt", "") or "").strip(),
    )


def parse_members(rows: Sequence[Mapping[str, Any]], field_name: str = "members") -> list[Member]:
    """Members with valid NIKs and names; a NIK twice in one household is refused."""
    members: list[Member] = []
    for i, row in enumerate(rows):
        where = f"{field_name}[{i}]"
        nik = parse_nik(row.get("nik", ""), f"{where}.nik")
        name = " ".join(str(row.get("name", "") or "").split())
        if not name:
            raise InvalidCommand(f"{where}.name", "is required")
        relationship = " ".join(str(row.get("relationship", "") or "").upper().replace("_", " ").split())
        if not relationship:
            raise InvalidCommand(f"{where}.relationship", "is required")
        birth = row.get("birth_date")
        members.append(
            Member(nik, name, relationship, parse_date(birth, f"{where}.birth_date") if birth else None)
        )
        if nik in {m.nik for m in members[:-1]}:
            raise InvalidCommand(f"{where}.nik", "appears twice in the household")
    return members

"""The columns of each import kind (docs/imports.md), in Indonesian or English, in any case.

A header is normalised (case folded, every run of spaces and punctuation made one `_`), so `No. KK`,
`NO_KK` and `no kk` are all `no_kk`. Each column has one canonical name, the API's field name
(`name`, `relationship`, `decided_on`, ...), and the documented Indonesian names as aliases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from salur_cases.domain.errors import InvalidCommand


@dataclass(frozen=True)
class Column:
    """One column of an import kind: the API's name, its documented Indonesian name, other spellings."""

    name: str
    indonesian: str | None = None
    aliases: tuple[str, ...] = ()
    required: bool = True

    @property
    def label(self) -> str:
        """How the documentation names it (the Indonesian name where there is one)."""
        return self.indonesian or self.name

    @property
    def headers(self) -> tuple[str, ...]:
        """Every accepted (normalised) header."""
        return (self.name, *((self.indonesian,) if self.indonesian else ()), *self.aliases)


_NO_KK = Column("no_kk", aliases=("nokk", "nomor_kk", "no_kartu_keluarga"))
_PROGRAM = Column("program", aliases=("kode_program",))
_TAHAP = Column("tahap", aliases=("stage",))
_AUTHORITY = Column("authority", "otoritas")
_EFFECTIVE_ON = Column("effective_on", "berlaku", ("tanggal_berlaku",), required=False)

KINDS: dict[str, tuple[Column, ...]] = {
    "registrations": (
        _NO_KK,
        Column("nik"),
        Column("name", "nama"),
        Column("relationship", "hubungan", ("hubungan_keluarga", "shdk")),
        Column("kecamatan"),
        Column("kelurahan", aliases=("desa_kelurahan",)),
        Column("rw"),
        Column("rt"),
        Column("source", "sumber"),
        Column("birth_date", "tanggal_lahir", ("tgl_lahir",), required=False),
    ),
    "population": (
        Column("nik"),
        _NO_KK,
        Column("name", "nama"),
        Column("birth_date", "tanggal_lahir", ("tgl_lahir",)),
        Column("status", aliases=("status_penduduk",)),
        Column("ektp", aliases=("e_ktp", "status_ektp")),
        Column("kelurahan", aliases=("desa_kelurahan",)),
        Column("kecamatan", required=False),
    ),
    "verval": (
        _NO_KK,
        Column("decision", "keputusan"),
        Column("reason", "alasan"),
        Column("officer", "petugas"),
        Column("decided_on", "tanggal"),
        _EFFECTIVE_ON,
    ),
    "roster": (_NO_KK, _PROGRAM, _TAHAP, _AUTHORITY, _EFFECTIVE_ON),
    "cleansing": (
        _NO_KK,
        _PROGRAM,
        _TAHAP,
        _AUTHORITY,
        Column("reason", "alasan"),
        Column("decree_ref", "dokumen", ("document", "no_dokumen")),
        _EFFECTIVE_ON,
    ),
    "payments": (
        _NO_KK,
        _PROGRAM,
        _TAHAP,
        Column("amount_idr", "jumlah", ("amount", "nominal")),
        Column("paid_at", "tanggal", ("tanggal_bayar",)),
        Column("status", aliases=("status_bayar",)),
        Column("reference", "referensi", ("no_referensi",)),
    ),
}

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_header(header: object) -> str:
    """`No. KK` -> `no_kk`; `Tanggal Lahir` -> `tanggal_lahir`."""
    return _NON_WORD.sub("_", str(header or "").strip().casefold()).strip("_")


def map_headers(kind: str, headers: Sequence[object]) -> dict[str, int]:
    """Each known column's canonical name -> its position; InvalidCommand naming a missing required column."""
    columns = columns_of(kind)
    lookup = {key: column.name for column in columns for key in column.headers}
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = lookup.get(normalise_header(header))
        if name is not None and name not in positions:
            positions[name] = index
    for column in columns:
        if column.required and column.name not in positions:
            raise InvalidCommand(column.label, f"required column '{column.label}' ({column.name}) is missing")
    return positions


def columns_of(kind: str) -> tuple[Column, ...]:
    """The columns of an import kind, or InvalidCommand naming the kind."""
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidCommand("kind", f"must be one of {', '.join(KINDS)}") from None

"""Reference data: the 6 kecamatan and 68 kelurahan of Kota Bogor with their Kemendagri codes.

Loaded from the packaged ``data/wilayah-kota-bogor.csv``. A kecamatan (district) or kelurahan
(urban village) is given by name or code: names compare after folding case and removing spaces,
dots and hyphens (``BATUTULIS``, ``Lawang Gintung``, ``Lawanggintung``), the file's aliases are
accepted, and codes may be dotted (``32.71.01.1001``) or digits only (``3271011001``).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "Kecamatan",
    "Kelurahan",
    "OutsideCity",
    "all_kecamatan",
    "all_kelurahan",
    "fold_name",
    "kecamatan",
    "kelurahan",
    "resolve_address",
]

_DATA_FILE = "wilayah-kota-bogor.csv"
_FOLD = re.compile(r"[\s.\-_'/]+")


def fold_name(text: str) -> str:
    """Case-folded, without spaces, dots, hyphens, underscores or apostrophes."""
    return _FOLD.sub("", text).casefold()


@dataclass(frozen=True)
class Kecamatan:
    """A kecamatan (district) of Kota Bogor; ``code`` is dotted, e.g. ``32.71.01``."""

    code: str
    name: str

    @property
    def digits(self) -> str:
        """The code without dots, e.g. ``327101`` (the NIK's and No. KK's first six digits)."""
        return self.code.replace(".", "")


@dataclass(frozen=True)
class Kelurahan:
    """A kelurahan (urban village); ``code`` is dotted, e.g. ``32.71.01.1001``."""

    code: str
    name: str
    kecamatan: Kecamatan
    aliases: tuple[str, ...] = ()

    @property
    def digits(self) -> str:
        """The code without dots, e.g. ``3271011001``."""
        return self.code.replace(".", "")


class OutsideCity(ValueError):
    """An address that is not a known kecamatan/kelurahan of Kota Bogor (never repeats the value)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Reference:
    kecamatan: tuple[Kecamatan, ...]
    kelurahan: tuple[Kelurahan, ...]
    kecamatan_index: dict[str, Kecamatan]
    kelurahan_index: dict[str, tuple[Kelurahan, ...]]


@functools.cache
def _reference() -> _Reference:
    text = resources.files("salur_cases").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    kecamatans: dict[str, Kecamatan] = {}
    kelurahans: list[Kelurahan] = []
    for row in csv.DictReader(io.StringIO(text)):
        kec = kecamatans.setdefault(
            row["kecamatan_code"].strip(),
            Kecamatan(row["kecamatan_code"].strip(), row["kecamatan"].strip()),
        )
        aliases = tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip())
        kelurahans.append(Kelurahan(row["kelurahan_code"].strip(), row["kelurahan"].strip(), kec, aliases))
    kec_index: dict[str, Kecamatan] = {}
    for kec in kecamatans.values():
        for key in (fold_name(kec.name), kec.code, kec.digits):
            kec_index[key] = kec
    kel_index: dict[str, list[Kelurahan]] = {}
    for kel in kelurahans:
        keys = {fold_name(kel.name), kel.code, kel.digits, *(fold_name(a) for a in kel.aliases)}
        for key in keys:
            kel_index.setdefault(key, []).append(kel)
    return _Reference(
        kecamatan=tuple(sorted(kecamatans.values(), key=lambda k: k.code)),
        kelurahan=tuple(sorted(kelurahans, key=lambda k: k.code)),
        kecamatan_index=kec_index,
        kelurahan_index={key: tuple(found) for key, found in kel_index.items()},
    )


def _key(name_or_code: str) -> str:
    text = name_or_code.strip()
    if re.fullmatch(r"[\d.\s]+", text):
        return re.sub(r"[.\s]", "", text)
    return fold_name(text)


def all_kecamatan() -> tuple[Kecamatan, ...]:
    """The 6 kecamatan, by code."""
    return _reference().kecamatan


def all_kelurahan() -> tuple[Kelurahan, ...]:
    """The 68 kelurahan, by code."""
    return _reference().kelurahan


def kecamatan(name_or_code: str) -> Kecamatan | None:
    """The kecamatan with this name or code, or None."""
    return _reference().kecamatan_index.get(_key(name_or_code))


def kelurahan(name_or_code: str, kecamatan: str | None = None) -> Kelurahan | None:
    """The kelurahan with this name, alias or code, or None.

    A name shared by kelurahan of two kecamatan is ambiguous without ``kecamatan`` (then None).
    """
    found = _reference().kelurahan_index.get(_key(name_or_code), ())
    if kecamatan is not None:
        kec = _find_kecamatan(kecamatan)
        if kec is None:
            return None
        found = tuple(k for k in found if k.kecamatan == kec)
    return found[0] if len(found) == 1 else None


def resolve_address(kecamatan: str, kelurahan: str) -> Kelurahan:
    """The kelurahan of an address, checked against its kecamatan; raises :class:`OutsideCity`."""
    kec = _find_kecamatan(kecamatan)
    if kec is None:
        raise OutsideCity("kecamatan", "kecamatan is not a kecamatan of Kota Bogor")
    candidates = _reference().kelurahan_index.get(_key(kelurahan), ())
    if not candidates:
        raise OutsideCity("kelurahan", "kelurahan is not a kelurahan of Kota Bogor")
    for kel in candidates:
        if kel.kecamatan == kec:
            return kel
    raise OutsideCity("kelurahan", f"kelurahan is not in kecamatan {kec.name}")


_find_kecamatan = kecamatan

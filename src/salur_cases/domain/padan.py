"""Padan (pemadanan): matching a household against Disdukcapil's population data, exactly.

A household is MATCHED when every member's NIK is in the extract, in the same No. KK, HIDUP, in Kota
Bogor, with names equal after folding case and spaces, and its KEPALA KELUARGA has e-KTP. Otherwise
it gets the first failing detail in CONTRACT.md's order. A NIK found under another No. KK counts as
NIK_NOT_FOUND for this household (Disdukcapil has no such person on this card).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from salur_cases.domain.household import Member
from salur_cases.domain.vocabulary import KEPALA_KELUARGA, PadanResult


@dataclass(frozen=True)
class PopulationRecord:
    """One person in a Disdukcapil extract."""

    nik: str
    no_kk: str
    name: str
    birth_date: date | None
    status: str  # HIDUP, MENINGGAL, PINDAH
    ektp: bool
    in_city: bool


def fold_name(name: str) -> str:
    """Names compare after folding case and removing spaces."""
    return "".join(name.split()).casefold()


_CHECKS: tuple[tuple[PadanResult, Callable[[PopulationRecord, Member], bool]], ...] = (
    (PadanResult.OUTSIDE_CITY, lambda r, _m: not r.in_city),
    (PadanResult.DECEASED, lambda r, _m: r.status == "MENINGGAL"),
    (PadanResult.MOVED, lambda r, _m: r.status == "PINDAH"),
    (PadanResult.NAME_MISMATCH, lambda r, m: fold_name(r.name) != fold_name(m.name)),
    (PadanResult.NOT_EKTP, lambda r, m: m.relationship == KEPALA_KELUARGA and not r.ektp),
)
"""The details a matched member's record is checked for, in CONTRACT.md's order: the first that fails
for any member is the household's result."""


def match_household(
    no_kk: str, members: Sequence[Member], extract: Mapping[str, PopulationRecord]
) -> PadanResult:
    """The padan result of a household against the population records of its members' NIKs."""
    if not members:
        return PadanResult.NIK_NOT_FOUND
    pairs = []
    for member in members:
        record = extract.get(member.nik)
        if record is None or record.no_kk != no_kk:
            return PadanResult.NIK_NOT_FOUND
        pairs.append((record, member))
    for result, fails in _CHECKS:
        for record, member in pairs:
            if fails(record, member):
                return result
    return PadanResult.MATCHED

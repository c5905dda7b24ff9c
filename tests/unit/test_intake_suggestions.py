"""Near misses of padan: nicknames, spellings, one mistyped digit."""

from __future__ import annotations

from salur_cases.identifiers import Nik
from salur_cases.projections.reports import name_near_miss, nickname_key, one_digit_variants, spelling_key


def test_old_and_sundanese_spellings_are_one_name() -> None:
    assert spelling_key("Achmad Hidajat") == spelling_key("Ahmad Hidayat")
    assert spelling_key("Yusup") == spelling_key("Yusuf")
    assert spelling_key("Soekarno") == spelling_key("Sukarno")
    assert spelling_key("Muhamad") == spelling_key("Muhammad")


def test_short_forms_and_nicknames_stand_for_the_full_name() -> None:
    assert nickname_key("Moch. Ramdani") == nickname_key("Muhammad Ramdani")
    assert nickname_key("Ucup Permana") == nickname_key("Yusuf Permana")


def test_a_near_miss_names_its_kind() -> None:
    nickname = name_near_miss("Muhamad Ramdani", "Moch. Ramdani")
    assert nickname is not None
    assert nickname[0] == "NAME_NICKNAME"
    near = name_near_miss("Yusup Hidajat", "Yusuf Hidayat")
    assert near is not None
    assert near[0] == "NAME_SPELLING"
    similar = name_near_miss("Nurhayati Komalasari", "Nurhayati Komalasar")
    assert similar is not None
    assert similar[0] == "NAME_SIMILAR"
    assert name_near_miss("Asep Suryana", "Dewi Lestari") is None


def test_one_digit_variants_are_plausible_niks_one_digit_away() -> None:
    nik = "3271011505800001"
    variants = list(one_digit_variants(nik))
    assert len(variants) == len(set(variants))
    assert "3271011505800007" in variants
    assert nik not in variants
    for variant in variants:
        Nik.parse(variant)
        assert sum(a != b for a, b in zip(variant, nik, strict=True)) == 1
    assert "3271011505800000" not in variants  # serial 0000 is never issued

"""NIK, No. KK and Rupiah parsing: every rule, and errors that never repeat the value (PII)."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from salur_cases.identifiers import (
    PROVINCE_CODES,
    InvalidIdentifier,
    Nik,
    NoKK,
    keyed_hash,
    keyed_hex,
    keyed_uuid,
    parse_rupiah,
)

MALE = "3271030101900001"  # Bogor Tengah, born 1 Jan 1990
FEMALE = "3271034512900002"  # born 5 Dec 1990: day + 40


def refused_nik(value: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        Nik.parse(value)
    error = info.value
    assert error.field == "nik"
    assert str(error) == error.message
    digits = "".join(value.split())
    if digits:
        assert digits not in error.message
        assert value not in error.message
    return error


def test_a_valid_nik_and_its_parts() -> None:
    nik = Nik.parse(MALE)
    assert nik == MALE
    assert isinstance(nik, str)
    assert nik.province_code == "32"
    assert nik.regency_code == "3271"
    assert nik.kecamatan_code == "327103"
    assert not nik.is_female
    assert (nik.birth_day, nik.birth_month, nik.birth_yy) == (1, 1, 90)
    assert nik.in_kota_bogor
    assert nik.masked() == "3271********0001"


def test_women_have_forty_added_to_the_birth_day() -> None:
    nik = Nik.parse(FEMALE)
    assert nik.is_female
    assert (nik.birth_day, nik.birth_month) == (5, 12)
    assert Nik.parse("3271037101900001").birth_day == 31


def test_spaces_are_ignored() -> None:
    assert Nik.parse(" 3271 0301 0190 0001 ") == MALE


def test_a_nik_outside_kota_bogor_is_valid_but_not_in_the_city() -> None:
    assert not Nik.parse("3201010101900001").in_kota_bogor


@pytest.mark.parametrize("value", ["327103010190001", "32710301019000011", ""])
def test_wrong_length_is_refused(value: str) -> None:
    error = refused_nik(value)
    assert "16 digits" in error.message or "empty" in error.message


@pytest.mark.parametrize(
    "value", ["32710301019O0001", "3271-03-01-01-90-0001", "\uff13\uff12\uff17\uff11030101900001"]
)
def test_non_digits_are_refused(value: str) -> None:
    assert "digits" in refused_nik(value).message


def test_not_text_is_refused() -> None:
    with pytest.raises(InvalidIdentifier):
        Nik.parse(3271030101900001)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "province", ["00", "10", "20", "22", "30", "37", "50", "54", "66", "77", "80", "83", "97"]
)
def test_unknown_province_is_refused(province: str) -> None:
    assert "province" in refused_nik(province + MALE[2:]).message


def test_every_known_province_is_accepted() -> None:
    assert len(PROVINCE_CODES) == 38
    for province in PROVINCE_CODES:
        Nik.parse(province + MALE[2:])


@pytest.mark.parametrize(
    ("ddmm", "what"),
    [
        ("0001", "day"),
        ("3201", "day"),
        ("4001", "day"),
        ("7201", "day"),
        ("0113", "month"),
        ("0100", "month"),
        ("3102", "day"),
        ("3104", "day"),
        ("7102", "day"),
        ("4100", "month"),
    ],
)
def test_impossible_birth_dates_are_refused(ddmm: str, what: str) -> None:
    message = refused_nik(MALE[:6] + ddmm + MALE[10:]).message
    assert "birth" in message
    assert what in message


def test_29_february_is_always_possible() -> None:
    assert Nik.parse("3271032902010001").birth_day == 29
    assert Nik.parse("3271036902010001").is_female


def test_serial_0000_is_refused() -> None:
    assert "serial" in refused_nik(MALE[:12] + "0000").message


def test_field_name_is_kept() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        Nik.parse("123", field="members[2].nik")
    assert info.value.field == "members[2].nik"


def test_a_valid_no_kk() -> None:
    no_kk = NoKK.parse("3271 0301 0120 0001")
    assert no_kk == "3271030101200001"
    assert no_kk.kecamatan_code == "327103"
    assert no_kk.masked() == "3271********0001"


@pytest.mark.parametrize(
    ("value", "word"),
    [
        ("327103010120000", "16 digits"),
        ("32710301012O0001", "digits"),
        ("2071030101200001", "province"),
        ("3271034101200001", "day"),  # no +40 on a family card
        ("3271030001200001", "day"),
        ("3271033102200001", "day"),
        ("3271030113200001", "month"),
        ("3271030101200000", "serial"),
    ],
)
def test_no_kk_rules(value: str, word: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        NoKK.parse(value)
    assert info.value.field == "no_kk"
    assert word in info.value.message
    assert value not in info.value.message
    assert "No. KK" in info.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (500000, 500000),
        (0, 0),
        ("500000", 500000),
        ("500.000", 500000),
        ("500,000", 500000),
        ("Rp500.000", 500000),
        ("Rp 500.000", 500000),
        ("rp. 1.500.000", 1500000),
        (" 150000 ", 150000),
    ],
)
def test_rupiah_accepted(value: object, expected: int) -> None:
    assert parse_rupiah(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        -1,
        "-500000",
        "500.000,00",
        "500000.50",
        "1,5",
        "lima ratus",
        "",
        "Rp",
        True,
        500000.0,
        None,
        "1.000,000",
    ],
)
def test_rupiah_refused(value: object) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_rupiah(value, field="jumlah")
    assert info.value.field == "jumlah"
    if isinstance(value, str) and value:
        assert value not in info.value.message


@pytest.mark.parametrize("key", [b"", b"short", b"k" * 32, b"b" * 64, bytes(range(100))])
def test_keyed_hashes_are_hmac_sha256(key: bytes) -> None:
    for kind, value in (("nik", MALE), ("kk", "3271010101200001"), ("name", f"{FEMALE}:siti aminah")):
        expected = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
        assert keyed_hash(key, kind, value) == expected


def test_keyed_hashes_depend_on_key_kind_and_value() -> None:
    key = b"k" * 32
    digest = keyed_hash(key, "nik", MALE)
    assert len(digest) == 32
    assert keyed_hex(key, "nik", MALE) == digest.hex()
    assert keyed_uuid(key, "nik", MALE) == uuid.UUID(bytes=digest[:16])
    assert keyed_uuid(key, "nik", MALE) == keyed_uuid(key, "nik", MALE)
    assert keyed_uuid(key, "no_kk", MALE) != keyed_uuid(key, "nik", MALE)
    assert keyed_uuid(b"other", "nik", MALE) != keyed_uuid(key, "nik", MALE)
    assert MALE not in keyed_hex(key, "nik", MALE)

"""Kota Bogor's reference data: 6 kecamatan, 68 kelurahan, names folded, aliases, codes."""

from __future__ import annotations

import pytest

from salur_cases.wilayah import (
    Kecamatan,
    OutsideCity,
    all_kecamatan,
    all_kelurahan,
    kecamatan,
    kelurahan,
    resolve_address,
)


def test_six_kecamatan_and_sixty_eight_kelurahan() -> None:
    assert [k.digits for k in all_kecamatan()] == [f"32710{i}" for i in range(1, 7)]
    assert len(all_kelurahan()) == 68
    assert len({k.code for k in all_kelurahan()}) == 68
    assert {k.kecamatan for k in all_kelurahan()} == set(all_kecamatan())


def test_kecamatan_by_name_or_code() -> None:
    tengah = Kecamatan("32.71.03", "Bogor Tengah")
    assert kecamatan("Bogor Tengah") == tengah
    assert kecamatan("BOGOR TENGAH") == tengah
    assert kecamatan("bogortengah") == tengah
    assert kecamatan("32.71.03") == tengah
    assert kecamatan("327103") == tengah
    assert tengah.digits == "327103"
    assert kecamatan("Cibinong") is None
    assert kecamatan("320101") is None


@pytest.mark.parametrize("name", ["BATUTULIS", "Batutulis", "batu tulis", "32.71.01.1001", "3271011001"])
def test_kelurahan_names_fold_case_and_spaces(name: str) -> None:
    found = kelurahan(name)
    assert found is not None
    assert found.code == "32.71.01.1001"
    assert found.digits == "3271011001"
    assert found.kecamatan.name == "Bogor Selatan"


@pytest.mark.parametrize("name", ["Lawang Gintung", "Lawanggintung", "LAWANG-GINTUNG", "lawang gintung "])
def test_lawang_gintung_every_way(name: str) -> None:
    found = kelurahan(name)
    assert found is not None
    assert found.name == "Lawang Gintung"


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("Babakanpasar", "Babakan Pasar"),
        ("Kebon Kalapa", "Kebon Kelapa"),
        ("Balungbang Jaya", "Balumbang Jaya"),
        ("Tanah Sereal", "Tanah Sareal"),
    ],
)
def test_aliases_are_accepted(alias: str, name: str) -> None:
    found = kelurahan(alias)
    assert found is not None
    assert found.name == name


def test_babakan_is_not_babakan_pasar() -> None:
    babakan = kelurahan("Babakan")
    assert babakan is not None
    assert babakan.code == "32.71.03.1005"


def test_kelurahan_within_a_kecamatan() -> None:
    assert kelurahan("Empang", kecamatan="Bogor Selatan") is not None
    assert kelurahan("Empang", kecamatan="327101") is not None
    assert kelurahan("Empang", kecamatan="Bogor Utara") is None
    assert kelurahan("Empang", kecamatan="Nowhere") is None
    assert kelurahan("Nowhere") is None


def test_kelurahan_named_like_its_kecamatan() -> None:
    tanah_sareal = kelurahan("Tanah Sareal")
    assert tanah_sareal is not None
    assert tanah_sareal.kecamatan.name == "Tanah Sareal"


def test_resolve_address() -> None:
    found = resolve_address("BOGOR SELATAN", "lawanggintung")
    assert found.code == "32.71.01.1004"
    assert resolve_address("32.71.06", "Tanah Sereal").code == "32.71.06.1001"


def test_unknown_kecamatan_is_outside_the_city() -> None:
    with pytest.raises(OutsideCity) as info:
        resolve_address("Cibinong", "Empang")
    assert info.value.field == "kecamatan"
    assert "Cibinong" not in str(info.value)


def test_unknown_kelurahan_is_outside_the_city() -> None:
    with pytest.raises(OutsideCity) as info:
        resolve_address("Bogor Selatan", "Pondok Rajeg")
    assert info.value.field == "kelurahan"
    assert "Pondok Rajeg" not in info.value.message


def test_kelurahan_of_another_kecamatan_is_refused() -> None:
    with pytest.raises(OutsideCity) as info:
        resolve_address("Bogor Utara", "Empang")
    assert info.value.field == "kelurahan"
    assert "Bogor Utara" in info.value.message

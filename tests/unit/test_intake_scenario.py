"""The generated Kota Bogor 2020 scenario: deterministic, valid identifiers, Table 2 at any scale."""

from __future__ import annotations

import pytest

from salur_cases import wilayah
from salur_cases.demo.scenario import TABLE_2, Scenario, plan, registration_rows
from salur_cases.identifiers import Nik, NoKK


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """A small story."""
    return plan(0.02, seed=11)


def test_each_program_row_is_table_2_times_the_scale_rounded(scenario: Scenario) -> None:
    assert scenario.intended == {code: round(count * 0.02) for code, count in TABLE_2.items()}
    assert plan(0.001, 3).intended["PKH"] == 1


def test_the_same_seed_gives_the_same_story() -> None:
    first, second = plan(0.005, seed=5), plan(0.005, seed=5)
    assert [f.no_kk for f in first.everyone()] == [f.no_kk for f in second.everyone()]
    assert [f.no_kk for f in plan(0.005, seed=6).everyone()] != [f.no_kk for f in first.everyone()]


def test_every_nik_and_no_kk_is_valid_unique_and_in_kota_bogor(scenario: Scenario) -> None:
    families = list(scenario.everyone())
    no_kks = [f.no_kk for f in families] + scenario.never_proposed_5 + scenario.never_proposed_6
    assert len(set(no_kks)) == len(no_kks)
    niks = [p.nik for f in families for p in f.members]
    assert len(set(niks)) == len(niks)
    for no_kk in no_kks:
        assert NoKK.parse(no_kk).kecamatan_code in {k.digits for k in wilayah.all_kecamatan()}
    for family in families:
        assert 1 <= len(family.members) <= 6
        for person in family.rows_as_listed():
            assert Nik.parse(person.nik).in_kota_bogor
            assert person.nik[:6] == family.kelurahan.kecamatan.digits


def test_the_pools_of_the_story_do_not_overlap(scenario: Scenario) -> None:
    paid_pools = [
        scenario.gubernur,
        scenario.walikota_1,
        scenario.to_kemensos,
        scenario.self_winners,
        scenario.self_to_kemensos,
        *scenario.dtks.values(),
    ]
    ids = [f.no_kk for pool in paid_pools for f in pool]
    assert len(ids) == len(set(ids))
    assert set(map(id, scenario.walikota_dropped)) <= set(map(id, scenario.walikota_1))


def test_lists_carry_typos_and_duplicates_like_2020(scenario: Scenario) -> None:
    typos = [
        f
        for f in scenario.padan_failures
        if any(a.nik != b.nik for a, b in zip(f.rows_as_listed(), f.members, strict=True))
    ]
    assert typos
    assert (
        sum(len(v) for v in scenario.department_lists.values()) == scenario.figures["department_duplicates"]
    )
    rows = registration_rows(scenario.city_lists[:3], "KELURAHAN")
    assert all(row[8] == "KELURAHAN" for row in rows)


def test_a_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="scale"):
        plan(0)

"""A NIK's household in one statement (`household_of_nik`): the person index and the event store agree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import MoveMember
from salur_cases.domain.vocabulary import Role
from salur_cases.processes import registration
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.queries import household_of_nik, household_read
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from tests.builders import nik_of, no_kk_of, proposal, runtime_for
from tests.conftest import StoreTarget

DINSOS = Actor("officer", Role.DINSOS)


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    upgrade(runtime)
    yield runtime
    runtime.close()


def test_a_nik_finds_the_household_it_belongs_to_now(runtime: Runtime) -> None:
    app = runtime.app
    for n in (1, 2):
        registration.register(app, proposal(n), DINSOS)
    catch_up(runtime)
    assert household_of_nik(runtime, nik_of(1, 1)) == household_read(runtime, no_kk_of(1))
    registration.move_member(
        app, no_kk_of(1), MoveMember(nik_of(1, 1), no_kk_of(2), "menikah", "akta nikah 12/2020"), DINSOS
    )
    catch_up(runtime)
    moved = household_of_nik(runtime, nik_of(1, 1))
    assert moved == household_read(runtime, no_kk_of(2))
    assert moved is not None
    assert nik_of(1, 1) in {m.nik for m in moved.members}
    assert household_of_nik(runtime, nik_of(9)) is None

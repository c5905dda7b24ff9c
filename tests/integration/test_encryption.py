"""Event payloads at rest: encrypted (AES-GCM) when SALUR_ENCRYPTION_KEY is set, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from salur_cases.domain.commands import RecordPopulationMatch
from salur_cases.domain.vocabulary import PadanResult
from salur_cases.processes import padan, registration
from salur_cases.projections.views import household_view
from tests.builders import (
    DUKCAPIL,
    KELURAHAN,
    define_program,
    name_of,
    nik_of,
    no_kk_of,
    open_tahap,
    proposal,
    runtime_for,
)

if TYPE_CHECKING:
    from salur_cases.runtime import Runtime
    from tests.conftest import StoreTarget

KEY = "49a61d8a272617ae070a1c2e5ace684c35183abc61f2b527a8aefde7e6ae4661"
ANOTHER_KEY = "83dd1b96956b09a06dcff7464021778ca255fa6d38704633992222910a027d85"


def personal_data() -> list[bytes]:
    """The NIKs, names and No. KK the test writes, as they would appear in clear."""
    values = [no_kk_of(1), nik_of(1, 0), nik_of(1, 1), name_of(1, 0), name_of(1, 1)]
    return [v.encode() for v in values]


def write_a_household(runtime: Runtime) -> None:
    app = runtime.app
    define_program(app, "WALIKOTA")
    open_tahap(app, "WALIKOTA", 1)
    registration.register(app, proposal(1), KELURAHAN)
    padan.record_padan(
        app, no_kk_of(1), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
    )


def raw_states(runtime: Runtime) -> list[bytes]:
    """The `state` column of every stored event, as the database holds it."""
    table = "salur_events" if runtime.settings.is_postgres else "stored_events"
    with runtime.engine.connect() as conn:
        return [bytes(row[0]) for row in conn.execute(text(f"SELECT state FROM {table}"))]  # noqa: S608


def test_with_a_key_no_name_nik_or_no_kk_is_stored_in_clear_and_the_app_reads_them_back(
    store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    writer = runtime_for(store_url.url, store_url.schema, env_keys, SALUR_ENCRYPTION_KEY=KEY)
    try:
        write_a_household(writer)
        states = raw_states(writer)
        written = household_view(writer.app.household(no_kk_of(1)))
    finally:
        writer.close()

    assert len(states) >= 5
    for state in states:
        for value in personal_data():
            assert value not in state
        assert b"KELURAHAN" not in state
        assert b"WALIKOTA" not in state

    reader = runtime_for(store_url.url, store_url.schema, env_keys, SALUR_ENCRYPTION_KEY=KEY)
    try:
        read = household_view(reader.app.household(no_kk_of(1)))
        assert read == written
        assert [m.name for m in read.members] == [name_of(1, 0), name_of(1, 1)]
        assert reader.app.household_by_nik(nik_of(1, 1)) is not None
    finally:
        reader.close()


def test_another_key_cannot_read_the_events(store_url: StoreTarget, env_keys: dict[str, str]) -> None:
    writer = runtime_for(store_url.url, store_url.schema, env_keys, SALUR_ENCRYPTION_KEY=KEY)
    try:
        write_a_household(writer)
    finally:
        writer.close()

    stranger = runtime_for(store_url.url, store_url.schema, env_keys, SALUR_ENCRYPTION_KEY=ANOTHER_KEY)
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 - the cipher's own error, whichever it is
            stranger.app.household(no_kk_of(1))
    finally:
        stranger.close()


def test_without_a_key_the_payloads_are_in_clear(store_url: StoreTarget, env_keys: dict[str, str]) -> None:
    """The control: the check above would see personal data if it were there."""
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        write_a_household(runtime)
        stored = b"".join(raw_states(runtime))
    finally:
        runtime.close()
    assert all(value in stored for value in personal_data())

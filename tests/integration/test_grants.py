"""`salur db grant ROLE`: the server's role appends to the event store and can never rewrite it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from salur_cases.cli import main
from salur_cases.processes import allocation, programs
from salur_cases.projections.audit import verify
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from tests.builders import DINSOS, define_program, no_kk_of, open_tahap, register_eligible
from tests.conftest import PgTarget


@pytest.fixture
def app_role(postgres_url: PgTarget) -> Iterator[str]:
    """A fresh login role, dropped (with what it was granted) afterwards."""
    role = f"salur_app_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_url.url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    yield role
    with psycopg.connect(postgres_url.url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{postgres_url.schema}" CASCADE')
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def _as(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return urlunsplit(parts._replace(netloc=f"{role}@{host}:{parts.port or 5432}"))


def test_the_granted_role_runs_the_ledger_but_cannot_update_delete_or_truncate_events(
    postgres_url: PgTarget, app_role: str, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_url = f"{postgres_url.url}?schema={postgres_url.schema}"
    owner = Runtime(load_settings({"SALUR_DATABASE_URL": owner_url, **env_keys}))
    try:
        upgrade(owner)
        owner.app  # noqa: B018 - the event store's table exists before the grant
    finally:
        owner.close()
    monkeypatch.setenv("SALUR_DATABASE_URL", owner_url)
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        assert main(["db", "grant", app_role]) == 0
    finally:
        reset_settings_cache()

    server = Runtime(load_settings({"SALUR_DATABASE_URL": _as(owner_url, app_role), **env_keys}))
    try:
        app = server.app
        define_program(app, "WALIKOTA")
        open_tahap(app, "WALIKOTA", 1, quota=2)
        register_eligible(app, range(3))
        allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        programs.certify(app, "WALIKOTA", 1, DINSOS)  # writes, and signs the head after it
        catch_up(server)  # the read models are the server's to change
        assert app.household(no_kk_of(0)).no_kk == no_kk_of(0)
        assert verify(server).ok is True
        table = f'"{postgres_url.schema}"."{app.recorder.events_table_name}"'  # type: ignore[attr-defined]
    finally:
        server.close()

    with psycopg.connect(_as(postgres_url.url, app_role), autocommit=True) as conn:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 10  # noqa: S608
        for forbidden in (
            f"UPDATE {table} SET state = state WHERE notification_id = 1",  # noqa: S608
            f"DELETE FROM {table} WHERE notification_id = 1",  # noqa: S608
            f"TRUNCATE {table}",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)


def test_grant_is_for_postgresql_and_an_existing_role(
    tmp_path: object, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch, postgres_url: PgTarget
) -> None:
    monkeypatch.setenv("SALUR_DATABASE_URL", f"sqlite:///{tmp_path}/s.db")
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        assert main(["db", "grant", "salur_app"]) == 2
        monkeypatch.setenv("SALUR_DATABASE_URL", f"{postgres_url.url}?schema={postgres_url.schema}")
        reset_settings_cache()
        assert main(["db", "grant", f"nobody_{secrets.token_hex(4)}"]) == 2
    finally:
        reset_settings_cache()

"""Console accounts on SQLite and PostgreSQL: argon2 hashes, the lock after ten failures, sessions."""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from sqlalchemy import select

from salur_cases.api.console import accounts
from salur_cases.api.console.accounts import SignIn, add_user, disable_user, list_users, principal_of, sign_in
from salur_cases.api.console.sessions import DatabaseStore
from salur_cases.cli import main
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.migrate import upgrade
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from salur_cases.tables.console import console_session, console_user
from tests.conftest import StoreTarget

PASSWORD = "kata sandi yang panjang"


def _url(target: StoreTarget) -> str:
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": _url(store_url), **env_keys}))
    upgrade(rt)
    yield rt
    rt.close()


class Clock:
    """The sign-in clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(accounts, "_now", c)
    return c


def test_an_account_keeps_an_argon2id_hash_and_its_kelurahan_code(runtime: Runtime) -> None:
    add_user(runtime, "budi", Role.KELURAHAN, PASSWORD, "Lawang Gintung")
    with runtime.engine.connect() as conn:
        row = conn.execute(select(console_user)).one()
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert row.kelurahan == "32.71.01.1004"
    principal = principal_of(runtime, "budi")
    assert principal is not None
    assert (principal.role, principal.kelurahan) == (Role.KELURAHAN, "32.71.01.1004")


@pytest.mark.parametrize(
    ("name", "role", "password", "kelurahan", "field"),
    [
        ("ani", Role.KELURAHAN, PASSWORD, None, "kelurahan"),
        ("ani", Role.DINSOS, PASSWORD, "Sempur", "kelurahan"),
        ("ani", Role.DINSOS, "pendek", None, "password"),
        ("a b", Role.DINSOS, PASSWORD, None, "name"),
        ("ani", Role.SYSTEM, PASSWORD, None, "role"),
    ],
)
def test_a_bad_account_is_refused_naming_the_field(
    runtime: Runtime, name: str, role: Role, password: str, kelurahan: str | None, field: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        add_user(runtime, name, role, password, kelurahan)
    assert refused.value.field == field
    assert list_users(runtime) == []


def test_a_name_is_taken_once(runtime: Runtime) -> None:
    add_user(runtime, "ani", Role.DINSOS, PASSWORD)
    with pytest.raises(InvalidCommand, match="exists"):
        add_user(runtime, "ani", Role.INSPECTOR, PASSWORD)
    assert [a.role for a in list_users(runtime)] == [Role.DINSOS]


def test_the_eleventh_attempt_after_ten_failures_is_locked_for_fifteen_minutes(
    runtime: Runtime, clock: Clock
) -> None:
    add_user(runtime, "ani", Role.DINSOS, PASSWORD)
    for _ in range(10):
        clock.now += timedelta(seconds=30)
        assert sign_in(runtime, "ani", "salah")[0] is SignIn.WRONG
    clock.now += timedelta(seconds=30)
    assert sign_in(runtime, "ani", PASSWORD) == (SignIn.LOCKED, None)
    clock.now += timedelta(minutes=14)
    assert sign_in(runtime, "ani", PASSWORD)[0] is SignIn.LOCKED
    clock.now += timedelta(minutes=1)  # 15 minutes after the tenth failure
    outcome, principal = sign_in(runtime, "ani", PASSWORD)
    assert outcome is SignIn.OK
    assert principal is not None
    assert principal.actor.name == "ani"


def test_ten_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    runtime: Runtime, clock: Clock
) -> None:
    add_user(runtime, "ani", Role.DINSOS, PASSWORD)
    for _ in range(10):
        clock.now += timedelta(minutes=2)
        assert sign_in(runtime, "ani", "salah")[0] is SignIn.WRONG
    assert sign_in(runtime, "ani", PASSWORD)[0] is SignIn.OK


def test_a_disabled_account_cannot_sign_in_and_loses_its_principal(runtime: Runtime) -> None:
    add_user(runtime, "ani", Role.DINSOS, PASSWORD)
    disable_user(runtime, "ani")
    assert sign_in(runtime, "ani", PASSWORD) == (SignIn.DISABLED, None)
    assert principal_of(runtime, "ani") is None
    assert sign_in(runtime, "nobody", PASSWORD) == (SignIn.WRONG, None)
    with pytest.raises(InvalidCommand):
        disable_user(runtime, "nobody")


def test_sessions_are_kept_by_hash_renewed_on_use_and_expire(runtime: Runtime) -> None:
    store = DatabaseStore(runtime.engine)
    key = "a" * 64

    async def story() -> None:
        await store.set(key, b'{"user": "ani"}', expires_in=60)
        assert await store.get(key, renew_for=3600) == b'{"user": "ani"}'
        left = await store.expires_in(key)
        assert left is not None
        assert left > 3000  # renewed: idle expiry, not absolute
        await store.set(key, b"{}", expires_in=-1)
        assert await store.get(key) is None  # expired
        await store.set(key, b"x")
        await store.delete(key)
        assert not await store.exists(key)

    with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever else runs in this process
        thread.submit(anyio.run, story).result()
    with runtime.engine.connect() as conn:
        assert key not in {r.key_hash for r in conn.execute(select(console_session))}


def test_salur_user_commands(
    runtime: Runtime,
    store_url: StoreTarget,
    env_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {"SALUR_DATABASE_URL": _url(store_url), **env_keys}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        main(["user", "add", "siti", "--role", "kelurahan", "--kelurahan", "Sempur", "--password-stdin"]) == 0
    )
    assert main(["user", "disable", "siti"]) == 0
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "siti\tkelurahan\t32.71.03.1006\tdisabled" in out
    assert PASSWORD not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("pendek\n"))
    assert main(["user", "add", "rudi", "--role", "dinsos", "--password-stdin"]) == 2
    reset_settings_cache()

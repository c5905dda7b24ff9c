"""Safe by location: commands that only read never create a database or keys, a database is never
re-keyed, and `salur keys generate` / `salur token` / `salur token revoke` work as documented."""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING

import jwt
import pytest
from sqlalchemy import text

from salur_cases.api.auth import authenticate
from salur_cases.api.revocation import Denylist
from salur_cases.cli import main
from salur_cases.keys import KEY_VARIABLES, decode_secret, signing_public_key
from salur_cases.processes import registration
from salur_cases.projections.migrate import upgrade
from salur_cases.settings import KeysMissing, load_settings, reset_settings_cache
from tests.builders import KELURAHAN, database_url, no_kk_of, proposal, runtime_for

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import StoreTarget

READ_ONLY = [
    ["explain", no_kk_of(1)],
    ["history", no_kk_of(1)],
    ["report", "programs"],
    ["audit", "verify"],
    ["audit", "export", no_kk_of(1)],
    ["token", "--role", "dinsos"],
    ["token", "revoke", "abc"],
    ["projections", "status"],
]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No SALUR_* variable but those a test sets; the settings cache forgotten before and after."""
    for name in list(os.environ):
        if name.startswith("SALUR_") and name != "SALUR_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    reset_settings_cache()
    yield monkeypatch
    reset_settings_cache()


def run(*argv: str) -> int:
    """One command, with the settings read afresh."""
    reset_settings_cache()
    return main(list(argv))


@pytest.mark.parametrize("argv", READ_ONLY, ids=lambda argv: " ".join(argv[:2]))
def test_in_the_wrong_directory_a_command_that_reads_creates_nothing_and_exits_2(
    argv: list[str], tmp_path: Path, environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.chdir(tmp_path)
    assert run(*argv) == 2
    assert "SALUR_DATABASE_URL" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_audit_verify_on_an_empty_new_database_does_not_say_intact(
    tmp_path: Path, environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.chdir(tmp_path)
    assert run("db", "upgrade") == 0
    assert stat.S_IMODE((tmp_path / "salur.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "salur.db.keys").stat().st_mode) == 0o600
    capsys.readouterr()
    assert run("audit", "verify") == 2
    captured = capsys.readouterr()
    assert "intact" not in captured.out + captured.err
    assert "holds no events" in captured.err
    assert run("token", "--role", "dinsos") == 0  # a migrated database may issue tokens


def populated(url: str, schema: str | None, env_keys: dict[str, str], **env: str) -> None:
    """A migrated database holding one household's events."""
    runtime = runtime_for(url, schema, env_keys, **env)
    try:
        upgrade(runtime)
        registration.register(runtime.app, proposal(1), KELURAHAN)
    finally:
        runtime.close()


def test_a_database_whose_keys_file_is_lost_is_refused_never_re_keyed(
    tmp_path: Path, environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.chdir(tmp_path)
    populated("sqlite:///./salur.db", None, {})  # keys generated beside it
    keys_file = tmp_path / "salur.db.keys"
    assert run("history", no_kk_of(1)) == 0
    keys_file.unlink()
    capsys.readouterr()
    for argv in (["history", no_kk_of(1)], ["audit", "verify"], ["db", "upgrade"], ["projections", "run"]):
        assert run(*argv) == 2
        assert "keys are missing" in capsys.readouterr().err
    with pytest.raises(KeysMissing):
        load_settings({"SALUR_DATABASE_URL": "sqlite:///./salur.db"})
    assert not keys_file.exists()


def test_keys_that_do_not_match_the_database_are_refused(
    store_url: StoreTarget,
    env_keys: dict[str, str],
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    populated(store_url.url, store_url.schema, env_keys)
    environment.setenv("SALUR_DATABASE_URL", database_url(store_url.url, store_url.schema))
    for name, value in env_keys.items():
        environment.setenv(name, value)
    assert run("history", no_kk_of(1)) == 0
    other = "9f" + env_keys["SALUR_ID_KEY"][2:]
    environment.setenv("SALUR_ID_KEY", other)
    capsys.readouterr()
    for argv in (["history", no_kk_of(1)], ["audit", "verify"], ["db", "upgrade"]):
        assert run(*argv) == 2
        err = capsys.readouterr().err
        assert "SALUR_ID_KEY is not the key this database was made with" in err
        assert other not in err
    environment.setenv("SALUR_ID_KEY", env_keys["SALUR_ID_KEY"])
    environment.setenv("SALUR_ENCRYPTION_KEY", "8e" + env_keys["SALUR_ID_KEY"][2:][::-1])
    assert run("history", no_kk_of(1)) == 2  # made without encryption: a key now would not read it
    assert "SALUR_ENCRYPTION_KEY" in capsys.readouterr().err


def test_a_postgres_schema_that_does_not_exist_is_refused(
    postgres_url: object, env_keys: dict[str, str], environment: pytest.MonkeyPatch
) -> None:
    from tests.conftest import PgTarget  # noqa: PLC0415 - the fixture's type

    assert isinstance(postgres_url, PgTarget)
    environment.setenv("SALUR_DATABASE_URL", f"{postgres_url.url}?schema=nowhere_{postgres_url.schema}")
    for name, value in env_keys.items():
        environment.setenv(name, value)
    assert run("explain", no_kk_of(1)) == 2
    environment.setenv("SALUR_DATABASE_URL", f'{postgres_url.url}?schema=x";DROP SCHEMA public')
    assert run("db", "upgrade") == 2


def test_keys_generate_prints_a_fresh_usable_set_and_the_public_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "generate"]) == 0
    out = capsys.readouterr().out
    values = dict(re.findall(r"^(SALUR_\w+)=(\S+)$", out, re.MULTILINE))
    assert set(values) == set(KEY_VARIABLES.values())
    raw = {variable: decode_secret(variable, value) for variable, value in values.items()}
    assert len(set(raw.values())) == 4
    public = signing_public_key(raw["SALUR_SIGNING_KEY"]).hex()
    assert out.strip().splitlines()[-1].endswith(public)


def test_token_prints_the_token_alone_on_the_last_line_and_revoke_refuses_it(
    store_url: StoreTarget,
    env_keys: dict[str, str],
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    populated(store_url.url, store_url.schema, env_keys)
    environment.setenv("SALUR_DATABASE_URL", database_url(store_url.url, store_url.schema))
    for name, value in env_keys.items():
        environment.setenv(name, value)
    assert run("token", "--role", "inspector", "--ttl", "1h") == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1
    token = captured.out.strip()
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert jti in captured.err
    principal = authenticate([bytes.fromhex(env_keys["SALUR_SECRET_KEY"])], f"Bearer {token}")
    assert principal.token_id == jti

    assert run("token", "revoke", jti) == 0
    assert "revoked" in capsys.readouterr().out
    assert run("token", "revoke", "not a token id") == 2
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        denylist = Denylist(runtime.engine)
        denylist.refresh()
        assert jti in denylist
    finally:
        runtime.close()


def test_a_schema_name_is_quoted_wherever_it_is_used(postgres_url: object, env_keys: dict[str, str]) -> None:
    import psycopg  # noqa: PLC0415 - only this test needs the driver itself
    from psycopg import sql  # noqa: PLC0415

    from tests.conftest import PgTarget  # noqa: PLC0415 - the fixture's type

    assert isinstance(postgres_url, PgTarget)
    schema = f"Mixed_{postgres_url.schema}"  # upper case: the server folds it unless it is quoted
    runtime = runtime_for(postgres_url.url, schema, env_keys)
    try:
        upgrade(runtime)
        registration.register(runtime.app, proposal(1), KELURAHAN)
        with runtime.engine.connect() as conn:
            assert conn.execute(text("SELECT current_schema()")).scalar() == schema
            assert conn.execute(text("SELECT count(*) FROM key_check")).scalar() == 2
    finally:
        runtime.close()
        with psycopg.connect(postgres_url.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

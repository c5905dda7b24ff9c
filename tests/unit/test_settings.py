"""Settings from the environment: strong distinct secrets, generated SQLite keys, required PostgreSQL keys."""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from salur_cases.keys import KEY_VARIABLES, generate_key_set, signing_public_key
from salur_cases.logging import configure_logging
from salur_cases.settings import (
    ConfigError,
    DatabaseMissing,
    KeysMissing,
    Settings,
    get_settings,
    load_settings,
    reset_settings_cache,
)

STRONG = "41ebaf5c9044ea6efc5c1731dc31148cef9ae5d2f42de1084a9ba18b7379cb22"


def test_defaults_use_sqlite_beside_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.database_url == "sqlite:///./salur.db"
    assert not settings.is_postgres
    assert settings.sqlite_path == Path("salur.db")
    assert settings.test_database_url == "postgresql://127.0.0.1:5432/test"
    assert (tmp_path / "salur.db.keys").exists()
    assert settings.read_database_url is None
    assert not settings.allow_plaintext


def test_sqlite_keys_are_generated_together_once_and_reused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/data/salur.db"}
    first = load_settings(env)
    keys_file = tmp_path / "data" / "salur.db.keys"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    stored = json.loads(keys_file.read_text())
    assert set(stored) == set(KEY_VARIABLES)
    assert bytes.fromhex(stored["id_key"]) == first.id_key
    assert bytes.fromhex(stored["encryption_key"]) == first.encryption_key
    assert first.signing_key is not None
    assert len(first.signing_key) == 32
    keys = [first.id_key, first.secret_key, first.encryption_key, first.signing_key]
    assert all(key is not None and len(key) >= 32 for key in keys)
    assert len(set(keys)) == 4
    err = capsys.readouterr().err
    assert "generated" in err
    assert "WARNING" in err.upper()

    second = load_settings(env)
    assert second == first
    assert "generated" not in capsys.readouterr().err


def test_given_keys_win_over_generated_ones(tmp_path: Path, env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/salur.db", **env_keys}
    settings = load_settings(env)
    assert settings.id_key == bytes.fromhex(env_keys["SALUR_ID_KEY"])
    assert settings.secret_key == bytes.fromhex(env_keys["SALUR_SECRET_KEY"])
    assert settings.encryption_key is None  # SALUR_ALLOW_PLAINTEXT=1 in the test keys
    assert not (tmp_path / "salur.db.keys").exists()


def test_secrets_may_be_written_in_base64(tmp_path: Path, env_keys: dict[str, str]) -> None:
    raw = bytes.fromhex(STRONG)
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", **env_keys}
        env["SALUR_ENCRYPTION_KEY"] = encoded
        assert load_settings(env).encryption_key == raw


@pytest.mark.parametrize(
    ("weak", "why"),
    [
        ("a", "at least 32"),
        ("kunci-rahasia-uji", "at least 32"),
        ("0123456789abcdef" * 2, "at least 32"),  # 16 bytes
        ("00" * 32, "not random"),
        ("0123456789abcdef" * 4, "not random"),
        (base64.b64encode(b"password" * 4).decode(), "not random"),
    ],
)
@pytest.mark.parametrize("variable", list(KEY_VARIABLES.values()))
def test_a_weak_secret_is_refused_naming_its_variable_never_its_value(
    variable: str, weak: str, why: str, tmp_path: Path
) -> None:
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    env |= {v: generate_key_set()[n] for n, v in KEY_VARIABLES.items()}
    env[variable] = weak
    with pytest.raises(ConfigError, match=variable) as refused:
        load_settings(env)
    assert why in str(refused.value)
    assert len(weak) < 4 or weak not in str(refused.value)
    assert not (tmp_path / "s.db.keys").exists()


def test_weak_keys_are_refused_on_postgresql_too() -> None:
    env = {"SALUR_DATABASE_URL": "postgresql://db/salur", "SALUR_ALLOW_PLAINTEXT": "1"}
    env |= {"SALUR_ID_KEY": "a", "SALUR_SECRET_KEY": "a", "SALUR_SIGNING_KEY": STRONG}
    with pytest.raises(ConfigError, match="SALUR_ID_KEY"):
        load_settings(env)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("SALUR_ID_KEY", "SALUR_SECRET_KEY"),
        ("SALUR_SECRET_KEY", "SALUR_ENCRYPTION_KEY"),
        ("SALUR_ENCRYPTION_KEY", "SALUR_SIGNING_KEY"),
    ],
)
def test_two_variables_holding_the_same_secret_are_refused(first: str, second: str) -> None:
    env = {"SALUR_DATABASE_URL": "postgresql://db/salur"}
    env |= {v: generate_key_set()[n] for n, v in KEY_VARIABLES.items()}
    raw = bytes.fromhex(env[first])
    env[second] = base64.b64encode(raw).decode()  # the same secret, written another way
    with pytest.raises(ConfigError, match=f"{second} must differ from {first}"):
        load_settings(env)


def test_the_signing_key_is_an_ed25519_seed_of_32_bytes(env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": "postgresql://db/salur", **env_keys, "SALUR_SIGNING_KEY": "ab" * 48}
    with pytest.raises(ConfigError, match="SALUR_SIGNING_KEY must be exactly 32 bytes"):
        load_settings(env)


def test_previous_token_secrets_are_kept_for_a_rotation_window(env_keys: dict[str, str]) -> None:
    old = generate_key_set()["secret_key"]
    env = {"SALUR_DATABASE_URL": "postgresql://db/salur", **env_keys, "SALUR_PREVIOUS_SECRET_KEY": old}
    settings = load_settings(env)
    assert settings.token_secrets == (bytes.fromhex(env_keys["SALUR_SECRET_KEY"]), bytes.fromhex(old))
    env["SALUR_PREVIOUS_SECRET_KEY"] = env_keys["SALUR_SECRET_KEY"]
    with pytest.raises(ConfigError, match="SALUR_PREVIOUS_SECRET_KEY"):
        load_settings(env)


def test_in_memory_sqlite_needs_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"SALUR_DATABASE_URL": "sqlite:///:memory:"})
    assert settings.sqlite_path is None
    assert settings.id_key
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["SALUR_ID_KEY", "SALUR_SECRET_KEY", "SALUR_SIGNING_KEY"])
def test_postgres_requires_its_keys(missing: str, env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": "postgresql://127.0.0.1:5432/salur", **env_keys}
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_postgres_requires_the_encryption_key_unless_plaintext_is_allowed(env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": "postgresql://127.0.0.1:5432/salur", **env_keys}
    del env["SALUR_ALLOW_PLAINTEXT"]
    with pytest.raises(ConfigError, match=r"SALUR_ENCRYPTION_KEY is required .*SALUR_ALLOW_PLAINTEXT=1"):
        load_settings(env)
    assert load_settings({**env, "SALUR_ENCRYPTION_KEY": STRONG}).encryption_key == bytes.fromhex(STRONG)


def test_a_database_holding_events_never_gets_new_keys(tmp_path: Path) -> None:
    db = tmp_path / "salur.db"
    env = {"SALUR_DATABASE_URL": f"sqlite:///{db}"}
    load_settings(env)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE stored_events (originator_id TEXT)")
        conn.execute("INSERT INTO stored_events VALUES ('x')")
    (tmp_path / "salur.db.keys").unlink()  # the keys file was lost
    with pytest.raises(KeysMissing, match="holds events but its keys are missing"):
        load_settings(env)
    assert not (tmp_path / "salur.db.keys").exists()


def test_a_command_that_only_reads_never_creates_a_database_or_keys(tmp_path: Path) -> None:
    db = tmp_path / "salur.db"
    env = {"SALUR_DATABASE_URL": f"sqlite:///{db}"}
    with pytest.raises(DatabaseMissing, match="SALUR_DATABASE_URL"):
        load_settings(env, create=False)
    assert list(tmp_path.iterdir()) == []
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    with pytest.raises(KeysMissing, match="SALUR_DATABASE_URL"):
        load_settings(env, create=False)
    assert list(tmp_path.iterdir()) == [db]


def test_postgres_url_is_rewritten_for_sqlalchemy(env_keys: dict[str, str]) -> None:
    settings = load_settings({"SALUR_DATABASE_URL": "postgresql://salur@db:5432/salur", **env_keys})
    assert settings.is_postgres
    assert settings.sqlalchemy_url == "postgresql+psycopg://salur@db:5432/salur"
    assert settings.sqlite_path is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./x.db", Path("x.db")),
        ("sqlite:///x.db", Path("x.db")),
        ("sqlite:////abs/x.db", Path("/abs/x.db")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
    ],
)
def test_sqlite_paths(url: str, path: Path | None) -> None:
    settings = Settings(database_url=url)
    assert settings.sqlite_path == path
    assert settings.sqlalchemy_url == url


def test_other_settings(env_keys: dict[str, str], tmp_path: Path) -> None:
    env = {
        "SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
        "SALUR_LOG_FORMAT": "console",
        "SALUR_TEST_DATABASE_URL": "postgresql://127.0.0.1:5432/other",
        "SALUR_BULK_WORKERS": "3",
        "SALUR_PROJECTION_BATCH": "200",
        **env_keys,
    }
    settings = load_settings(env)
    assert settings.log_format == "console"
    assert settings.test_database_url == "postgresql://127.0.0.1:5432/other"
    assert settings.read_database_url is None
    assert (settings.bulk_workers, settings.projection_batch) == (3, 200)
    assert load_settings({**env, "SALUR_LOG_FORMAT": "JSON"}).log_format == "json"
    for variable, value in [
        ("SALUR_LOG_FORMAT", "xml"),
        ("SALUR_DATABASE_URL", "mysql://x"),
        ("SALUR_READ_DATABASE_URL", "sqlite:///r.db"),
        ("SALUR_BULK_WORKERS", "0"),
        ("SALUR_ALLOW_PLAINTEXT", "maybe"),
    ]:
        with pytest.raises(ConfigError, match=variable):
            load_settings({**env, variable: value})


def test_secret_keys_stay_out_of_repr(env_keys: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings({"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", **env_keys})
    text = repr(settings)
    for variable in ("SALUR_ID_KEY", "SALUR_SECRET_KEY", "SALUR_SIGNING_KEY"):
        assert env_keys[variable] not in text
    assert repr(bytes.fromhex(env_keys["SALUR_ID_KEY"])) not in text


def test_generated_sets_are_fresh_and_their_public_key_is_the_seeds() -> None:
    first, second = generate_key_set(), generate_key_set()
    assert not set(first.values()) & set(second.values())
    assert len(signing_public_key(bytes.fromhex(first["signing_key"]))) == 32


def test_get_settings_is_cached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env_keys: dict[str, str]
) -> None:
    monkeypatch.setenv("SALUR_DATABASE_URL", f"sqlite:///{tmp_path}/a.db")
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        first = get_settings()
        monkeypatch.setenv("SALUR_DATABASE_URL", f"sqlite:///{tmp_path}/b.db")
        assert get_settings() is first
        reset_settings_cache()
        assert get_settings().database_url.endswith("b.db")
    finally:
        reset_settings_cache()


@pytest.mark.parametrize("schema", ['x";DROP SCHEMA public', "1abc", "a b", "a" * 64, "ü"])
def test_the_schema_parameter_must_be_an_identifier(schema: str, env_keys: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="SALUR_DATABASE_URL"):
        load_settings({"SALUR_DATABASE_URL": f"postgresql://db/salur?schema={schema}", **env_keys})
    assert load_settings({"SALUR_DATABASE_URL": "postgresql://db/salur?schema=T_Mixed_1", **env_keys})

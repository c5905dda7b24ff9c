"""Settings from the environment: generated SQLite keys, required PostgreSQL keys, URL rewriting."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from salur_cases.logging import configure_logging
from salur_cases.settings import (
    ConfigError,
    Settings,
    get_settings,
    load_settings,
    reset_settings_cache,
)


def test_defaults_use_sqlite_beside_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.database_url == "sqlite:///./salur.db"
    assert not settings.is_postgres
    assert settings.sqlite_path == Path("salur.db")
    assert settings.test_database_url == "postgresql://127.0.0.1:5432/test"
    assert settings.encryption_key is not None
    assert len(settings.encryption_key) == 32
    assert settings.signing_key is not None
    assert len(settings.signing_key) == 32
    assert (tmp_path / "salur.db.keys").exists()


def test_sqlite_keys_are_generated_once_and_reused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/data/salur.db"}
    first = load_settings(env)
    keys_file = tmp_path / "data" / "salur.db.keys"
    assert keys_file.exists()
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert len(first.id_key) >= 32
    assert len(first.secret_key) >= 32
    assert first.id_key != first.secret_key
    stored = json.loads(keys_file.read_text())
    assert stored["id_key"].encode() == first.id_key
    err = capsys.readouterr().err
    assert "generated" in err
    assert "WARNING" in err.upper()

    second = load_settings(env)
    assert (second.id_key, second.secret_key) == (first.id_key, first.secret_key)
    assert "generated" not in capsys.readouterr().err


def test_given_keys_win_over_generated_ones(tmp_path: Path, env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/salur.db", **env_keys}
    settings = load_settings(env)
    assert settings.id_key == env_keys["SALUR_ID_KEY"].encode()
    assert settings.secret_key == env_keys["SALUR_SECRET_KEY"].encode()
    assert not (tmp_path / "salur.db.keys").exists()


def test_only_the_missing_key_is_generated(tmp_path: Path, env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/salur.db", "SALUR_ID_KEY": env_keys["SALUR_ID_KEY"]}
    settings = load_settings(env)
    assert settings.id_key == env_keys["SALUR_ID_KEY"].encode()
    assert json.loads((tmp_path / "salur.db.keys").read_text())["secret_key"].encode() == settings.secret_key


def test_in_memory_sqlite_needs_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"SALUR_DATABASE_URL": "sqlite:///:memory:"})
    assert settings.sqlite_path is None
    assert settings.id_key
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["SALUR_ID_KEY", "SALUR_SECRET_KEY"])
def test_postgres_requires_both_keys(missing: str, env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": "postgresql://127.0.0.1:5432/salur", **env_keys}
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


def test_postgres_url_is_rewritten_for_sqlalchemy(env_keys: dict[str, str]) -> None:
    settings = load_settings({"SALUR_DATABASE_URL": "postgresql://salur@db:5432/salur", **env_keys})
    assert settings.is_postgres
    assert settings.sqlalchemy_url == "postgresql+psycopg://salur@db:5432/salur"
    assert settings.sqlite_path is None
    assert settings.id_key == env_keys["SALUR_ID_KEY"].encode()


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
        "SALUR_ENCRYPTION_KEY": base64.b64encode(b"s" * 32).decode(),
        "SALUR_LOG_FORMAT": "console",
        "SALUR_TEST_DATABASE_URL": "postgresql://127.0.0.1:5432/other",
        **env_keys,
    }
    settings = load_settings(env)
    assert settings.encryption_key == b"s" * 32
    assert settings.log_format == "console"
    assert settings.test_database_url == "postgresql://127.0.0.1:5432/other"
    assert load_settings({**env, "SALUR_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="SALUR_LOG_FORMAT"):
        load_settings({**env, "SALUR_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="SALUR_DATABASE_URL"):
        load_settings({**env, "SALUR_DATABASE_URL": "mysql://x"})


def test_secret_keys_stay_out_of_repr(env_keys: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings({"SALUR_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", **env_keys})
    assert env_keys["SALUR_ID_KEY"] not in repr(settings)


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

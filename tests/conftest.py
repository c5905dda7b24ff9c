"""Shared fixtures: database targets (SQLite file, fresh PostgreSQL schema) and test keys."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_TEST_DATABASE_URL = "postgresql://127.0.0.1:5432/test"
_POSTGRES_FIXTURES = frozenset({"postgres_url", "pg_target"})
TEST_SIGNING_KEY = "cc1dca7c518d23fea39fabe758a7f562ee401a1f46eb883aeb90a4771b828d39"
"""An Ed25519 seed for the tests (64 hex digits): chain heads are signed as in production."""


@dataclass(frozen=True)
class PgTarget:
    """A PostgreSQL database and the fresh schema a test owns (search_path it yourself)."""

    url: str
    schema: str


@dataclass(frozen=True)
class StoreTarget:
    """Where an application test stores its events: ``kind`` is ``sqlite`` or ``postgres``."""

    kind: str
    url: str
    schema: str | None = None


def _test_database_url() -> str:
    return os.environ.get("SALUR_TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL


def _unreachable(reason: str) -> None:
    if os.environ.get("SALUR_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required (SALUR_REQUIRE_POSTGRES=1) but unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


@contextmanager
def fresh_pg_schema() -> Iterator[PgTarget]:
    """A fresh schema in the SALUR_TEST_DATABASE_URL database, dropped (CASCADE) afterwards.

    For fixtures of any scope; an unreachable server skips, or fails under SALUR_REQUIRE_POSTGRES=1.
    """
    import psycopg  # noqa: PLC0415 - only tests that need PostgreSQL import the driver

    url = _test_database_url()
    schema = f"t_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        _unreachable(type(exc).__name__)
    try:
        yield PgTarget(url=url, schema=schema)
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[PgTarget]:
    """A fresh schema for one test."""
    with fresh_pg_schema() as target:
        yield target


@pytest.fixture
def pg_target(postgres_url: PgTarget) -> PgTarget:
    """Alias of :func:`postgres_url`."""
    return postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in the test's own temporary directory."""
    return f"sqlite:///{tmp_path / 'salur.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    """Runs the test once on SQLite and once on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return StoreTarget(kind="sqlite", url=f"sqlite:///{tmp_path / 'salur.db'}")
    pg: PgTarget = request.getfixturevalue("postgres_url")
    return StoreTarget(kind="postgres", url=pg.url, schema=pg.schema)


@pytest.fixture
def env_keys() -> dict[str, str]:
    """Test values for the secret keys."""
    return {
        "SALUR_ID_KEY": "6a6d52fc1a9e1eb62d1346ebec44cf9f3d6b78c450d30a6968a607622ab871cf",
        "SALUR_SECRET_KEY": "033711f17a4e56759d12c3eedca9435d71e002ce0d5eb1b434ec2669c95b0fab",
        "SALUR_SIGNING_KEY": TEST_SIGNING_KEY,
        "SALUR_ALLOW_PLAINTEXT": "1",
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use PostgreSQL with ``postgres`` (``-m 'not postgres'`` deselects them)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        uses_store_pg = "store_url" in names and (
            callspec is None or callspec.params.get("store_url") == "postgres"
        )
        if names & _POSTGRES_FIXTURES or uses_store_pg:
            item.add_marker(pytest.mark.postgres)

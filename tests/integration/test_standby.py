"""Reads from a PostgreSQL hot standby (``SALUR_READ_DATABASE_URL``), on clusters made for the test.

A scratch primary and a streaming standby of it run on free loopback ports (``tests.standby``). The API
writes to the primary and follows the projections there; its reads go to the standby, and a read that
needs a position the standby has not replayed yet waits for it instead of answering stale.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from salur_cases.api.app import create_app
from salur_cases.api.auth import Principal, issue_token
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import run_forever
from salur_cases.runtime import Runtime
from salur_cases.settings import ConfigError, load_settings
from tests.builders import nik_of, no_kk_of, proposal_data
from tests.standby import Cluster, Unavailable, scratch_primary, standby_of

SCHEMA = "standby_test"


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """A primary holding the test's schema, and a hot standby streaming from it."""
    try:
        with scratch_primary() as primary:
            with psycopg.connect(primary.url(), autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
            with standby_of(primary.port) as standby:
                yield primary, standby
    except Unavailable as exc:
        if os.environ.get("SALUR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"a standby is required (SALUR_REQUIRE_POSTGRES=1) but could not be made: {exc}")
        pytest.skip(f"no standby here: {exc}")


@pytest.fixture
def api(
    clusters: tuple[Cluster, Cluster], env_keys: dict[str, str]
) -> Iterator[tuple[TestClient[Any], Runtime]]:
    """The API on the primary with reads on the standby, the projections followed on the primary."""
    primary, standby = clusters
    runtime = Runtime(
        load_settings(
            {
                "SALUR_DATABASE_URL": f"{primary.url()}?schema={SCHEMA}",
                "SALUR_READ_DATABASE_URL": standby.url(),
                **env_keys,
            }
        )
    )
    upgrade(runtime)
    assert runtime.app is not None
    stop = threading.Event()
    follower = threading.Thread(target=run_forever, args=(runtime, stop), daemon=True)
    follower.start()
    try:
        with TestClient(create_app(runtime)) as client:
            yield client, runtime
    finally:
        stop.set()
        follower.join(timeout=10)
        runtime.close()


def _auth(runtime: Runtime) -> dict[str, str]:
    token = issue_token(runtime.settings.secret_key, Principal("test-dinsos", Role.DINSOS), 600)
    return {"Authorization": f"Bearer {token}"}


def _replay(standby: Cluster, action: str) -> None:
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        conn.execute(f"SELECT pg_wal_replay_{action}()")


def test_reads_go_to_the_standby_and_see_the_primarys_writes(
    api: tuple[TestClient[Any], Runtime], clusters: tuple[Cluster, Cluster]
) -> None:
    client, runtime = api
    with runtime.reader.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is True
        assert conn.exec_driver_sql("SELECT inet_server_port()").scalar() == clusters[1].port
    with runtime.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is False

    written = client.post("/api/v1/households", json=proposal_data(1), headers=_auth(runtime))
    assert written.status_code == 201, written.text
    found = client.post("/api/v1/lookup", json={"nik": nik_of(1)}, headers=_auth(runtime))
    assert found.status_code == 200, found.text
    assert found.json()["no_kk"] == no_kk_of(1)
    history = client.get(f"/api/v1/households/{no_kk_of(1)}/events", headers=_auth(runtime))
    assert history.status_code == 200
    assert [item["position"] for item in history.json()["items"]][-1] == int(
        written.headers["X-Salur-Position"]
    )

    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["standby"] is True
    assert ready.json()["standby_lag"] == 0


def test_a_read_waits_for_the_standby_to_replay_the_write_it_follows(
    api: tuple[TestClient[Any], Runtime], clusters: tuple[Cluster, Cluster]
) -> None:
    client, runtime = api
    standby = clusters[1]
    _replay(standby, "pause")
    try:
        written = client.post("/api/v1/households", json=proposal_data(2), headers=_auth(runtime))
        assert written.status_code == 201, written.text
        position = int(written.headers["X-Salur-Position"])
        answers: list[tuple[float, Any]] = []

        def read() -> None:
            response = client.get(f"/api/v1/households/{no_kk_of(2)}", headers=_auth(runtime))
            answers.append((time.monotonic(), response))

        reader = threading.Thread(target=read)
        reader.start()
        deadline = time.monotonic() + 5
        while (lag := client.get("/health/ready").json().get("standby_lag", 0)) < 1:
            assert time.monotonic() < deadline, "the primary's projections never moved past the standby"
            time.sleep(0.05)
        assert lag >= 1
        time.sleep(1.0)
        assert reader.is_alive(), "the read answered before the standby replayed the write"
        assert not answers
    finally:
        resumed = time.monotonic()
        _replay(standby, "resume")
    reader.join(timeout=10)
    (answered, response), *_ = answers
    assert answered >= resumed
    assert response.status_code == 200, response.text
    assert response.json()["no_kk"] == no_kk_of(2)
    with runtime.reader.connect() as conn:
        replayed = conn.exec_driver_sql("SELECT position FROM projection_position").scalar()
    assert replayed is not None
    assert replayed >= position


def test_a_read_standby_needs_a_postgresql_primary(env_keys: dict[str, str], tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="SALUR_READ_DATABASE_URL"):
        load_settings(
            {
                "SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SALUR_READ_DATABASE_URL": "postgresql://127.0.0.1:5433/test",
                **env_keys,
            }
        )
    with pytest.raises(ConfigError, match="SALUR_READ_DATABASE_URL"):
        load_settings(
            {
                "SALUR_DATABASE_URL": "postgresql://127.0.0.1:5432/test",
                "SALUR_READ_DATABASE_URL": "sqlite:///./r.db",
                **env_keys,
            }
        )

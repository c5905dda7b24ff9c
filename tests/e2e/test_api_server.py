"""The API as shipped: the committed OpenAPI document, `salur token`, and `salur serve` as a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from salur_cases.api.app import create_app
from salur_cases.api.auth import authenticate, parse_ttl
from salur_cases.api.export_openapi import DEFAULT_OUT, render
from salur_cases.api.server import serve_command
from salur_cases.cli import main
from salur_cases.domain.errors import InvalidCommand
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from tests.builders import name_of, nik_of, no_kk_of, proposal_data
from tests.conftest import PgTarget

COMMITTED = Path(__file__).resolve().parents[2] / "api" / "openapi.json"


@pytest.fixture
def served_schema(tmp_path: Path, env_keys: dict[str, str]) -> dict[str, Any]:
    """The OpenAPI document as the app serves it."""
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", **env_keys}))
    try:
        with TestClient(create_app(runtime)) as client:
            response = client.get("/schema/openapi.json")
            assert response.status_code == 200
            assert client.get("/schema").status_code == 200  # the interactive renderer
            assert "text/html" in client.get("/schema/swagger").headers["content-type"]
            return dict(response.json())
    finally:
        runtime.close()


def test_the_committed_openapi_document_is_the_served_one(served_schema: dict[str, Any]) -> None:
    assert COMMITTED == DEFAULT_OUT
    assert render(served_schema) == COMMITTED.read_text(encoding="utf-8"), (
        "api/openapi.json is stale: run `python -m salur_cases.api.export_openapi`"
    )


def test_every_operation_has_an_id_a_summary_and_an_example(served_schema: dict[str, Any]) -> None:
    operations = [op for item in served_schema["paths"].values() for op in item.values()]
    assert len(operations) == 31
    for operation in operations:
        assert operation.get("operationId"), operation
        assert operation.get("summary"), operation
        contents = [c for r in operation["responses"].values() for c in (r.get("content") or {}).values()]
        assert any("examples" in c for c in contents), operation["operationId"]
        for status, response in operation["responses"].items():
            if status >= "400" and operation["operationId"] != "healthReady":  # 503 is a health document
                assert "application/problem+json" in response["content"], (operation["operationId"], status)
    writes = served_schema["paths"]["/api/v1/households/{no_kk}/verval"]["post"]
    assert {"If-Match", "Idempotency-Key"} <= {p["name"] for p in writes["parameters"]}


def test_salur_token_prints_a_signed_expiring_token(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env_keys: dict[str, str],
    tmp_path: Path,
) -> None:
    for name, value in {**env_keys, "SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        assert main(["db", "upgrade"]) == 0  # a token is made for an existing database only
        assert (
            main(
                ["token", "--role", "kelurahan", "--kelurahan", "Sempur", "--ttl", "30m", "--subject", "ani"]
            )
            == 0
        )
        token = capsys.readouterr().out.strip().splitlines()[-1]
        principal = authenticate([bytes.fromhex(env_keys["SALUR_SECRET_KEY"])], f"Bearer {token}")
        assert (principal.subject, principal.role, principal.kelurahan) == (
            "ani",
            "kelurahan",
            "32.71.03.1006",
        )
        assert main(["token", "--role", "kelurahan"]) == 2
        assert "kelurahan" in capsys.readouterr().err
        assert main(["token", "--role", "kelurahan", "--kelurahan", "Atlantis"]) == 2
        assert main(["token", "--role", "dinsos", "--kelurahan", "Sempur"]) == 2
        assert main(["token", "--role", "dinsos", "--ttl", "soon"]) == 2
        assert main(["token", "--role", "inspector", "--ttl", "7d"]) == 0
    finally:
        reset_settings_cache()
    later = time.time() + 31 * 60
    with pytest.raises(Exception, match="expired"):
        authenticate([bytes.fromhex(env_keys["SALUR_SECRET_KEY"])], f"Bearer {token}", now=later)


def test_ttl_forms() -> None:
    assert [parse_ttl(t) for t in ("90", "45s", "30m", "8h", "7d")] == [90, 45, 1800, 28800, 604800]
    for bad in ("", "0h", "8w", "-1h", "100d"):
        with pytest.raises(InvalidCommand):
            parse_ttl(bad)


def test_serve_refuses_a_database_that_is_not_migrated(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env_keys: dict[str, str],
    tmp_path: Path,
) -> None:
    for name, value in {**env_keys, "SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}"}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        assert serve_command(type("Args", (), {"host": "127.0.0.1", "port": 1})()) == 1  # type: ignore[arg-type]
    finally:
        reset_settings_cache()
    assert "salur db upgrade" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=data, headers=headers, method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def served(env: dict[str, str], log: Path, *options: str) -> Iterator[tuple[str, str]]:
    """``salur serve`` on a migrated database, as a process: its base URL and a dinsos token."""
    run = [sys.executable, "-m", "salur_cases"]
    assert subprocess.run([*run, "db", "upgrade"], env=env, capture_output=True, check=False).returncode == 0
    token = (
        subprocess.run(
            [*run, "token", "--role", "dinsos"], env=env, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [*run, "serve", "--port", str(port), *options], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if _get(f"{base}/health/live")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.slow
def test_salur_serve_runs_the_api_and_follows_the_projections(
    tmp_path: Path, env_keys: dict[str, str]
) -> None:
    env = {
        **os.environ,
        **env_keys,
        "SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "SALUR_LOG_FORMAT": "json",
    }
    log = tmp_path / "serve.log"
    with served(env, log) as (base, token):
        status, _ = _get(f"{base}/api/v1/households", token, proposal_data(1))
        assert status == 201
        status, body = _get(f"{base}/api/v1/households/{no_kk_of(1)}/events", token)
        assert status == 200
        assert json.loads(body)["items"], body  # read-your-writes through the runner thread
        assert _get(f"{base}/health/ready")[0] == 200
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "salur_cases.api.access"]
    assert any(line["path"] == "/api/v1/households/****************/events" for line in access), access
    assert no_kk_of(1) not in log.read_text()


def _postgres_env(env_keys: dict[str, str], postgres_url: PgTarget) -> dict[str, str]:
    """A server's environment on the test's PostgreSQL schema, logging JSON."""
    return {
        **os.environ,
        **env_keys,
        "SALUR_DATABASE_URL": f"{postgres_url.url}?schema={postgres_url.schema}",
        "SALUR_LOG_FORMAT": "json",
    }


@pytest.mark.slow
def test_workers_of_one_server_share_read_your_writes_and_the_rate_limit(
    tmp_path: Path, env_keys: dict[str, str], postgres_url: PgTarget
) -> None:
    env = _postgres_env(env_keys, postgres_url)
    with served(env, tmp_path / "serve.log", "--workers", "2") as (base, token):
        for n in range(1, 6):  # each request on a new connection, to either worker
            assert _get(f"{base}/api/v1/households", token, proposal_data(n))[0] == 201
            status, body = _get(f"{base}/api/v1/households/{no_kk_of(n)}/events", token)
            assert status == 200
            assert json.loads(body)["items"], body  # the worker that did not write waited too
            status, body = _get(f"{base}/api/v1/lookup", token, {"nik": nik_of(n, 1)})
            assert (status, json.loads(body)["no_kk"]) == (200, no_kk_of(n))
        asks = [
            _get(f"{base}/api/v1/public/status", body={"nik": nik_of(1), "name": name_of(1)})[0]
            for _ in range(14)
        ]
    assert asks.count(200) == 10  # the burst is the server's, not each worker's
    assert set(asks[10:]) == {429}


@pytest.mark.slow
def test_a_second_server_on_a_served_address_does_not_start(
    tmp_path: Path, env_keys: dict[str, str], postgres_url: PgTarget
) -> None:
    """The workers share their address (SO_REUSEPORT) with each other, never with another server."""
    env = _postgres_env(env_keys, postgres_url)
    with served(env, tmp_path / "serve.log", "--workers", "2") as (base, _):
        port = base.rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "salur_cases", "serve", "--port", port, "--workers", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 3, second.stderr[-2000:]
        assert "cannot listen" in second.stderr
        assert _get(f"{base}/health/live")[0] == 200


def test_serve_refuses_several_workers_on_sqlite(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env_keys: dict[str, str],
    tmp_path: Path,
) -> None:
    for name, value in {**env_keys, "SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        assert main(["serve", "--port", "1", "--workers", "2"]) == 2
        assert main(["serve", "--port", "1", "--workers", "0"]) == 2
    finally:
        reset_settings_cache()
    assert "--workers" in capsys.readouterr().err

"""The API's edge: tokens (revoked, over-long, from the future, rotated), roles before anything else,
a code on every error, identifiers masked in logs only, and database errors without their parameters."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from salur_cases.api.app import create_app
from salur_cases.api.auth import AUDIENCE, ISSUER, Principal, issue_token
from salur_cases.api.revocation import revoke
from salur_cases.domain.vocabulary import Role
from salur_cases.keys import generate_key_set
from salur_cases.logging import configure_logging, get_logger
from salur_cases.projections.migrate import upgrade
from tests.builders import no_kk_of, runtime_for

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salur_cases.runtime import Runtime
    from tests.conftest import StoreTarget

PREVIOUS_SECRET = generate_key_set()["secret_key"]
DAY = 24 * 3600


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """A migrated database whose token secret is being rotated (the previous one still accepted)."""
    made = runtime_for(store_url.url, store_url.schema, env_keys, SALUR_PREVIOUS_SECRET_KEY=PREVIOUS_SECRET)
    upgrade(made)
    yield made
    made.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient[Any]]:
    """One API worker that reads the denylist at every request."""
    with TestClient(create_app(runtime, revocation_refresh_seconds=0)) as served:
        yield served


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def token_of(runtime: Runtime, role: Role, **claims: Any) -> str:
    """A token of the runtime's secret, with some claims replaced (None removes one)."""
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ani",
        "role": str(role),
        "iat": now,
        "exp": now + 3600,
        "jti": "t-" + str(now),
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, runtime.settings.secret_key, algorithm="HS256")


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is a problem with this status and code."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


# --- tokens ----------------------------------------------------------------------------------------


def test_a_revoked_token_gets_401_from_every_worker(
    runtime: Runtime, client: TestClient[Any], store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    token = issue_token(runtime.settings.secret_key, Principal("ani", Role.INSPECTOR), 3600)
    other = issue_token(runtime.settings.secret_key, Principal("budi", Role.INSPECTOR), 3600)
    assert client.get("/api/v1/feed", headers=bearer(token)).status_code == 200
    second_runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        with TestClient(create_app(second_runtime, revocation_refresh_seconds=0)) as second_worker:
            assert second_worker.get("/api/v1/feed", headers=bearer(token)).status_code == 200

            jti = jwt.decode(token, options={"verify_signature": False})["jti"]
            assert revoke(runtime.engine, jti)
            assert not revoke(runtime.engine, jti)  # already revoked

            for worker in (client, second_worker):
                refused = problem(worker.get("/api/v1/feed", headers=bearer(token)), 401, "UNAUTHENTICATED")
                assert "revoked" in refused["detail"]
                assert worker.get("/api/v1/feed", headers=bearer(other)).status_code == 200
    finally:
        second_runtime.close()


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iat": int(time.time()) - DAY, "exp": int(time.time()) + 90 * DAY}, "lifetime"),
        ({"iat": int(time.time()) + 600, "exp": int(time.time()) + 3600}, "future"),
        ({"iss": "someone-else"}, "claims"),
        ({"aud": "another-api"}, "claims"),
        ({"iss": None}, "claims"),
        ({"aud": None}, "claims"),
        ({"jti": None}, "claims"),
        ({"iat": None}, "claims"),
        ({"exp": None}, "claims"),
        ({"exp": int(time.time()) - 60}, "expired"),
    ],
)
def test_tokens_that_break_a_rule_are_refused(
    runtime: Runtime, client: TestClient[Any], claims: dict[str, Any], why: str
) -> None:
    token = token_of(runtime, Role.INSPECTOR, **claims)
    refused = problem(client.get("/api/v1/feed", headers=bearer(token)), 401, "UNAUTHENTICATED")
    assert why in refused["detail"]


def test_a_token_whose_header_names_a_critical_extension_is_refused(
    runtime: Runtime, client: TestClient[Any]
) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ani", "role": "inspector", "iat": now}
    claims |= {"exp": now + 60, "jti": "c1", "x-salur": 1}
    token = jwt.encode(claims, runtime.settings.secret_key, algorithm="HS256", headers={"crit": ["x-salur"]})
    problem(client.get("/api/v1/feed", headers=bearer(token)), 401, "UNAUTHENTICATED")
    assert client.get("/api/v1/feed", headers=bearer(token_of(runtime, Role.INSPECTOR))).status_code == 200


def test_during_a_rotation_tokens_of_the_previous_secret_are_accepted(
    runtime: Runtime, client: TestClient[Any]
) -> None:
    old = issue_token(bytes.fromhex(PREVIOUS_SECRET), Principal("ani", Role.INSPECTOR), 3600)
    assert client.get("/api/v1/feed", headers=bearer(old)).status_code == 200
    new = issue_token(runtime.settings.secret_key, Principal("ani", Role.INSPECTOR), 3600)
    assert client.get("/api/v1/feed", headers=bearer(new)).status_code == 200
    stranger = issue_token(
        bytes.fromhex(generate_key_set()["secret_key"]), Principal("x", Role.INSPECTOR), 60
    )
    problem(client.get("/api/v1/feed", headers=bearer(stranger)), 401, "UNAUTHENTICATED")


# --- least privilege and the order of checks ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/feed", f"/api/v1/audit/evidence?no_kk={no_kk_of(1)}"])
def test_citizens_data_is_for_the_inspector_only(
    runtime: Runtime, client: TestClient[Any], path: str
) -> None:
    for role in (Role.ADMIN, Role.DINSOS, Role.KELURAHAN, Role.DUKCAPIL):
        kelurahan = {"kel": "32.71.03.1006"} if role is Role.KELURAHAN else {}
        refused = client.get(path, headers=bearer(token_of(runtime, role, **kelurahan)))
        problem(refused, 403, "FORBIDDEN")
    inspector = client.get(path, headers=bearer(token_of(runtime, Role.INSPECTOR)))
    assert inspector.status_code in (200, 404), inspector.text  # 404: no such household yet


def test_the_token_and_the_role_are_checked_before_the_idempotency_key_and_the_body(
    runtime: Runtime, client: TestClient[Any]
) -> None:
    inspector = bearer(token_of(runtime, Role.INSPECTOR))
    for key in ("not a valid key", "k1", "k1"):
        for body in (b"{not json", json.dumps({"code": "X"}).encode()):
            answer = client.post(
                "/api/v1/programs",
                content=body,
                headers={**inspector, "Idempotency-Key": key, "Content-Type": "application/json"},
            )
            problem(answer, 403, "FORBIDDEN")
    nobody = client.post("/api/v1/programs", content=b"{", headers={"Idempotency-Key": "not valid"})
    problem(nobody, 401, "UNAUTHENTICATED")


def test_every_error_carries_a_code(runtime: Runtime, client: TestClient[Any]) -> None:
    dinsos = bearer(token_of(runtime, Role.DINSOS))
    problem(client.get("/api/v1/feed"), 401, "UNAUTHENTICATED")
    problem(client.get("/api/v1/feed", headers={"Authorization": "Basic x"}), 401, "UNAUTHENTICATED")
    problem(client.get("/api/v1/feed", headers=dinsos), 403, "FORBIDDEN")
    problem(client.get("/api/v1/nowhere", headers=dinsos), 404, "NOT_FOUND")
    problem(client.get(f"/api/v1/households/{no_kk_of(1)}", headers=dinsos), 404, "UNKNOWN_HOUSEHOLD")
    invalid = client.post(
        "/api/v1/programs", json={"code": "X"}, headers=bearer(token_of(runtime, Role.ADMIN))
    )
    assert invalid.status_code == 422
    assert invalid.json()["code"]


# --- masking: in logs only, never in answers or request ids ------------------------------------------


def test_every_form_of_a_no_kk_the_api_accepts_is_masked_in_the_access_log(
    runtime: Runtime, client: TestClient[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    no_kk = no_kk_of(1)
    spaced = " ".join(no_kk[i : i + 4] for i in range(0, 16, 4))
    dinsos = bearer(token_of(runtime, Role.DINSOS))
    capsys.readouterr()
    for written in (no_kk, spaced, no_kk[:6] + "  " + no_kk[6:]):
        answer = client.get(f"/api/v1/households/{written}", headers=dinsos)
        problem(answer, 404, "UNKNOWN_HOUSEHOLD")  # the spaced form is the same household
    log = capsys.readouterr().err
    paths = [json.loads(line)["path"] for line in log.splitlines() if '"path"' in line]
    assert len(paths) == 3
    assert all(
        path == "/api/v1/households/" + "*" * (len(path) - len("/api/v1/households/")) for path in paths
    )
    assert no_kk[4:12] not in log
    assert spaced[5:14] not in log


def test_request_ids_and_answers_are_never_rewritten_by_the_masking(
    runtime: Runtime, client: TestClient[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    capsys.readouterr()
    request_id = "req-3271031505900001-7"
    answer = client.get(
        "/api/v1/feed",
        params={"limit": "10000000000000000000"},
        headers={
            **bearer(token_of(runtime, Role.INSPECTOR)),
            "X-Request-ID": request_id,
        },
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["x-request-id"] == request_id
    assert "*" not in answer.text  # the bound or value in the message is sent as written
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert request_id in [line.get("request_id") for line in logged]


def test_a_logged_database_error_carries_no_parameters(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    name = "Rahmat Wijaya"
    statement = text("INSERT INTO revoked_tokens (jti, revoked_ms) VALUES (:jti, :ms)")
    with runtime.engine.begin() as conn:
        conn.execute(statement, {"jti": name.replace(" ", "-"), "ms": 1})
    with pytest.raises(IntegrityError) as failed, runtime.engine.begin() as conn:
        conn.execute(statement, {"jti": name.replace(" ", "-"), "ms": 1})
    get_logger("salur_cases.test").error("request failed", exc_info=failed.value)
    output = capsys.readouterr().err
    assert "request failed" in output
    assert "SQL parameters hidden" in str(failed.value)
    assert "Rahmat-Wijaya" not in output  # PostgreSQL's own DETAIL line quotes it: left out of the log
    assert "parameters hidden" in output

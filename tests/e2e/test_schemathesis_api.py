"""Schemathesis against the served OpenAPI document, on PostgreSQL: no 5xx, no answer outside the
schema, and no request the document calls valid refused as invalid.

Every operation gets valid requests (from its schema) and invalid ones (negative mode), each sent
with a token of a role the operation allows, so the requests get past authentication and reach
validation and the handlers.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from salur_cases.api import context
from salur_cases.api.app import create_app
from salur_cases.api.auth import Principal, issue_token
from salur_cases.domain.vocabulary import Role
from salur_cases.runtime import Runtime
from tests.builders import proposal_data
from tests.e2e.test_api import PROGRAM, TAHAP, database_url

ROLE_OF = {
    "defineProgram": "admin",
    "openTahap": "admin",
    "recordPopulationMatch": "dukcapil",
    "auditBudget": "inspector",
    "auditAnomalies": "inspector",
    "auditVerify": "inspector",
    "auditEvidence": "inspector",
    "auditPayments": "inspector",
    "readFeed": "inspector",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MIN_REQUESTS = 500
STATE_DEPENDENT = {404, 409, 412, 428}
"""Refusals of a valid request that depend on what is recorded: unknown records, conflicts, versions."""
ACROSS_FIELDS = {
    ("proposeHousehold", "address"),
    ("proposeHousehold", "members"),
    ("proposeHousehold", "address.kelurahan"),
    ("openTahap", "ends_on"),
    ("allocateTahap", "authority"),
    ("allocateTahap", "no_kk"),
    ("auditEvidence", "no_kk"),
    ("auditEvidence", "program"),
    ("auditEvidence", "tahap"),
    ("auditAnomalies", "cursor"),
    ("auditAnomalies", "program"),
    ("listHouseholdEvents", "cursor"),
    ("readRoster", "cursor"),
}
"""Rules a JSON schema of one field cannot state: one field against another (a city's proposal
names an address and members; its kelurahan lies in its kecamatan; a tahap ends after it starts;
an outside list names both its authority and its households; evidence is asked for by No. KK or by
program and tahap), a cursor only a previous page gives, and a filter naming a program that must be
defined."""


@pytest.fixture
def served(postgres_url: Any, env_keys: dict[str, str]) -> Iterator[tuple[Any, Runtime]]:
    """The app on a fresh PostgreSQL schema with one program, tahap and household, and its runtime."""
    from salur_cases.projections.migrate import upgrade  # noqa: PLC0415
    from salur_cases.projections.runner import catch_up, run_forever  # noqa: PLC0415
    from salur_cases.settings import load_settings  # noqa: PLC0415

    target = type("T", (), {"url": postgres_url.url, "schema": postgres_url.schema})
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": database_url(target), **env_keys}))
    upgrade(runtime)
    app = create_app(runtime, public_burst=10_000, public_per_minute=60_000)
    secret = runtime.settings.secret_key
    with TestClient(app) as client:
        admin = {"Authorization": "Bearer " + issue_token(secret, Principal("seed", Role.ADMIN), 600)}
        dinsos = {"Authorization": "Bearer " + issue_token(secret, Principal("seed", Role.DINSOS), 600)}
        assert client.post("/api/v1/programs", json=PROGRAM, headers=admin).status_code == 201
        assert client.post("/api/v1/programs/WALIKOTA/tahap", json=TAHAP, headers=admin).status_code == 201
        assert client.post("/api/v1/households", json=proposal_data(1), headers=dinsos).status_code == 201
    catch_up(runtime)
    stop = threading.Event()
    follower = threading.Thread(target=run_forever, args=(runtime, stop), daemon=True)
    follower.start()
    try:
        yield app, runtime
    finally:
        stop.set()
        follower.join(timeout=10)
        runtime.close()


def test_generated_requests_never_get_a_5xx_or_an_answer_outside_the_schema(
    served: tuple[Any, Runtime],
) -> None:
    app, runtime = served
    secret = runtime.settings.secret_key
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    sent: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 29
    for operation in operations:
        operation_id = operation.definition.raw.get("operationId", "")
        role = Role(ROLE_OF.get(operation_id, "dinsos"))
        token = issue_token(secret, Principal("schemathesis", role), 3600)
        for mode, examples in ((GenerationMode.POSITIVE, 14), (GenerationMode.NEGATIVE, 8)):
            fuzz(operation, mode, examples, token, lambda name=operation_id: sent.update([name]))
    assert sum(sent.values()) >= MIN_REQUESTS, sent


def fuzz(operation: Any, mode: GenerationMode, examples: int, token: str, count: Any) -> None:
    """Send ``examples`` generated requests to one operation and check every answer."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call()
        count()
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing in this operation's input can be made invalid


def test_requests_the_document_calls_valid_are_never_refused_as_invalid(
    served: tuple[Any, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positive data on every operation: a 422 or 400 means the document omits a rule the server
    enforces, bar the rules across fields (``ACROSS_FIELDS``) and an import file's content."""
    app, runtime = served
    monkeypatch.setattr(context, "READ_WAIT_SECONDS", 0.05)  # a generated min_position is never reached
    secret = runtime.settings.secret_key
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    keys = itertools.count()
    refused: list[tuple[str, int, Any]] = []
    answered: Counter[int] = Counter()
    for operation in [result.ok() for result in schema.get_all_operations()]:
        operation_id = operation.definition.raw.get("operationId", "")
        role = Role(ROLE_OF.get(operation_id, "dinsos"))
        token = issue_token(secret, Principal("schemathesis", role), 3600)
        for response in send_valid(operation, token, keys, examples=12):
            answered[response.status_code] += 1
            if response.status_code < 400 or response.status_code in STATE_DEPENDENT:
                continue
            problem = response.json()
            fields = {error.get("field") for error in problem.get("errors") or []}
            across = {name for op, name in ACROSS_FIELDS if op == operation_id}
            if operation_id != "importFile" and not (fields and fields <= across):
                refused.append((operation_id, response.status_code, problem))
    assert answered[200] + answered[201] > 0, answered
    assert not refused, [
        (op, status, p.get("code"), p.get("errors") or p.get("detail")) for op, status, p in refused
    ]


def send_valid(operation: Any, token: str, keys: Iterator[int], examples: int) -> list[Any]:
    """Send ``examples`` requests the document calls valid, check each answer against the document,
    and return the answers. Each Idempotency-Key gets a fresh prefix: a key reused with another body
    is refused by design."""
    answers: list[Any] = []

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def check(case: Any) -> None:
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        if "Idempotency-Key" in headers:
            headers["Idempotency-Key"] = f"{next(keys)}-{headers['Idempotency-Key']}"[:255]
        case.headers = headers
        response = case.call()
        case.validate_response(response, checks=CHECKS)
        answers.append(response)

    check()
    return answers

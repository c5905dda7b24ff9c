"""Schemathesis against the served OpenAPI document, on PostgreSQL: no 5xx and no answer outside the schema.

Every operation gets valid requests (from its schema) and invalid ones (negative mode), each sent
with a token of a role the operation allows, so the requests get past authentication and reach
validation and the handlers.
"""

from __future__ import annotations

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
    "readFeed": "inspector",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MIN_REQUESTS = 500


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

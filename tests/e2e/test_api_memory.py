"""What a serving process keeps in memory stays at its bounds, however many households its clients name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from salur_cases.api.app import create_app
from salur_cases.api.auth import Principal, issue_token
from salur_cases.api.middleware import MAX_TARGET_CHARS
from salur_cases.api.server import (
    HELD_EVENTS_WHILE_SERVING,
    HELD_WHILE_SERVING,
    HOUSEHOLD_IDS_WHILE_SERVING,
    keep_little,
)
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import run_forever
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings
from tests.builders import no_kk_of
from tests.e2e.test_api import database_url


@pytest.fixture
def serving(store_url: Any, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """A migrated runtime bounded as a serving process is, its projections followed by a thread."""
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": database_url(store_url), **env_keys}))
    upgrade(runtime)
    keep_little(runtime)
    stop = threading.Event()
    follower = threading.Thread(target=run_forever, args=(runtime, stop), daemon=True)
    follower.start()
    yield runtime
    stop.set()
    follower.join(timeout=10)
    runtime.close()


def test_a_serving_process_keeps_households_and_their_ids_within_its_bounds(serving: Runtime) -> None:
    app = serving.app
    for n in range(HOUSEHOLD_IDS_WHILE_SERVING + 5_000):
        app.household_id(no_kk_of(n))

    assert app.remembered_household_ids == HOUSEHOLD_IDS_WHILE_SERVING
    assert (app.held.maxsize, app.held.max_events) == (HELD_WHILE_SERVING, HELD_EVENTS_WHILE_SERVING)


def test_reads_of_many_distinct_households_leave_the_remembered_ids_at_their_bound(serving: Runtime) -> None:
    serving.app.remember_household_ids(40)  # the serving bound, made small to keep the test short
    token = issue_token(serving.settings.secret_key, Principal("reader", Role.DINSOS), 600)
    with TestClient(create_app(serving)) as client:
        for n in range(200):
            response = client.get(
                f"/api/v1/households/{no_kk_of(n)}", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 404

    assert serving.app.remembered_household_ids == 40


def test_overlong_targets_are_refused_before_routing_so_litestar_remembers_none_of_them(
    serving: Runtime,
) -> None:
    app = create_app(serving)
    token = issue_token(serving.settings.secret_key, Principal("reader", Role.DINSOS), 600)
    with TestClient(app) as client:
        routed = app.asgi_router.handle_routing.cache_info().currsize  # type: ignore[attr-defined]
        for n in range(50):
            path = f"/api/v1/households/{n:0{MAX_TARGET_CHARS}d}"
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 414
            assert response.json()["code"] == "URI_TOO_LONG"
        assert app.asgi_router.handle_routing.cache_info().currsize == routed  # type: ignore[attr-defined]

"""The console over HTTP (no browser), on SQLite and PostgreSQL: roles, actions, sessions, the build gate."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from salur_cases.api.app import create_app
from salur_cases.api.console.accounts import add_user, disable_user
from salur_cases.api.console.gate import BuildGate
from salur_cases.api.console.progress import BuildProgress
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up, run_forever
from salur_cases.runtime import Runtime
from salur_cases.tables.console import console_session
from tests.builders import define_program, no_kk_of, open_tahap, register_eligible, runtime_for
from tests.conftest import StoreTarget

PASSWORD = "kata sandi yang panjang"
HOUSEHOLD = re.compile(r"/console/households/([0-9a-f]{32})")


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    rt = runtime_for(store_url.url, store_url.schema, env_keys)
    upgrade(rt)
    define_program(rt.app, "WALIKOTA")
    open_tahap(rt.app, "WALIKOTA", 1)
    register_eligible(rt.app, [1, 2])
    catch_up(rt)
    kelurahan = rt.app.household(no_kk_of(1)).address
    assert kelurahan is not None
    add_user(rt, "dinsos", Role.DINSOS, PASSWORD)
    add_user(rt, "inspektur", Role.INSPECTOR, PASSWORD)
    add_user(rt, "lurah", Role.KELURAHAN, PASSWORD, kelurahan.kelurahan)
    stop = threading.Event()
    follower = threading.Thread(target=run_forever, args=(rt, stop), daemon=True)
    follower.start()  # as `salur serve` does: the timeline follows the console's writes
    yield rt
    stop.set()
    follower.join(timeout=10)
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(runtime)) as c:
        c.follow_redirects = False
        yield c


def sign_in(client: TestClient[Any], name: str) -> str:
    """Sign in through the form; the CSRF token for the next forms."""
    client.cookies.clear()
    client.get("/console/login")
    token = client.cookies.get("salur_csrf") or ""
    answer = client.post("/console/login", data={"name": name, "password": PASSWORD, "_csrf_token": token})
    assert answer.status_code == 303, answer.text
    return token


def open_household(client: TestClient[Any], token: str, n: int) -> tuple[str, str]:
    """Find household ``n``; its page's path and HTML."""
    found = client.post("/console/search", data={"identifier": no_kk_of(n), "_csrf_token": token})
    assert found.status_code == 303, found.text
    path = found.headers["location"]
    assert HOUSEHOLD.fullmatch(path)
    return path, client.get(path).text


def version_of(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match is not None
    return match.group(1)


def test_an_officer_files_and_resolves_a_complaint_as_the_signed_in_account(client: TestClient[Any]) -> None:
    token = sign_in(client, "dinsos")
    path, html = open_household(client, token, 1)
    filed = client.post(
        f"{path}/complaints",
        data={"_csrf_token": token, "version": version_of(html), "channel": "LOKET", "text": "belum terima"},
    )
    assert filed.status_code == 303
    html = client.get(path).text
    complaint = re.search(r'/complaints/([0-9a-f]+)/resolution"', html)
    assert complaint is not None
    resolved = client.post(
        f"{path}/complaints/{complaint.group(1)}/resolution",
        data={
            "_csrf_token": token,
            "version": version_of(html),
            "outcome": "RESOLVED",
            "note": "sudah dibayar",
        },
    )
    assert resolved.status_code == 303
    html = client.get(path).text
    assert "Aduan dijawab" in html
    assert "oleh dinsos (dinsos)" in html
    assert "/resolution" not in html  # nothing left open
    assert no_kk_of(1) not in html  # the No. KK is masked
    assert client.get(f"{path}?program=&from_tahap=&to_tahap=").status_code == 200  # the form left empty
    assert client.get(f"{path}?from_tahap=x").status_code == 422
    english = client.get(f"/console/lang/en?back={path}")
    assert english.status_code == 303
    assert "A complaint was answered" in client.get(path).text


def test_roles_are_the_apis(client: TestClient[Any]) -> None:
    token = sign_in(client, "inspektur")
    path, html = open_household(client, token, 1)
    assert "Catat keputusan verval" not in html  # inspectors write nothing
    refused = client.post(
        f"{path}/verval",
        data={"_csrf_token": token, "version": "1", "decision": "ELIGIBLE", "reason": "x", "officer": "x",
              "decided_on": "2020-05-05"},
    )  # fmt: skip
    assert refused.status_code == 403
    assert client.get("/console/budget").status_code == 200

    token = sign_in(client, "lurah")
    path, html = open_household(client, token, 1)
    assert "Riwayat" not in html  # the timeline is for dinsos and inspectors, as /events
    assert client.get("/console/budget").status_code == 403
    other = client.post("/console/search", data={"identifier": no_kk_of(2), "_csrf_token": token})
    assert other.status_code == 403
    assert "bukan di kelurahan Anda" in other.text

    token = sign_in(client, "dinsos")
    other_path, _ = open_household(client, token, 2)
    sign_in(client, "lurah")
    assert client.get(other_path).status_code == 403
    assert client.get("/console/households/" + "0" * 32).status_code == 404


def test_sign_out_ends_the_session_and_a_disabled_account_is_signed_out(
    client: TestClient[Any], runtime: Runtime
) -> None:
    token = sign_in(client, "dinsos")
    assert client.get("/console/").status_code == 200
    assert client.post("/console/logout", data={"_csrf_token": token}).status_code == 303
    assert client.get("/console/").headers["location"] == "/console/login"
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(console_session)).scalar() <= 1

    token = sign_in(client, "dinsos")
    assert client.get("/console/").status_code == 200
    disable_user(runtime, "dinsos")
    assert client.get("/console/").status_code == 303
    wrong = client.post("/console/login", data={"name": "dinsos", "password": PASSWORD, "_csrf_token": token})
    assert "dinonaktifkan" in wrong.text


def test_the_build_gate_holds_back_the_data_until_the_city_is_ready(runtime: Runtime) -> None:
    progress = BuildProgress(steps=4)
    progress.begin(2, "April: lists")
    app: Any = BuildGate(create_app(runtime), progress, runtime)
    with TestClient(app) as client:
        client.follow_redirects = False
        waiting = client.get("/api/v1/audit/budget")
        assert waiting.status_code == 503
        assert waiting.headers["retry-after"] == "5"
        assert waiting.json()["code"] == "BUILDING"
        assert client.get("/health/ready").status_code == 503
        assert client.get("/health/live").status_code == 200
        page = client.get("/console/")
        assert page.status_code == 200
        assert "Kota sedang dibangun" in page.text
        assert "April: lists" in page.text
        figures = client.get("/console/progress").json()
        assert figures["step"] == 2
        assert figures["percent"] == 25
        assert not figures["ready"]
        progress.finish()
        assert client.get("/console/progress").json()["ready"]
        assert client.get("/health/ready").status_code == 200
        assert client.get("/console/").headers["location"] == "/console/login"

"""The HTTP API through a real client, on SQLite and on PostgreSQL: every endpoint, its roles, bad input,
concurrency (If-Match), idempotency, read-your-writes, problem details and the citizen self-check."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from salur_cases import wilayah
from salur_cases.api.app import create_app
from salur_cases.api.auth import Principal, issue_token
from salur_cases.domain.vocabulary import Role
from salur_cases.logging import configure_logging
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import run_forever
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings
from salur_cases.tables import api_idempotency
from tests.builders import KECAMATAN, kecamatan_of, member_data, nik_of, no_kk_of, proposal_data

PROBLEM = "application/problem+json"


def database_url(target: Any) -> str:
    """SALUR_DATABASE_URL for a StoreTarget."""
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


def kelurahan_code(n: int) -> str:
    """The kelurahan code of builder household ``n``."""
    found = wilayah.kelurahan(KECAMATAN[kecamatan_of(n)][1])
    assert found is not None
    return found.code


@dataclass
class Api:
    """A client on a live app, with tokens for every role."""

    client: TestClient[Any]
    runtime: Runtime
    secret: bytes
    tokens: dict[str, str] = field(default_factory=dict)

    def token(
        self, role: str, kelurahan: str | None = None, subject: str | None = None, ttl: int = 3600
    ) -> str:
        """A signed token."""
        return issue_token(self.secret, Principal(subject or f"test-{role}", Role(role), kelurahan), ttl)

    def auth(self, role: str, kelurahan: str | None = None, **extra: str) -> dict[str, str]:
        """Headers with a bearer token of ``role``."""
        return {"Authorization": f"Bearer {self.token(role, kelurahan)}", **extra}

    def propose(self, n: int, role: str = "dinsos", **kwargs: Any) -> Any:
        """Propose builder household ``n``."""
        return self.client.post(
            "/api/v1/households", json=proposal_data(n, **kwargs), headers=self.auth(role)
        )

    def etag(self, n: int) -> str:
        """The household's current ETag."""
        response = self.client.get(f"/api/v1/households/{no_kk_of(n)}", headers=self.auth("dinsos"))
        assert response.status_code == 200, response.text
        return response.headers["etag"]

    def write(self, n: int, action: str, body: dict[str, Any], role: str = "dinsos", **extra: str) -> Any:
        """A household write with the current ETag."""
        headers = self.auth(role, extra.pop("kelurahan", None), **{"If-Match": self.etag(n), **extra})
        return self.client.post(f"/api/v1/households/{no_kk_of(n)}/{action}", json=body, headers=headers)

    def events(self) -> int:
        """How many events the store holds."""
        return self.runtime.app.recorder.max_notification_id() or 0


@pytest.fixture
def make_runtime(store_url: Any, env_keys: dict[str, str]) -> Iterator[Any]:
    """Migrated runtimes on the test's database, with the projections followed by a background thread."""
    made: list[tuple[Runtime, threading.Event, threading.Thread]] = []

    def make() -> Runtime:
        runtime = Runtime(load_settings({"SALUR_DATABASE_URL": database_url(store_url), **env_keys}))
        upgrade(runtime)
        assert runtime.app is not None  # opened before the runner takes the read side's lock (SQLite)
        stop = threading.Event()
        thread = threading.Thread(target=run_forever, args=(runtime, stop), daemon=True)
        thread.start()
        made.append((runtime, stop, thread))
        return runtime

    yield make
    for runtime, stop, thread in made:
        stop.set()
        thread.join(timeout=10)
        runtime.close()


@pytest.fixture
def api(make_runtime: Any) -> Iterator[Api]:
    """The API on a fresh database."""
    runtime = make_runtime()
    with TestClient(create_app(runtime, public_burst=3, public_per_minute=6)) as client:
        yield Api(client, runtime, runtime.settings.secret_key)


def assert_problem(
    response: Any, status: int, code: str | None = None, field_name: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with this status (and code, and a field named in ``errors``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    if code is not None:
        assert body.get("code") == code, body
    if field_name is not None:
        assert field_name in [e["field"] for e in body["errors"]], body
    return dict(body)


PROGRAM = {"code": "WALIKOTA", "name": "Bantuan Walikota", "budget_source": "APBD_KOTA", "group": "NON_DTKS"}
TAHAP = {
    "number": 1,
    "starts_on": "2020-04-27",
    "ends_on": "2020-05-26",
    "quota": 2,
    "amount_idr": 500000,
    "budget_ceiling_idr": 1000000,
    "decree_ref": "027.45-312",
}


def open_program(api: Api, quota: int = 2) -> None:
    """WALIKOTA with tahap 1."""
    assert api.client.post("/api/v1/programs", json=PROGRAM, headers=api.auth("admin")).status_code == 201
    tahap = {**TAHAP, "quota": quota, "budget_ceiling_idr": quota * 500000}
    assert (
        api.client.post("/api/v1/programs/WALIKOTA/tahap", json=tahap, headers=api.auth("dinsos")).status_code
        == 201
    )


def make_eligible(api: Api, n: int) -> None:
    """Propose, match and verify household ``n`` through the API."""
    assert api.propose(n).status_code == 201
    assert api.write(n, "population-matches", {"result": "MATCHED"}, role="dukcapil").status_code == 200
    verval = {"decision": "ELIGIBLE", "reason": "terdampak", "officer": "petugas", "decided_on": "2020-04-24"}
    assert api.write(n, "verval", verval).status_code == 200


# --- auth -----------------------------------------------------------------------------------------


def test_tokens_are_checked_before_anything_else(api: Api) -> None:
    path = f"/api/v1/households/{no_kk_of(1)}"
    assert_problem(api.client.get(path), 401)
    assert_problem(api.client.get(path, headers={"Authorization": "Basic abc"}), 401)
    assert_problem(
        api.client.get(path, headers={"Authorization": "Bearer " + api.token("dinsos") + "x"}), 401
    )
    expired = api.token("dinsos", ttl=-10)
    assert_problem(api.client.get(path, headers={"Authorization": f"Bearer {expired}"}), 401)
    other = issue_token(bytes(range(32)), Principal("x", Role.ADMIN), 60)
    assert_problem(api.client.get(path, headers={"Authorization": f"Bearer {other}"}), 401)
    assert_problem(api.client.get(path, headers=api.auth("dinsos")), 404, "UNKNOWN_HOUSEHOLD")


def test_the_token_subject_is_the_actor_recorded_on_events(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token('dinsos', subject='siti-dinsos')}"}
    assert api.client.post("/api/v1/households", json=proposal_data(3), headers=headers).status_code == 201
    page = api.client.get(f"/api/v1/households/{no_kk_of(3)}/events", headers=api.auth("inspector")).json()
    assert {item["actor"] for item in page["items"]} == {"siti-dinsos"}
    assert {item["role"] for item in page["items"]} == {"dinsos"}


# --- programs ------------------------------------------------------------------------------------


def test_programs_and_tahap(api: Api) -> None:
    c = api.client
    response = c.post("/api/v1/programs", json=PROGRAM, headers=api.auth("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["code"] == "WALIKOTA"
    assert int(response.headers["x-salur-position"]) > 0
    assert_problem(
        c.post("/api/v1/programs", json=PROGRAM, headers=api.auth("dinsos")), 409, "PROGRAM_EXISTS"
    )
    for role in ("inspector", "kelurahan", "dukcapil"):
        assert_problem(
            c.post(
                "/api/v1/programs", json={**PROGRAM, "code": "X"}, headers=api.auth(role, "32.71.01.1001")
            ),
            403,
        )
    assert_problem(
        c.post("/api/v1/programs", json={**PROGRAM, "budget_source": "APBD"}, headers=api.auth("admin")),
        422,
        field_name="budget_source",
    )
    assert_problem(
        c.post("/api/v1/programs", json={"name": "x"}, headers=api.auth("admin")), 422, field_name="code"
    )
    assert_problem(c.post("/api/v1/programs", content=b"{not json", headers=api.auth("admin")), 422)

    response = c.post("/api/v1/programs/WALIKOTA/tahap", json=TAHAP, headers=api.auth("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["quota"] == 2
    assert_problem(
        c.post("/api/v1/programs/WALIKOTA/tahap", json=TAHAP, headers=api.auth("dinsos")), 409, "TAHAP_EXISTS"
    )
    assert_problem(
        c.post("/api/v1/programs/NOPE/tahap", json=TAHAP, headers=api.auth("dinsos")), 404, "UNKNOWN_PROGRAM"
    )
    roster_of_nul = c.get("/api/v1/programs/WALI%00KOTA/tahap/1/roster", headers=api.auth("dinsos"))
    assert_problem(roster_of_nul, 422, "INVALID_REQUEST", "code")
    assert_problem(
        c.post(
            "/api/v1/programs/WALIKOTA/tahap",
            json={**TAHAP, "number": 2, "ends_on": "2020-01-01"},
            headers=api.auth("dinsos"),
        ),
        422,
        field_name="ends_on",
    )
    assert_problem(
        c.post("/api/v1/programs/WALIKOTA/tahap", json={**TAHAP, "quota": -1}, headers=api.auth("dinsos")),
        422,
        field_name="quota",
    )
    assert_problem(c.post("/api/v1/programs/WALIKOTA/tahap", json=TAHAP, headers=api.auth("inspector")), 403)


def test_allocation_payments_certification_and_roster(api: Api) -> None:
    open_program(api, quota=2)
    for n in (1, 2, 3):
        make_eligible(api, n)
    c, path = api.client, "/api/v1/programs/WALIKOTA/tahap/1"
    assert_problem(c.post(f"{path}/allocations", json={}, headers=api.auth("admin")), 403)
    response = c.post(f"{path}/allocations", json={}, headers=api.auth("dinsos"))
    assert response.status_code == 200, response.text
    assert response.json() == {"assigned": 2, "left_out": 1, "cutoff": 2, "warnings": []}
    assert_problem(
        c.post(f"{path}/allocations", json={"authority": "KEMENSOS"}, headers=api.auth("dinsos")),
        422,
        field_name="no_kk",
    )
    assert_problem(
        c.post("/api/v1/programs/WALIKOTA/tahap/9/allocations", json={}, headers=api.auth("dinsos")),
        404,
        "UNKNOWN_TAHAP",
    )

    roster = c.get(f"{path}/roster", headers=api.auth("inspector")).json()
    assert sorted(i["no_kk"] for i in roster["items"]) == sorted([no_kk_of(1), no_kk_of(2)])
    first = c.get(f"{path}/roster?limit=1", headers=api.auth("dinsos")).json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    second = c.get(
        f"{path}/roster", params={"limit": 1, "cursor": first["next_cursor"]}, headers=api.auth("dinsos")
    )
    assert second.json()["items"][0]["no_kk"] != first["items"][0]["no_kk"]
    assert_problem(c.get(f"{path}/roster?limit=501", headers=api.auth("dinsos")), 422, field_name="limit")
    assert_problem(c.get(f"{path}/roster", headers=api.auth("kelurahan", kelurahan_code(1))), 403)

    payments = {
        "items": [
            {
                "no_kk": no_kk_of(1),
                "amount_idr": 500000,
                "paid_at": "2020-05-02T10:00",
                "status": "PAID",
                "reference": "P1",
            },
            {
                "no_kk": no_kk_of(3),
                "amount_idr": 500000,
                "paid_at": "2020-05-02T10:00",
                "status": "PAID",
                "reference": "P3",
            },
            {
                "no_kk": no_kk_of(2),
                "amount_idr": 900000,
                "paid_at": "2020-05-02T10:00",
                "status": "PAID",
                "reference": "P2",
            },
        ]
    }
    response = c.post(f"{path}/payments", json=payments, headers=api.auth("dinsos"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (1, "NOT_ASSIGNED"),
        (2, "AMOUNT_ABOVE_TAHAP"),
    ]
    assert_problem(
        c.post(
            f"{path}/payments",
            json={"items": [{**payments["items"][0], "no_kk": "123"}]},
            headers=api.auth("dinsos"),
        ),
        422,
        field_name="items[0].no_kk",
    )
    assert_problem(c.post(f"{path}/payments", json=payments, headers=api.auth("inspector")), 403)
    states = {
        i["no_kk"]: i["state"] for i in c.get(f"{path}/roster", headers=api.auth("dinsos")).json()["items"]
    }
    assert states == {no_kk_of(1): "PAID", no_kk_of(2): "ASSIGNED"}

    response = c.post(f"{path}/certification", json={}, headers=api.auth("dinsos"))
    assert response.status_code == 201, response.text
    assert response.json()["households"] == 2
    assert set(response.json()["chain_head"]) == {"position", "hash"}
    assert_problem(
        c.post(f"{path}/certification", json={}, headers=api.auth("dinsos")), 409, "TAHAP_CERTIFIED"
    )
    assert_problem(c.post(f"{path}/allocations", json={}, headers=api.auth("dinsos")), 409, "TAHAP_CERTIFIED")


def test_an_outside_roster_is_recorded_with_warnings(api: Api) -> None:
    open_program(api, quota=5)
    assert api.propose(4).status_code == 201
    path = "/api/v1/programs/WALIKOTA/tahap/1/allocations"
    assert_problem(
        api.client.post(path, json={"effective_on": "2020-05-01"}, headers=api.auth("dinsos")),
        422,
        field_name="effective_on",
    )
    body = {"authority": "KEMENSOS", "no_kk": [no_kk_of(4), no_kk_of(5)], "effective_on": "2020-05-01"}
    response = api.client.post(path, json=body, headers=api.auth("dinsos"))
    assert response.status_code == 200, response.text
    assert response.json()["assigned"] == 2
    assert {w["code"] for w in response.json()["warnings"]} >= {"NOT_MATCHED"}
    created = api.client.get(f"/api/v1/households/{no_kk_of(5)}", headers=api.auth("dinsos")).json()
    assert created["sources"][0]["kind"] == "KEMENSOS"
    events = api.client.get(
        f"/api/v1/households/{no_kk_of(4)}/events", params={"limit": 500}, headers=api.auth("dinsos")
    ).json()["items"]
    seats = [e for e in events if e["type"] == "household.Assigned"]
    assert [(e["effective_on"], e["data"]["effective_on"]) for e in seats] == [("2020-05-01", "2020-05-01")]


def test_a_roster_longer_than_the_json_body_limit_is_taken_whole(api: Api) -> None:
    open_program(api, quota=2000)
    no_kks = [no_kk_of(n) for n in range(1, 1501)]  # about 30 KB of JSON, over the 16 KiB of other routes
    body = {"authority": "KEMENSOS", "no_kk": no_kks}
    response = api.client.post(
        "/api/v1/programs/WALIKOTA/tahap/1/allocations", json=body, headers=api.auth("dinsos")
    )
    assert response.status_code == 200, response.text
    assert response.json()["assigned"] == len(no_kks)
    too_long = {**PROGRAM, "name": "x" * 20_000}
    assert_problem(api.client.post("/api/v1/programs", json=too_long, headers=api.auth("admin")), 413)


# --- households ----------------------------------------------------------------------------------


def test_propose_and_read_a_household(api: Api) -> None:
    response = api.propose(1)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/api/v1/households/{no_kk_of(1)}"
    assert int(response.headers["x-salur-position"]) > 0
    assert api.propose(1).status_code == 200  # re-proposed
    view = api.client.get(f"/api/v1/households/{no_kk_of(1)}", headers=api.auth("inspector"))
    assert view.status_code == 200
    assert view.headers["etag"] == f'"{view.json()["version"]}"'
    assert set(view.json()) >= {
        "no_kk",
        "version",
        "address",
        "members",
        "sources",
        "padan",
        "verval",
        "programs",
        "removals",
    }
    assert view.json()["members"][0]["nik"] == nik_of(1)
    past = api.client.get(
        f"/api/v1/households/{no_kk_of(1)}", params={"as_of": "2000-01-01"}, headers=api.auth("dinsos")
    )
    assert_problem(past, 404, "UNKNOWN_HOUSEHOLD")
    effective = api.client.get(
        f"/api/v1/households/{no_kk_of(1)}", params={"effective_on": "2099-01-01"}, headers=api.auth("dinsos")
    )
    assert effective.status_code == 200
    assert "etag" not in effective.headers
    assert_problem(
        api.client.get(f"/api/v1/households/{no_kk_of(1)}?as_of=yesterday", headers=api.auth("dinsos")),
        422,
        field_name="as_of",
    )
    for role in ("admin", "dukcapil"):
        assert_problem(api.client.get(f"/api/v1/households/{no_kk_of(1)}", headers=api.auth(role)), 403)


def test_bad_input_is_422_naming_the_field_and_never_echoes_a_nik_or_name(api: Api) -> None:
    data = proposal_data(1)
    data["members"][0]["nik"] = "3271010101800000"  # serial 0000: never issued
    response = api.client.post("/api/v1/households", json=data, headers=api.auth("dinsos"))
    body = assert_problem(response, 422, field_name="members[0].nik")
    assert "3271010101800000" not in response.text
    data = proposal_data(1)
    data["members"][0]["name"] = ""
    assert_problem(
        api.client.post("/api/v1/households", json=data, headers=api.auth("dinsos")),
        422,
        field_name="members[0].name",
    )
    data = proposal_data(1)
    data["address"]["kelurahan"] = "Atlantis"
    assert_problem(
        api.client.post("/api/v1/households", json=data, headers=api.auth("dinsos")),
        422,
        field_name="address.kelurahan",
    )
    data = proposal_data(1)
    data["members"][0]["birth_date"] = "15-07-1975"
    assert_problem(
        api.client.post("/api/v1/households", json=data, headers=api.auth("dinsos")),
        422,
        field_name="members[0].birth_date",
    )
    data = proposal_data(1)
    del data["source"]
    assert_problem(
        api.client.post("/api/v1/households", json=data, headers=api.auth("dinsos")), 422, field_name="source"
    )
    assert_problem(
        api.client.get("/api/v1/households/12345", headers=api.auth("dinsos")), 422, field_name="no_kk"
    )
    assert_problem(api.client.post("/api/v1/households", json=[1, 2], headers=api.auth("dinsos")), 422)
    assert body["title"] == "Unprocessable Entity"


def test_a_nik_in_another_household_is_a_409(api: Api) -> None:
    assert api.propose(1).status_code == 201
    data = proposal_data(2)
    data["members"].append(member_data(1, 0))
    response = api.client.post("/api/v1/households", json=data, headers=api.auth("dinsos"))
    assert_problem(response, 409, "NIK_IN_OTHER_HOUSEHOLD")
    assert nik_of(1) not in response.text


def test_kelurahan_operators_stay_in_their_kelurahan(api: Api) -> None:
    own, other = kelurahan_code(1), kelurahan_code(2)
    assert own != other
    response = api.client.post(
        "/api/v1/households", json=proposal_data(1), headers=api.auth("kelurahan", own)
    )
    assert response.status_code == 201, response.text
    assert_problem(
        api.client.post("/api/v1/households", json=proposal_data(2), headers=api.auth("kelurahan", own)),
        403,
        "OUTSIDE_KELURAHAN",
    )
    assert api.propose(2).status_code == 201
    path = f"/api/v1/households/{no_kk_of(2)}"
    assert (
        api.client.get(f"/api/v1/households/{no_kk_of(1)}", headers=api.auth("kelurahan", own)).status_code
        == 200
    )
    assert_problem(api.client.get(path, headers=api.auth("kelurahan", own)), 403, "OUTSIDE_KELURAHAN")
    assert_problem(api.client.get(f"{path}/explain", headers=api.auth("kelurahan", own)), 403)
    assert_problem(
        api.client.post("/api/v1/lookup", json={"nik": nik_of(2)}, headers=api.auth("kelurahan", own)), 403
    )
    verval = {"decision": "ELIGIBLE", "reason": "terdampak", "officer": "petugas", "decided_on": "2020-04-24"}
    assert_problem(api.write(2, "verval", verval, role="kelurahan", kelurahan=own), 403, "OUTSIDE_KELURAHAN")
    assert_problem(
        api.write(2, "complaints", {"channel": "WA", "text": "x"}, role="kelurahan", kelurahan=own), 403
    )
    assert api.write(1, "verval", verval, role="kelurahan", kelurahan=own).status_code == 200
    assert (
        api.write(
            1, "complaints", {"channel": "WA", "text": "x"}, role="kelurahan", kelurahan=own
        ).status_code
        == 201
    )
    assert_problem(
        api.write(
            1,
            "removals",
            {"program": "X", "tahap": 1, "authority": "A", "reason": "r", "decree_ref": "d"},
            role="kelurahan",
            kelurahan=own,
        ),
        403,
    )


def test_household_writes_need_a_current_if_match(api: Api) -> None:
    assert api.propose(1).status_code == 201
    path = f"/api/v1/households/{no_kk_of(1)}/verval"
    verval = {"decision": "ELIGIBLE", "reason": "terdampak", "officer": "petugas", "decided_on": "2020-04-24"}
    before = api.events()
    assert_problem(api.client.post(path, json=verval, headers=api.auth("dinsos")), 428)
    assert_problem(api.client.post(path, json={}, headers=api.auth("dinsos")), 428)  # before the body is read
    assert_problem(api.client.post(path, json=verval, headers=api.auth("dinsos", **{"If-Match": '"7"'})), 412)
    assert_problem(
        api.client.post(path, json=verval, headers=api.auth("dinsos", **{"If-Match": "nonsense"})), 412
    )
    assert api.events() == before
    response = api.client.post(path, json=verval, headers=api.auth("dinsos", **{"If-Match": '"1"'}))
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"' == f'"{response.json()["version"]}"'
    assert response.json()["verval"]["decision"] == "ELIGIBLE"
    assert (
        api.client.post(path, json=verval, headers=api.auth("dinsos", **{"If-Match": "*"})).status_code == 200
    )
    assert_problem(
        api.client.post(path, json=verval, headers=api.auth("inspector", **{"If-Match": "*"})), 403
    )
    assert_problem(
        api.client.post(
            path, json={**verval, "decision": "MAYBE"}, headers=api.auth("dinsos", **{"If-Match": "*"})
        ),
        422,
        field_name="decision",
    )
    unknown = f"/api/v1/households/{no_kk_of(9)}/verval"
    assert_problem(
        api.client.post(unknown, json=verval, headers=api.auth("dinsos", **{"If-Match": "*"})),
        404,
        "UNKNOWN_HOUSEHOLD",
    )


def test_every_decision_on_a_household(api: Api) -> None:
    open_program(api, quota=2)
    api.client.post(
        "/api/v1/programs",
        json={**PROGRAM, "code": "BLT", "budget_source": "APBN"},
        headers=api.auth("dinsos"),
    )
    make_eligible(api, 1)
    assert api.propose(2).status_code == 201
    assert_problem(api.write(1, "population-matches", {"result": "MATCHED"}), 403)  # dinsos: not dukcapil
    assert_problem(
        api.write(1, "population-matches", {"result": "PERHAPS"}, role="dukcapil"), 422, field_name="result"
    )
    assert (
        api.client.post(
            "/api/v1/programs/WALIKOTA/tahap/1/allocations", json={}, headers=api.auth("dinsos")
        ).json()["assigned"]
        == 1
    )

    removal = {
        "program": "WALIKOTA",
        "tahap": 1,
        "authority": "KEMENSOS",
        "reason": "tidak padan",
        "decree_ref": "KEP-1",
        "effective_on": "2020-05-01",
    }
    response = api.write(1, "removals", removal)
    assert response.status_code == 200, response.text
    assert response.json()["removals"][0]["authority"] == "KEMENSOS"
    assert_problem(api.write(1, "removals", {**removal, "program": "NOPE"}), 404, "UNKNOWN_PROGRAM")
    assert_problem(api.write(1, "removals", removal, role="inspector"), 403)
    reinstatement = {"program": "WALIKOTA", "tahap": 1, "authority": "DINSOS", "reason": "sanggahan"}
    assert api.write(1, "reinstatements", reinstatement).status_code == 200
    assert_problem(api.write(2, "reinstatements", reinstatement), 409, "NOT_REMOVED")
    transfer = {
        "from_program": "WALIKOTA",
        "from_tahap": 1,
        "to_program": "BLT",
        "authority": "DINSOS",
        "reason": "kuota",
    }
    response = api.write(1, "transfers", transfer)
    assert response.status_code == 200, response.text
    assert response.json()["removals"][-1]["to_program"] == "BLT"
    response = api.write(1, "corrections", {"field": "address.rt", "new_value": "009", "evidence": "KK baru"})
    assert response.status_code == 200, response.text
    assert response.json()["address"]["rt"] == "009"
    assert_problem(
        api.write(1, "corrections", {"field": "members[9].name", "new_value": "x", "evidence": "e"}), 422
    )
    response = api.write(
        1,
        "member-moves",
        {"nik": nik_of(1, 1), "to_no_kk": no_kk_of(2), "reason": "pindah", "evidence": "KK"},
    )
    assert response.status_code == 200, response.text
    assert [m["nik"] for m in response.json()["members"]] == [nik_of(1, 0)]
    assert_problem(
        api.write(
            1, "member-moves", {"nik": nik_of(1, 1), "to_no_kk": no_kk_of(2), "reason": "r", "evidence": "e"}
        ),
        404,
    )

    response = api.write(1, "complaints", {"channel": "WHATSAPP", "text": "belum diterima"})
    assert response.status_code == 201, response.text
    complaint = response.json()["complaint_id"]
    assert response.headers["etag"]
    response = api.write(1, f"complaints/{complaint}/resolution", {"outcome": "RESOLVED", "note": "dibayar"})
    assert response.status_code == 200, response.text
    assert response.json()["complaints"][0]["outcome"] == "RESOLVED"
    assert_problem(api.write(1, "complaints/nope/resolution", {"outcome": "RESOLVED", "note": "n"}), 404)
    assert_problem(
        api.write(
            1,
            f"complaints/{complaint}/resolution",
            {"outcome": "R", "note": "n"},
            role="kelurahan",
            kelurahan=kelurahan_code(1),
        ),
        403,
    )


def test_events_explain_and_lookup(api: Api) -> None:
    open_program(api, quota=1)
    make_eligible(api, 1)
    make_eligible(api, 2)
    api.client.post("/api/v1/programs/WALIKOTA/tahap/1/allocations", json={}, headers=api.auth("dinsos"))
    path = f"/api/v1/households/{no_kk_of(2)}"
    page = api.client.get(f"{path}/events", params={"limit": 2}, headers=api.auth("inspector")).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    assert set(page["items"][0]) >= {
        "position",
        "event_id",
        "type",
        "recorded_at",
        "effective_on",
        "actor",
        "role",
        "data",
    }
    rest = api.client.get(
        f"{path}/events", params={"limit": 500, "cursor": page["next_cursor"]}, headers=api.auth("dinsos")
    ).json()
    assert (
        rest["items"][-1]["type"] == "household.LeftOut"
    )  # read-your-writes: the allocation is already there
    left_out = rest["items"][-1]
    assert (left_out["no_kk"], left_out["program"], left_out["tahap"]) == (no_kk_of(2), "WALIKOTA", 1)
    assert page["items"][0]["no_kk"] == no_kk_of(2)
    assert page["items"][0]["program"] is None
    assert_problem(api.client.get(f"{path}/events", headers=api.auth("kelurahan", kelurahan_code(2))), 403)
    assert_problem(
        api.client.get(f"/api/v1/households/{no_kk_of(7)}/events", headers=api.auth("dinsos")), 404
    )

    explained = api.client.get(
        f"{path}/explain",
        params={"program": "WALIKOTA", "lang": "en"},
        headers=api.auth("kelurahan", kelurahan_code(2)),
    )
    assert explained.status_code == 200, explained.text
    assert explained.json()["outcome"] == "NEVER_RECEIVED"
    assert explained.json()["reasons"][0]["code"] == "QUOTA_EXHAUSTED"
    assert_problem(
        api.client.get(f"{path}/explain?lang=fr", headers=api.auth("dinsos")), 422, field_name="lang"
    )
    assert_problem(
        api.client.get(f"{path}/explain?program=NOPE", headers=api.auth("dinsos")), 404, "UNKNOWN_PROGRAM"
    )
    assert_problem(api.client.get(f"{path}/explain", headers=api.auth("dukcapil")), 403)
    reversed_range = {"program": "WALIKOTA", "from_tahap": 2, "to_tahap": 1}
    assert_problem(
        api.client.get(f"{path}/explain", params=reversed_range, headers=api.auth("dinsos")),
        422,
        "INVALID_REQUEST",
        field_name="from_tahap",
    )
    unknown_tahap = {"program": "WALIKOTA", "from_tahap": 3, "to_tahap": 4}
    assert_problem(
        api.client.get(f"{path}/explain", params=unknown_tahap, headers=api.auth("dinsos")),
        422,
        "UNKNOWN_TAHAP",
        field_name="from_tahap",
    )
    assert_problem(
        api.client.get("/api/v1/households/3271019999999999/explain", headers=api.auth("dinsos")),
        422,
        "INVALID_REQUEST",
    )
    pdf = api.client.get(
        f"{path}/letter",
        params={"program": "WALIKOTA", "lang": "en"},
        headers=api.auth("kelurahan", kelurahan_code(2)),
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert_problem(api.client.get(f"{path}/letter", headers=api.auth("dukcapil")), 403)
    assert_problem(api.client.get(f"{path}/letter", headers=api.auth("kelurahan", kelurahan_code(3))), 403)

    found = api.client.post("/api/v1/lookup", json={"nik": nik_of(2, 1)}, headers=api.auth("inspector"))
    assert found.status_code == 200, found.text
    assert found.json()["no_kk"] == no_kk_of(2)
    assert found.json()["household"]["no_kk"] == no_kk_of(2)
    assert_problem(
        api.client.post("/api/v1/lookup", json={"nik": nik_of(8)}, headers=api.auth("dinsos")), 404
    )
    response = api.client.post(
        "/api/v1/lookup", json={"nik": "32710101018000001"}, headers=api.auth("dinsos")
    )
    assert_problem(response, 422, field_name="nik")
    assert "32710101018000001" not in response.text
    assert_problem(
        api.client.post("/api/v1/lookup", json={"nik": nik_of(2)}, headers=api.auth("dukcapil")), 403
    )


def test_two_officers_with_the_same_etag_one_wins_one_gets_412(api: Api) -> None:
    assert api.propose(1).status_code == 201
    etag = api.etag(1)
    before = api.events()
    barrier = threading.Barrier(2)
    results: list[int] = []
    verval = {"decision": "ELIGIBLE", "reason": "terdampak", "officer": "petugas", "decided_on": "2020-04-24"}

    def officer(name: str) -> None:
        headers = {"Authorization": f"Bearer {api.token('dinsos', subject=name)}", "If-Match": etag}
        barrier.wait()
        results.append(
            api.client.post(
                f"/api/v1/households/{no_kk_of(1)}/verval", json=verval, headers=headers
            ).status_code
        )

    threads = [threading.Thread(target=officer, args=(f"officer-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 412]
    assert api.events() == before + 1
    assert api.etag(1) == '"2"'


# --- idempotency ---------------------------------------------------------------------------------


def test_a_replayed_post_returns_the_first_answer_and_writes_nothing(api: Api, make_runtime: Any) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.client.post("/api/v1/households", json=proposal_data(1), headers=api.auth("dinsos", **key))
    assert first.status_code == 201
    written = api.events()
    again = api.client.post("/api/v1/households", json=proposal_data(1), headers=api.auth("dinsos", **key))
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-salur-position"] == first.headers["x-salur-position"]
    assert again.headers["idempotent-replayed"] == "true"
    assert api.events() == written
    with api.runtime.engine.connect() as conn:
        stored = [bytes(row.response) for row in conn.execute(select(api_idempotency))]
    assert len(stored) == 1
    assert nik_of(1).encode() not in stored[0]
    assert no_kk_of(1).encode() not in stored[0]
    reordered = dict(reversed(list(proposal_data(1).items())))
    assert (
        api.client.post("/api/v1/households", json=reordered, headers=api.auth("dinsos", **key)).status_code
        == 201
    )
    assert api.events() == written

    other = api.client.post("/api/v1/households", json=proposal_data(2), headers=api.auth("dinsos", **key))
    assert_problem(other, 422, field_name="Idempotency-Key")
    assert api.events() == written
    # the same key from another principal is another key
    assert (
        api.client.post(
            "/api/v1/households",
            json=proposal_data(2),
            headers=api.auth("kelurahan", kelurahan_code(2), **key),
        ).status_code
        == 201
    )

    # a new process (another worker, or after a restart) replays it too
    with TestClient(create_app(make_runtime())) as restarted:
        replay = restarted.post(
            "/api/v1/households", json=proposal_data(1), headers=api.auth("dinsos", **key)
        )
        assert (replay.status_code, replay.content) == (201, first.content)


def test_refusals_are_replayed_and_failures_release_the_key(api: Api) -> None:
    key = {"Idempotency-Key": "program-1"}
    assert api.client.post("/api/v1/programs", json=PROGRAM, headers=api.auth("admin")).status_code == 201
    refused = api.client.post("/api/v1/programs", json=PROGRAM, headers=api.auth("admin", **key))
    assert_problem(refused, 409, "PROGRAM_EXISTS")
    assert (
        api.client.post("/api/v1/programs", json=PROGRAM, headers=api.auth("admin", **key)).content
        == refused.content
    )
    assert api.propose(1).status_code == 201
    verval = {"decision": "ELIGIBLE", "reason": "r", "officer": "o", "decided_on": "2020-04-24"}
    path, key = f"/api/v1/households/{no_kk_of(1)}/verval", {"Idempotency-Key": "verval-1"}
    assert_problem(
        api.client.post(path, json=verval, headers=api.auth("dinsos", **key, **{"If-Match": '"9"'})), 412
    )
    done = api.client.post(path, json=verval, headers=api.auth("dinsos", **key, **{"If-Match": '"1"'}))
    assert done.status_code == 200, done.text
    assert_problem(
        api.client.post(
            "/api/v1/programs", json=PROGRAM, headers=api.auth("admin", **{"Idempotency-Key": "x" * 300})
        ),
        422,
        field_name="Idempotency-Key",
    )


# --- imports -------------------------------------------------------------------------------------


def test_imports_over_http(api: Api) -> None:
    csv = (
        "no_kk,nik,nama,hubungan,kecamatan,kelurahan,rw,rt,sumber\n"
        f"{no_kk_of(1)},{nik_of(1)},Budi Santoso,KEPALA KELUARGA,Bogor Selatan,Batutulis,1,2,KELURAHAN\n"
        f"{no_kk_of(2)},123,Siti,KEPALA KELUARGA,Bogor Selatan,Batutulis,1,2,KELURAHAN\n"
    ).encode()
    files = {"file": ("daftar.csv", io.BytesIO(csv), "text/csv")}
    assert_problem(
        api.client.post("/api/v1/imports/registrations", files=files, headers=api.auth("dukcapil")), 403
    )
    files = {"file": ("daftar.csv", io.BytesIO(csv), "text/csv")}
    dry = api.client.post(
        "/api/v1/imports/registrations?dry_run=true", files=files, headers=api.auth("dinsos")
    )
    assert dry.status_code == 200, dry.text
    assert api.events() == 0
    files = {"file": ("daftar.csv", io.BytesIO(csv), "text/csv")}
    response = api.client.post("/api/v1/imports/registrations", files=files, headers=api.auth("dinsos"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["accepted"], report["already_imported"]) == (2, 1, False)
    assert report["rejected"][0]["code"] == "BAD_NIK"
    assert "123" not in json.dumps(report["rejected"][0]["message"])
    assert api.client.get(f"/api/v1/households/{no_kk_of(1)}", headers=api.auth("dinsos")).status_code == 200
    files = {"file": ("daftar.csv", io.BytesIO(csv), "text/csv")}
    again = api.client.post("/api/v1/imports/registrations", files=files, headers=api.auth("dinsos")).json()
    assert again["already_imported"] is True
    assert_problem(api.client.post("/api/v1/imports/registrations", headers=api.auth("dinsos")), 422)
    assert_problem(
        api.client.post(
            "/api/v1/imports/bananas",
            files={"file": ("a.csv", io.BytesIO(b"x"), "text/csv")},
            headers=api.auth("dinsos"),
        ),
        422,
        field_name="kind",
    )
    population = (
        "nik,no_kk,nama,tanggal_lahir,status,ektp,kelurahan\n"
        f"{nik_of(1)},{no_kk_of(1)},Budi Santoso,1980-01-15,HIDUP,Y,Batutulis\n"
    ).encode()
    response = api.client.post(
        "/api/v1/imports/population",
        headers=api.auth("dukcapil"),
        files={"file": ("penduduk.csv", io.BytesIO(population), "text/csv")},
    )
    assert response.status_code == 200, response.text


# --- inspectors ----------------------------------------------------------------------------------


def test_audit_and_feed(api: Api) -> None:
    open_program(api, quota=2)
    make_eligible(api, 1)
    api.client.post("/api/v1/programs/WALIKOTA/tahap/1/allocations", json={}, headers=api.auth("dinsos"))
    for role in ("inspector", "admin"):
        budget = api.client.get("/api/v1/audit/budget", headers=api.auth(role))
        assert budget.status_code == 200, budget.text
        assert budget.json()["items"][0]["assigned"] == 1
        verify = api.client.get("/api/v1/audit/verify", headers=api.auth(role)).json()
        assert verify["ok"] is True
        assert verify["head"]["position"] == api.events()
        anomalies = api.client.get("/api/v1/audit/anomalies", params={"limit": 10}, headers=api.auth(role))
        assert anomalies.status_code == 200, anomalies.text
    for role in ("dinsos", "dukcapil"):
        for path in (
            "/api/v1/audit/budget",
            "/api/v1/audit/verify",
            "/api/v1/audit/anomalies",
            "/api/v1/feed",
        ):
            assert_problem(api.client.get(path, headers=api.auth(role)), 403)

    evidence = api.client.get(
        "/api/v1/audit/evidence", params={"no_kk": no_kk_of(1)}, headers=api.auth("inspector")
    )
    assert evidence.status_code == 200, evidence.text
    assert evidence.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in evidence.text.splitlines()]
    assert len(lines) >= 4
    tahap = api.client.get(
        "/api/v1/audit/evidence", params={"program": "WALIKOTA", "tahap": 1}, headers=api.auth("inspector")
    )
    assert tahap.status_code == 200
    assert tahap.text.strip()
    assert_problem(api.client.get("/api/v1/audit/evidence", headers=api.auth("inspector")), 422)
    assert_problem(
        api.client.get(
            "/api/v1/audit/evidence", params={"no_kk": no_kk_of(5)}, headers=api.auth("inspector")
        ),
        404,
    )

    page = api.client.get("/api/v1/feed", params={"limit": 3}, headers=api.auth("inspector")).json()
    assert [i["position"] for i in page["items"]] == [1, 2, 3]
    assert page["next_after"] == 3
    rest = api.client.get(
        "/api/v1/feed", params={"after": 3, "limit": 500}, headers=api.auth("inspector")
    ).json()
    assert rest["items"][-1]["position"] == api.events() == rest["next_after"]
    assert all("no_kk" in i and "program" in i and "tahap" in i for i in rest["items"])
    opened = next(i for i in page["items"] + rest["items"] if i["type"] == "program.TahapOpened")
    assert (opened["program"], opened["tahap"], opened["no_kk"]) == ("WALIKOTA", 1, None)
    assigned = next(i for i in rest["items"] if i["type"] == "household.Assigned")
    assert assigned["no_kk"]
    assert assigned["program"] == "WALIKOTA"
    assert_problem(
        api.client.get("/api/v1/feed?after=-1", headers=api.auth("inspector")), 422, field_name="after"
    )


def test_anomaly_filters_and_the_payment_ledger(api: Api) -> None:
    open_program(api, quota=2)
    make_eligible(api, 1)
    api.client.post("/api/v1/programs/WALIKOTA/tahap/1/allocations", json={}, headers=api.auth("dinsos"))
    items = [
        {"no_kk": no_kk_of(1), "amount_idr": 400000, "paid_at": "2020-05-02T10:00:00", "status": "PAID",
         "reference": "=HYPERLINK(1)"},
    ]  # fmt: skip
    paid = api.client.post(
        "/api/v1/programs/WALIKOTA/tahap/1/payments", json={"items": items}, headers=api.auth("dinsos")
    )
    assert paid.status_code == 200, paid.text
    inspector = api.auth("inspector")

    found = api.client.get(
        "/api/v1/audit/anomalies",
        params={"code": "AMOUNT_MISMATCH", "budget_source": "APBD_KOTA", "program": "WALIKOTA", "tahap": 1},
        headers=inspector,
    )
    assert found.status_code == 200, found.text
    (finding,) = found.json()["items"]
    assert (finding["severity"], finding["amount_idr"], finding["no_kk"]) == ("MEDIUM", 400000, no_kk_of(1))
    assert finding["detail"]["outside_authority"] is False
    none = api.client.get("/api/v1/audit/anomalies", params={"authority": "KEMENSOS"}, headers=inspector)
    assert none.json()["items"] == []
    assert_problem(
        api.client.get("/api/v1/audit/anomalies", params={"code": "NOPE"}, headers=inspector),
        422,
        field_name="code",
    )
    assert_problem(
        api.client.get("/api/v1/audit/anomalies", params={"budget_source": "APBX"}, headers=inspector),
        422,
        field_name="budget_source",
    )

    ledger = api.client.get("/api/v1/audit/payments", params={"program": "WALIKOTA"}, headers=inspector)
    assert ledger.status_code == 200, ledger.text
    assert ledger.json() == {
        "items": [
            {"reference": "=HYPERLINK(1)", "paid_on": "2020-05-02", "amount_idr": 400000, "status": "PAID",
             "program": "WALIKOTA", "tahap": 1, "budget_source": "APBD_KOTA", "no_kk": no_kk_of(1)}
        ],
        "next_cursor": None,
    }  # fmt: skip
    budget = api.client.get("/api/v1/audit/budget", headers=inspector).json()
    assert sum(r["paid_idr"] for r in budget["items"]) == 400000
    assert budget["chain_head"]["position"] == api.events()
    for role in ("admin", "dinsos"):
        assert_problem(api.client.get("/api/v1/audit/payments", headers=api.auth(role)), 403)
    assert_problem(
        api.client.get("/api/v1/audit/payments", params={"cursor": "x"}, headers=inspector),
        422,
        field_name="cursor",
    )


# --- the citizen ---------------------------------------------------------------------------------


def test_the_citizen_self_check(make_runtime: Any) -> None:
    runtime = make_runtime()
    with TestClient(create_app(runtime, public_burst=20)) as client:
        api = Api(client, runtime, runtime.settings.secret_key)
        open_program(api, quota=1)
        make_eligible(api, 1)
        client.post("/api/v1/programs/WALIKOTA/tahap/1/allocations", json={}, headers=api.auth("dinsos"))
        data = proposal_data(1)
        member = data["members"][1]
        own = client.post(
            "/api/v1/public/status", json={"nik": member["nik"], "name": member["name"].upper()}
        )
        assert own.status_code == 200, own.text
        body = own.json()
        assert set(body) == {"status", "masked_name", "program", "tahap", "reason", "next_step"}
        assert "Bantuan Walikota" in body["reason"]
        assert (body["status"], body["program"], body["tahap"]) == ("RECEIVING", "WALIKOTA", 1)
        assert member["name"] not in own.text
        assert member["nik"] not in own.text
        assert no_kk_of(1) not in own.text
        wrong_name = client.post("/api/v1/public/status", json={"nik": member["nik"], "name": "Orang Lain"})
        unknown = client.post("/api/v1/public/status", json={"nik": nik_of(50), "name": member["name"]})
        assert wrong_name.status_code == unknown.status_code == 200
        assert wrong_name.content == unknown.content
        assert unknown.json() == {
            "status": "NOT_FOUND",
            "masked_name": None,
            "program": None,
            "tahap": None,
            "reason": None,
            "next_step": None,
        }
        assert set(wrong_name.headers) == set(unknown.headers)
        assert_problem(
            client.post("/api/v1/public/status", json={"nik": member["nik"]}), 422, field_name="name"
        )
        response = client.post("/api/v1/public/status", json={"nik": "12", "name": "x"})
        assert_problem(response, 422, field_name="nik")


def test_the_self_check_is_rate_limited_per_address(api: Api) -> None:
    body = {"nik": nik_of(1), "name": "Siapa Saja"}
    statuses = [api.client.post("/api/v1/public/status", json=body).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.client.post("/api/v1/public/status", json=body)
    assert_problem(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1


# --- health, logs, schema ------------------------------------------------------------------------


def test_health(api: Api) -> None:
    assert api.client.get("/health/live").json() == {"status": "ok"}
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] is True
    api.client.app.state["ctx"].max_ready_lag = -1
    not_ready = api.client.get("/health/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["status"] == "not_ready"


def test_the_access_log_has_a_request_id_and_no_identifier(
    api: Api, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("json")
    capsys.readouterr()
    response = api.client.get(
        f"/api/v1/households/{no_kk_of(1)}", headers=api.auth("dinsos", **{"X-Request-ID": "req-123"})
    )
    assert response.headers["x-request-id"] == "req-123"
    generated = api.client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32
    api.client.post("/api/v1/lookup", json={"nik": nik_of(1)}, headers=api.auth("dinsos"))
    logged = capsys.readouterr().err
    # Each access line is one JSON object; another thread of the test process may have written to
    # stderr just before it without a newline, so a line is read from its first brace.
    lines = [json.loads(line[line.index("{") :]) for line in logged.splitlines() if "{" in line]
    access = [line for line in lines if line.get("logger") == "salur_cases.api.access"]
    request_ids = {r.msg["request_id"] for r in caplog.records if r.name == "salur_cases.api.access"}
    assert {"req-123", generated.headers["x-request-id"]} <= request_ids
    assert {line["request_id"] for line in access} <= request_ids
    assert any(
        line["path"] == "/api/v1/households/****************" and line["status"] == 404 for line in access
    )
    assert no_kk_of(1) not in logged
    assert nik_of(1) not in logged

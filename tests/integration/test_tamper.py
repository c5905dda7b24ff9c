# ruff: noqa: S608 - the tamperer builds SQL on the events table by name, on purpose
"""Tamper evidence: rows edited, deleted, inserted or reordered directly in the database are detected.

Each test builds a small certified tahap with payments through the application, then changes the
events table with SQL behind the application's back (on SQLite and on PostgreSQL) and asks
`salur_cases.projections.audit.verify` for the first broken position.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from salur_cases.api.app import create_app
from salur_cases.api.auth import Principal, issue_token
from salur_cases.cli import main
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household import Household
from salur_cases.domain.program import Program
from salur_cases.domain.vocabulary import Role
from salur_cases.identifiers import NoKK
from salur_cases.processes import allocation, disbursement, programs
from salur_cases.projections.audit import verify
from salur_cases.projections.audit.verification import parse_head
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from salur_cases.store import signing
from salur_cases.store.chain import GENESIS, link_hash
from salur_cases.store.keys import public_key_hex, signing_key
from tests.builders import DINSOS, define_program, name_of, no_kk_of, open_tahap, payment, register_eligible

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tests.conftest import StoreTarget


class Database:
    """Raw SQL on the events table, bypassing the application (the tamperer's view)."""

    def __init__(self, target: StoreTarget, runtime: Runtime) -> None:
        self.target = target
        self.table = runtime.app.recorder.events_table_name  # type: ignore[attr-defined]

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor in one committed transaction; `?` placeholders on both databases."""
        if self.target.kind == "sqlite":
            with closing(sqlite3.connect(self.target.url.removeprefix("sqlite:///"))) as conn, conn:
                yield conn.cursor()
            return
        with psycopg.connect(self.target.url, autocommit=False) as pg, pg.cursor() as pg_cursor:
            pg_cursor.execute(f'SET search_path TO "{self.target.schema}"')
            yield _Qmark(pg_cursor)

    def row(self, position: int) -> tuple[Any, ...]:
        """(originator_id, originator_version, topic, state, chain_hash) at a position."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT originator_id, originator_version, topic, state, chain_hash FROM {self.table} "
                "WHERE notification_id = ?",
                (position,),
            )
            oid, version, topic, state, digest = cur.fetchone()
        return oid, version, topic, bytes(state), bytes(digest)

    def positions(self, topic: str) -> list[int]:
        """Positions of the rows with this topic."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT notification_id FROM {self.table} WHERE topic = ? ORDER BY notification_id", (topic,)
            )
            return [r[0] for r in cur.fetchall()]

    def set_state(self, position: int, state: bytes) -> None:
        """UPDATE one row's state."""
        with self.cursor() as cur:
            cur.execute(f"UPDATE {self.table} SET state = ? WHERE notification_id = ?", (state, position))

    def delete(self, position: int) -> None:
        """DELETE one row."""
        with self.cursor() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE notification_id = ?", (position,))

    def insert_copy(self, position: int, source: int, *, chain_hash: bytes | None = None) -> None:
        """INSERT a forged row at `position`: another row's contents under a new version."""
        with self.cursor() as cur:
            cur.execute(
                f"INSERT INTO {self.table} "
                "(notification_id, originator_id, originator_version, topic, state, chain_hash) "
                "SELECT ?, originator_id, originator_version + 1000, topic, state, "
                f"COALESCE(?, chain_hash) FROM {self.table} WHERE notification_id = ?",
                (position, chain_hash, source),
            )

    def swap(self, a: int, b: int) -> None:
        """Swap two rows' notification ids (unique on both databases, hence three steps)."""
        with self.cursor() as cur:
            for old, new in ((a, -1), (b, a), (-1, b)):
                cur.execute(
                    f"UPDATE {self.table} SET notification_id = ? WHERE notification_id = ?", (new, old)
                )

    def renumber(self) -> None:
        """Close the gaps deleted rows left: every row moved down to follow the one before it."""
        with self.cursor() as cur:
            cur.execute(f"SELECT notification_id FROM {self.table} ORDER BY notification_id")
            positions = [r[0] for r in cur.fetchall()]
            for new, old in enumerate(positions, start=1):
                if new != old:
                    cur.execute(
                        f"UPDATE {self.table} SET notification_id = ? WHERE notification_id = ?", (new, old)
                    )

    def rechain(self) -> None:
        """What a tamperer who knows the encoding does next: recompute every chain hash."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state FROM {self.table} "
                "ORDER BY notification_id"
            )
            rows = cur.fetchall()
            prev = GENESIS
            for position, oid, version, topic, state in rows:
                prev = link_hash(
                    prev, position, oid if isinstance(oid, UUID) else UUID(oid), version, topic, bytes(state)
                )
                cur.execute(
                    f"UPDATE {self.table} SET chain_hash = ? WHERE notification_id = ?", (prev, position)
                )


class _Qmark:
    """psycopg's cursor taking `?` placeholders."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.cursor.execute(sql.replace("?", "%s"), params)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> Any:
        return self.cursor.fetchall()


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """A store with a certified tahap of 4 households, 3 of them paid (about 40 events)."""
    url = f"{store_url.url}?schema={store_url.schema}" if store_url.schema else store_url.url
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": url, **env_keys}))
    app = rt.app
    define_program(app, "WALIKOTA")
    open_tahap(app, "WALIKOTA", 1, quota=4)
    register_eligible(app, range(6))
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    programs.certify(app, "WALIKOTA", 1, DINSOS)
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(0), payment(1), payment(2)], DINSOS)
    yield rt
    rt.close()


@pytest.fixture
def db(store_url: StoreTarget, runtime: Runtime) -> Database:
    """The tamperer's SQL access to the same store."""
    return Database(store_url, runtime)


def _last(runtime: Runtime) -> int:
    return int(runtime.app.recorder.max_notification_id() or 0)


def test_an_untouched_store_verifies_and_names_its_head(runtime: Runtime) -> None:
    result = verify(runtime)

    last = _last(runtime)
    assert result.ok is True
    assert result.first_broken is None
    assert result.checked == last
    assert result.rosters == 1
    assert result.head.position == last
    assert len(result.head.hash) == 64
    assert verify(runtime, f"{last}:{result.head.hash}").ok is True


def test_updating_a_rows_state_is_detected_at_that_position(runtime: Runtime, db: Database) -> None:
    position = db.positions(Household.PaymentRecorded.TOPIC)[0]
    state = db.row(position)[3]
    db.set_state(position, state.replace(b"500000", b"900000"))

    result = verify(runtime)

    assert result.ok is False
    assert result.first_broken.position == position
    assert result.checked == position - 1


def test_deleting_a_row_is_detected_where_it_is_missing(runtime: Runtime, db: Database) -> None:
    position = db.positions(Household.Assigned.TOPIC)[1]
    db.delete(position)

    result = verify(runtime)

    assert result.ok is False
    assert result.first_broken.position == position
    assert "missing" in result.first_broken.reason


def test_inserting_a_forged_row_is_detected(runtime: Runtime, db: Database) -> None:
    forged = _last(runtime) + 1
    db.insert_copy(forged, db.positions(Household.PaymentRecorded.TOPIC)[0])

    result = verify(runtime)

    assert result.ok is False
    assert result.first_broken.position == forged


def test_swapping_two_rows_notification_ids_is_detected(runtime: Runtime, db: Database) -> None:
    first = db.positions(Household.PaymentRecorded.TOPIC)[0]
    db.swap(first, first + 1)

    result = verify(runtime)

    assert result.ok is False
    assert result.first_broken.position == first


def test_a_store_cut_short_is_detected_only_against_a_remembered_head(runtime: Runtime, db: Database) -> None:
    head = verify(runtime).head
    remembered = f"{head.position}:{head.hash}"
    db.delete(head.position)

    assert verify(runtime).ok is True  # the blind spot: a shorter chain is still a valid chain
    result = verify(runtime, remembered)

    assert result.ok is False
    assert result.first_broken.position == head.position
    assert "ends" in result.first_broken.reason


def test_a_rewritten_and_rechained_store_differs_from_a_remembered_head(
    runtime: Runtime, db: Database
) -> None:
    head = verify(runtime).head
    position = db.positions(Household.PaymentRecorded.TOPIC)[-1]
    db.set_state(position, db.row(position)[3].replace(b"500000", b"400000"))
    db.rechain()

    assert verify(runtime).ok is True
    result = verify(runtime, f"{head.position}:{head.hash}")

    assert result.first_broken.position == head.position


def test_a_rechained_roster_change_breaks_the_certified_roster(runtime: Runtime, db: Database) -> None:
    seats = db.positions(Program.SeatsCommitted.TOPIC)[0]
    state = db.row(seats)[3]
    start = state.index(b'"households":[') + len(b'"households":[')
    first_id_end = state.index(b",", start)
    db.set_state(seats, state[:start] + state[first_id_end + 1 :])  # one household fewer
    db.rechain()

    result = verify(runtime)

    certified = db.positions(Program.TahapCertified.TOPIC)[0]
    assert result.ok is False
    assert result.first_broken.position == certified
    assert "roster" in result.first_broken.reason


def test_a_head_is_position_and_64_hex_digits() -> None:
    assert parse_head("12:" + "ab" * 32).position == 12
    for bad in ("12", "x:" + "ab" * 32, "12:abc"):
        with pytest.raises(InvalidCommand):
            parse_head(bad)


def test_a_rewrite_before_a_certification_differs_from_the_head_it_embeds(
    runtime: Runtime, db: Database
) -> None:
    certified = db.positions(Program.TahapCertified.TOPIC)[0]
    anchor = certified - 1  # the certification embeds the head just before it
    proposal = db.positions(Household.Proposed.TOPIC)[0]
    db.set_state(proposal, db.row(proposal)[3].replace(b"KELURAHAN", b"KEMENSOS"))
    db.rechain()

    result = verify(runtime)

    assert result.ok is False
    assert result.first_broken.position == anchor
    assert str(certified) in result.first_broken.reason


# --- signed heads: what a database writer cannot forge ---------------------------------------------


@pytest.fixture
def signed(
    store_url: StoreTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """The store of `runtime` and three households registered after its certification, with a
    checkpoint signed every 5 events (read models migrated and current)."""
    monkeypatch.setattr(signing, "CHECKPOINT_EVENTS", 5)
    url = f"{store_url.url}?schema={store_url.schema}" if store_url.schema else store_url.url
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": url, **env_keys}))
    upgrade(rt)
    app = rt.app
    define_program(app, "WALIKOTA")
    open_tahap(app, "WALIKOTA", 1, quota=4)
    register_eligible(app, range(6))
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    programs.certify(app, "WALIKOTA", 1, DINSOS)
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(0), payment(1), payment(2)], DINSOS)
    register_eligible(app, range(6, 9))  # after the certification: only signatures protect these
    catch_up(rt)
    yield rt
    rt.close()


def _public_key(env_keys: dict[str, str]) -> Ed25519PublicKey:
    return signing_key(bytes.fromhex(env_keys["SALUR_SIGNING_KEY"])).public_key()


def test_an_untouched_store_has_every_head_signed_and_verified(
    signed: Runtime, env_keys: dict[str, str]
) -> None:
    result = verify(signed, public_key=_public_key(env_keys))

    assert result.ok is True, result.first_broken
    assert result.signatures >= 3  # the certification's, and checkpoints after writes of 5 events or more


def test_a_name_changed_and_the_chain_recomputed_is_caught_by_the_signatures(
    signed: Runtime, env_keys: dict[str, str], store_url: StoreTarget
) -> None:
    db = Database(store_url, signed)
    position = db.positions(Household.Proposed.TOPIC)[7]
    state = db.row(position)[3]
    name = name_of(7).encode()
    assert name in state
    db.set_state(position, state.replace(name, b"Nama Palsu"))
    db.rechain()  # with the project's own link_hash: the chain alone says intact

    assert verify(signed).ok is True
    result = verify(signed, public_key=_public_key(env_keys))

    broken = result.first_broken
    assert result.ok is False
    last_valid = max(p for p in db.positions(signing.HEAD_SIGNED) if p < position)
    assert last_valid - 5 <= broken.position <= position  # just after the head that last head signed
    assert "not covered by a valid signature" in broken.reason
    assert "names another hash" in broken.reason


def test_heads_deleted_with_the_chain_recomputed_leave_the_store_unsigned(
    signed: Runtime, env_keys: dict[str, str], store_url: StoreTarget
) -> None:
    db = Database(store_url, signed)
    certified = db.positions(Program.TahapCertified.TOPIC)[0]
    later = [p for p in db.positions(signing.HEAD_SIGNED) if p > certified + 1]
    assert later
    for position in reversed(later):  # every head but the certification's own
        db.delete(position)
    db.renumber()
    db.rechain()

    assert verify(signed).ok is True
    result = verify(signed, public_key=_public_key(env_keys))

    assert result.ok is False
    assert result.first_broken.position == certified + 1  # the certification's head covers it
    assert "follow the last signed head" in result.first_broken.reason


def test_heads_are_checked_against_the_given_public_key(signed: Runtime) -> None:
    stranger = Ed25519PrivateKey.generate().public_key()

    result = verify(signed, public_key=stranger)

    assert result.ok is False
    assert result.first_broken.position == 1
    assert "another key" in result.first_broken.reason


def test_a_payment_citing_another_roster_is_broken_at_that_payment(
    signed: Runtime, store_url: StoreTarget
) -> None:
    db = Database(store_url, signed)
    position = db.positions(Household.PaymentRecorded.TOPIC)[1]
    state = db.row(position)[3]
    certified = re.search(rb'"roster_hash":"([0-9a-f]{64})"', state)
    assert certified is not None
    db.set_state(position, state.replace(certified.group(1), b"0" * 64))
    db.rechain()

    result = verify(signed)

    assert result.ok is False
    assert result.first_broken.position == position
    assert "does not cite the certified roster of WALIKOTA tahap 1" in result.first_broken.reason


def test_the_first_broken_position_names_its_household_program_tahap_and_time(
    signed: Runtime, store_url: StoreTarget
) -> None:
    db = Database(store_url, signed)
    position = db.positions(Household.PaymentRecorded.TOPIC)[0]
    db.set_state(position, db.row(position)[3].replace(b"500000", b"900000"))

    broken = verify(signed).first_broken

    assert broken.position == position
    assert broken.household == no_kk_of(0)
    assert broken.program == "WALIKOTA"
    assert broken.tahap == 1
    assert broken.type == "household.PaymentRecorded"
    assert datetime.fromisoformat(broken.recorded_at).tzinfo is not None


def test_audit_verify_with_a_public_key_file_names_the_forgery(
    signed: Runtime,
    env_keys: dict[str, str],
    store_url: StoreTarget,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = Database(store_url, signed)
    position = db.positions(Household.Proposed.TOPIC)[8]
    db.set_state(position, db.row(position)[3].replace(name_of(8).encode(), b"Nama Palsu"))
    db.rechain()
    key_file = tmp_path / "salur-signing.pub"
    key_file.write_text(public_key_hex(_public_key(env_keys)) + "\n", encoding="utf-8")
    url = f"{store_url.url}?schema={store_url.schema}" if store_url.schema else store_url.url
    monkeypatch.setenv("SALUR_DATABASE_URL", url)
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        code = main(["audit", "verify", "--public-key", str(key_file)])
    finally:
        reset_settings_cache()
    printed = capsys.readouterr().out

    assert code == 1
    assert printed.startswith("chain BROKEN at position ")
    assert "not covered by a valid signature" in printed


def test_get_audit_verify_names_the_household_in_full_to_inspectors_and_masked_to_admins(
    signed: Runtime, store_url: StoreTarget
) -> None:
    db = Database(store_url, signed)
    position = db.positions(Household.PaymentRecorded.TOPIC)[0]
    db.set_state(position, db.row(position)[3].replace(b"500000", b"900000"))
    secret = signed.settings.secret_key

    with TestClient(create_app(signed)) as client:
        answers = {
            role: client.get(
                "/api/v1/audit/verify",
                headers={"Authorization": f"Bearer {issue_token(secret, Principal('t', role), 600)}"},
            ).json()
            for role in (Role.INSPECTOR, Role.ADMIN)
        }

    for answer in answers.values():
        assert answer["ok"] is False
        assert answer["first_broken"]["position"] == position
        assert answer["first_broken"]["program"] == "WALIKOTA"
        assert answer["first_broken"]["tahap"] == 1
        assert answer["first_broken"]["recorded_at"]
    assert answers[Role.INSPECTOR]["first_broken"]["household"] == no_kk_of(0)
    assert answers[Role.ADMIN]["first_broken"]["household"] == NoKK(no_kk_of(0)).masked()
    assert no_kk_of(0) not in json.dumps(answers[Role.ADMIN])

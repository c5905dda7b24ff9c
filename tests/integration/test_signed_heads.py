"""Signed chain heads are written inside the writes they sign (`salur_cases.store.signing`), on SQLite
and on PostgreSQL: the head is the write's last row, signing the row just before it, and concurrent
writers never sign with the same Notary version."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from salur_cases.processes import registration
from salur_cases.store import signing
from salur_cases.store.chain import GENESIS, link_hash
from tests.builders import KELURAHAN, proposal, runtime_for

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from salur_cases.application import SalurApplication
    from salur_cases.runtime import Runtime
    from tests.conftest import StoreTarget

EVERY = 5
"""Rows after the last signed head that make a write sign a checkpoint, in these tests."""


@pytest.fixture
def runtime(
    store_url: StoreTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """A runtime whose writes sign a checkpoint every `EVERY` rows."""
    monkeypatch.setattr(signing, "CHECKPOINT_EVENTS", EVERY)
    rt = runtime_for(store_url.url, store_url.schema, env_keys)
    yield rt
    rt.close()


def chain(app: SalurApplication) -> list[Any]:
    """Every stored row in notification order."""
    return app.chained.select_chain(1, 100_000)


def heads(app: SalurApplication) -> list[tuple[int, signing.Notary.HeadSigned]]:
    """(row, event) of every signed head."""
    return [
        (row.notification_id, app.mapper.to_domain_event(row))  # type: ignore[misc]
        for row in chain(app)
        if row.topic == signing.HEAD_SIGNED
    ]


def public_key(app: SalurApplication) -> Ed25519PublicKey:
    """The key that checks the application's signatures."""
    signer: signing.HeadSigner = app.recorder.head_signer  # type: ignore[attr-defined]
    return signer.key.public_key()


def test_a_write_of_a_checkpoint_or_more_ends_with_its_head_signed(runtime: Runtime) -> None:
    app = runtime.app
    registration.register_many(app, [proposal(n) for n in range(3)], KELURAHAN)  # 3 x 3 events

    rows = chain(app)
    [(at, head)] = heads(app)

    assert at == len(rows)  # the write's last row
    assert head.position == at - 1  # signs the row just before it
    assert head.hash == rows[at - 2].chain_hash.hex()
    assert head.reason == signing.CHECKPOINT
    assert signing.signature_holds(public_key(app), head)
    prev = GENESIS
    for row in rows:  # the head is chained like any other row
        prev = link_hash(
            prev, row.notification_id, row.originator_id, row.originator_version, row.topic, row.state
        )
        assert prev == row.chain_hash


def test_writes_below_a_checkpoint_sign_once_the_rows_since_the_last_head_reach_it(runtime: Runtime) -> None:
    app = runtime.app
    registration.register(app, proposal(0), KELURAHAN)  # 3 rows: no head yet
    assert heads(app) == []

    registration.register(app, proposal(1), KELURAHAN)  # rows 4-6: 6 >= 5 since none
    [(first, _)] = heads(app)
    registration.register(app, proposal(2), KELURAHAN)  # rows 8-10: 3 after the head's row
    registration.register(app, proposal(3), KELURAHAN)  # rows 11-13: 6 after it

    assert [at for at, _ in heads(app)] == [first, first + 7]
    assert [e.originator_version for _, e in heads(app)] == [1, 2]


def test_a_head_that_cannot_be_signed_leaves_the_write_standing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = runtime.app
    signer: signing.HeadSigner = app.recorder.head_signer  # type: ignore[attr-defined]

    def broken(_: bytes) -> bytes:
        raise ValueError

    with monkeypatch.context() as patch:
        patch.setattr(signer, "key", type("Broken", (), {"sign": staticmethod(broken)})())
        registration.register_many(app, [proposal(n) for n in range(3)], KELURAHAN)
    assert heads(app) == []
    assert len(chain(app)) == 9

    registration.register(app, proposal(3), KELURAHAN)  # the next write signs

    [(at, head)] = heads(app)
    assert at == 13
    assert head.position == 12


def test_writers_in_threads_each_sign_under_the_lock_with_versions_in_order(
    store_url: StoreTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "CHECKPOINT_EVENTS", 1)  # every write signs its head
    runtimes = [runtime_for(store_url.url, store_url.schema, env_keys) for _ in range(3)]
    barrier = threading.Barrier(len(runtimes))
    errors: list[BaseException] = []

    def write(rt: Runtime, share: range) -> None:
        barrier.wait()
        try:
            for n in share:
                registration.register(rt.app, proposal(n), KELURAHAN)
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(rt, range(i, 30, len(runtimes))))
        for i, rt in enumerate(runtimes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app = runtimes[0].app
    signed = heads(app)
    key = public_key(app)
    for rt in runtimes:
        rt.close()

    assert errors == []
    assert len(signed) == 30  # one per write
    assert [e.originator_version for _, e in signed] == list(range(1, 31))
    assert all(e.position == at - 1 and signing.signature_holds(key, e) for at, e in signed)

"""Keys derived with HKDF, values sealed with AES-GCM, and the public keys that check signed heads."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from salur_cases.store.keys import (
    EVENT_STORE,
    READ_MODELS,
    EventCipher,
    Sealer,
    UnusableKey,
    derive_key,
    event_store_key,
    load_public_key,
    public_key_hex,
    seal,
    unseal,
)
from salur_cases.store.sealed import SEALED_FIELD, joined, split

SECRET = bytes(range(32))


def test_derive_key_is_rfc_5869_hkdf_sha256() -> None:
    # RFC 5869, test case 3 (SHA-256, no salt, no info): the first 32 bytes of its 42-byte OKM
    assert derive_key(b"\x0b" * 22, b"") == bytes.fromhex(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
    )


def test_the_event_store_and_the_read_models_get_their_own_keys_neither_a_bare_hash() -> None:
    store, models = derive_key(SECRET, EVENT_STORE), derive_key(SECRET, READ_MODELS)
    assert store != models
    assert hashlib.sha256(SECRET).digest() not in (store, models)
    assert base64.b64decode(event_store_key(SECRET)) == store


def test_a_sealed_value_opens_only_with_its_key_and_never_repeats() -> None:
    sealer = Sealer(derive_key(SECRET, READ_MODELS))
    first, second = seal(sealer, b"3271010101150001"), seal(sealer, b"3271010101150001")
    assert first != second
    assert b"3271010101150001" not in first
    assert unseal(sealer, first) == b"3271010101150001"
    with pytest.raises(UnusableKey):
        unseal(Sealer(derive_key(b"x" * 32, READ_MODELS)), first)
    with pytest.raises(UnusableKey):
        unseal(sealer, first[:-1] + bytes([first[-1] ^ 1]))
    with pytest.raises(UnusableKey, match="SALUR_ENCRYPTION_KEY"):
        unseal(None, first)
    assert unseal(None, seal(None, b"plain")) == b"plain"


def test_a_document_keeps_its_public_fields_and_seals_its_personal_ones() -> None:
    sealer = Sealer(derive_key(SECRET, READ_MODELS))
    document = {"program": "WALIKOTA", "tahap": 2, "no_kk": "3271010101150001", "members": [{"name": "Siti"}]}
    stored = split(sealer, document)
    assert stored["program"] == "WALIKOTA"
    assert stored["tahap"] == 2
    assert set(stored) == {"program", "tahap", SEALED_FIELD}
    assert "3271010101150001" not in str(stored)
    assert "Siti" not in str(stored)
    assert joined(sealer, stored) == document
    assert split(None, document) is document


def test_public_keys_are_read_as_pem_hex_or_base64() -> None:
    private = Ed25519PrivateKey.generate()
    raw = bytes.fromhex(public_key_hex(private))
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    for text in (raw.hex(), base64.b64encode(raw).decode(), pem):
        assert public_key_hex(load_public_key(text)) == raw.hex()
    with pytest.raises(UnusableKey):
        load_public_key("not a key")


def test_the_event_cipher_reads_and_writes_the_librarys_aes_gcm_format() -> None:
    env = Environment(env={"CIPHER_KEY": event_store_key(SECRET)})
    ours, library = EventCipher(env), AESCipher(env)
    assert library.decrypt(ours.encrypt(b"payload")) == b"payload"
    assert ours.decrypt(library.encrypt(b"payload")) == b"payload"
    with pytest.raises(ValueError, match="cipher"):
        ours.decrypt(ours.encrypt(b"payload")[:-1] + b"!")

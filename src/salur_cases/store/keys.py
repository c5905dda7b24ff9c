"""Keys derived from the project's secrets, and the ciphers and signatures they serve.

`SALUR_ENCRYPTION_KEY` is a secret, not a key: HKDF-SHA-256 (RFC 5869) derives one AES-256 key per
use from it, so the event store and the read models never share a key, and a key leaked from one use
says nothing about the other. `SALUR_SIGNING_KEY` is an Ed25519 private key (a 32-byte seed) that
signs chain heads; only its public key is needed to check them, so the database never holds it.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

EVENT_STORE = b"salur-cases/event-store/aes-256-gcm/v1"
"""HKDF `info` of the key that encrypts stored event states (eventsourcing's `AESCipher`)."""
READ_MODELS = b"salur-cases/read-models/aes-256-gcm/v1"
"""HKDF `info` of the key that encrypts the personal columns of the read models."""

_NONCE = 12
_PLAIN, _SEALED = b"\x00", b"\x01"


class UnusableKey(ValueError):
    """A key or sealed value that cannot be used; the message says which."""


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for `purpose` (an HKDF `info` above) from the secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Sealer:
    """AES-256-GCM for single values of the read models, a fresh 96-bit random nonce per value."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, data: bytes) -> bytes:
        """`0x01`, the nonce, then the ciphertext with its tag."""
        nonce = os.urandom(_NONCE)
        return _SEALED + nonce + self._aead.encrypt(nonce, data, None)

    def open(self, data: bytes) -> bytes:
        """The plaintext of a sealed value; `UnusableKey` when another key sealed it."""
        try:
            return self._aead.decrypt(data[1 : 1 + _NONCE], data[1 + _NONCE :], None)
        except InvalidTag:
            raise UnusableKey("a sealed read-model value does not open with SALUR_ENCRYPTION_KEY") from None


def seal(sealer: Sealer | None, data: bytes) -> bytes:
    """The stored form of `data`: sealed when there is a sealer, else marked plain."""
    return sealer.seal(data) if sealer is not None else _PLAIN + data


def unseal(sealer: Sealer | None, stored: bytes) -> bytes:
    """The plaintext of a stored value written by :func:`seal`."""
    stored = bytes(stored)
    if stored[:1] == _PLAIN:
        return stored[1:]
    if sealer is None:
        raise UnusableKey("the read models are encrypted: set SALUR_ENCRYPTION_KEY")
    return sealer.open(stored)


def read_model_sealer(secret: bytes | None) -> Sealer | None:
    """The sealer of the read models for an encryption secret (None: stored plain)."""
    return Sealer(derive_key(secret, READ_MODELS)) if secret else None


class EventCipher(AESCipher):
    """eventsourcing's AES-GCM cipher and format (nonce, tag, ciphertext), with one AESGCM object
    made once: the library makes one per event, which costs as much as encrypting a payload."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._aead = AESGCM(self.key)

    def encrypt(self, plaintext: bytes) -> bytes:
        """A random 96-bit nonce, the 16-byte tag, then the ciphertext."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext, None)
        return nonce + sealed[-16:] + sealed[:-16]

    def decrypt(self, ciphertext: bytes) -> bytes:
        """The plaintext; ValueError for a damaged ciphertext or another key (as the library's)."""
        if len(ciphertext) < _NONCE + 16:
            raise ValueError("Damaged cipher text: too short")
        try:
            return self._aead.decrypt(
                ciphertext[:_NONCE], ciphertext[_NONCE + 16 :] + ciphertext[_NONCE : _NONCE + 16], None
            )
        except InvalidTag as error:
            raise ValueError("Invalid cipher tag") from error


EVENT_CIPHER_TOPIC = "salur_cases.store.keys:EventCipher"
"""eventsourcing's `CIPHER_TOPIC` for :class:`EventCipher`."""


def event_store_key(secret: bytes) -> str:
    """The event store's AES key as eventsourcing's `CIPHER_KEY` takes it (base64)."""
    return base64.b64encode(derive_key(secret, EVENT_STORE)).decode("ascii")


# --- signing chain heads -----------------------------------------------------------------------------


def signing_key(seed: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key of a 32-byte seed (`SALUR_SIGNING_KEY`)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key as 64 hex digits (what `--public-key` files may hold)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM block, 64 hex digits or base64 of the 32 raw bytes."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(key, Ed25519PublicKey):
                raise UnusableKey("the public key is not an Ed25519 key")
            return key
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)  # noqa: PLR2004
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error) as error:
        if isinstance(error, UnusableKey):
            raise
        raise UnusableKey(
            "the public key must be PEM, 64 hex digits or base64 of 32 bytes (Ed25519)"
        ) from None

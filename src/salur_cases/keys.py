"""The process's secrets: how they are written, checked, generated and kept beside a SQLite database.

Four secrets, each at least 32 random bytes written as hex (64 digits) or base64: ``SALUR_ID_KEY``
(keyed hashes of NIK and No. KK), ``SALUR_SECRET_KEY`` (signs API tokens), ``SALUR_ENCRYPTION_KEY``
(the secret the encryption keys are derived from) and ``SALUR_SIGNING_KEY`` (an Ed25519 private key,
its 32-byte seed). A secret that is too short, visibly not random, or equal to another is refused with
a message naming its variable, never its value. ``salur keys generate`` prints a fresh set.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "KEY_VARIABLES",
    "MIN_KEY_BYTES",
    "BadKey",
    "decode_secret",
    "generate_key_set",
    "keys_command",
    "keys_file_for",
    "read_keys_file",
    "require_distinct",
    "signing_public_key",
    "write_keys_file",
]

MIN_KEY_BYTES = 32
SIGNING_SEED_BYTES = 32
KEY_VARIABLES = {
    "id_key": "SALUR_ID_KEY",
    "secret_key": "SALUR_SECRET_KEY",
    "encryption_key": "SALUR_ENCRYPTION_KEY",
    "signing_key": "SALUR_SIGNING_KEY",
}
"""Each secret's name in the settings and in the ``.keys`` file, and its environment variable."""
_MIN_DISTINCT_BYTES = 12
"""32 random bytes hold about 30 distinct values; fewer than 12 means a pattern, not randomness."""
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_GENERATE_HINT = "run `salur keys generate` for a fresh set"


class BadKey(ValueError):
    """A secret that cannot be used; the message names its variable, never its value."""


def decode_secret(variable: str, text: str, *, exact: int | None = None) -> bytes:
    """The raw bytes of a secret written as hex or base64 (standard or URL-safe, padding optional)."""
    text = text.strip()
    raw: bytes | None = None
    if _HEX.fullmatch(text):
        raw = bytes.fromhex(text)
    else:
        padded = text + "=" * (-len(text) % 4)
        for alphabet in (b"+/", b"-_"):
            with contextlib.suppress(binascii.Error, ValueError):
                raw = base64.b64decode(padded, altchars=alphabet, validate=True)
                break
    if raw is None:
        raise BadKey(
            f"{variable} must be at least {MIN_KEY_BYTES} random bytes written as hex (64 digits) or base64; "
            + _GENERATE_HINT
        )
    if len(raw) < MIN_KEY_BYTES:
        raise BadKey(
            f"{variable} must be at least {MIN_KEY_BYTES} random bytes (64 hex digits); {_GENERATE_HINT}"
        )
    if exact is not None and len(raw) != exact:
        raise BadKey(f"{variable} must be exactly {exact} bytes (an Ed25519 seed); {_GENERATE_HINT}")
    if len(set(raw)) < _MIN_DISTINCT_BYTES:
        raise BadKey(f"{variable} is not random (it repeats a pattern); {_GENERATE_HINT}")
    return raw


def require_distinct(named: dict[str, bytes]) -> None:
    """Refuse two variables holding the same secret (``named`` maps variable to raw secret)."""
    seen: dict[bytes, str] = {}
    for variable, raw in named.items():
        if raw in seen:
            raise BadKey(f"{variable} must differ from {seen[raw]}: every secret has its own value")
        seen[raw] = variable


def encode_secret(raw: bytes) -> str:
    """How a generated secret is written: lower-case hex."""
    return raw.hex()


def generate_key_set() -> dict[str, str]:
    """A fresh set of the four secrets, keyed as in :data:`KEY_VARIABLES`, each written as hex."""
    return {name: encode_secret(secrets.token_bytes(MIN_KEY_BYTES)) for name in KEY_VARIABLES}


def signing_public_key(seed: bytes) -> bytes:
    """The raw Ed25519 public key of a signing seed (what verifiers are given)."""
    return (
        Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def keys_file_for(db_path: Path) -> Path:
    """Where the generated keys of the SQLite database ``db_path`` are kept."""
    return db_path.with_name(db_path.name + ".keys")


def read_keys_file(path: Path) -> dict[str, str]:
    """The secrets a ``.keys`` file holds (empty when there is none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise BadKey(f"cannot read the keys file {path}: restore it, or set the variables") from exc
    if not isinstance(data, dict):
        raise BadKey(f"the keys file {path} is not a JSON object")
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def write_keys_file(path: Path, keys: dict[str, str]) -> dict[str, str]:
    """Create ``path`` (mode 0600) holding ``keys``, unless another process just did: then its keys win."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(keys, handle)
        try:
            os.link(tmp, path)  # atomic create-if-absent: two first runs keep one set of keys
        except FileExistsError:
            return read_keys_file(path)
        return keys
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def keys_command(args: argparse.Namespace) -> int:  # noqa: ARG001 - the CLI's handler signature
    """``salur keys generate``: print a fresh set as environment lines, and the signing public key."""
    keys = generate_key_set()
    for name, variable in KEY_VARIABLES.items():
        print(f"{variable}={keys[name]}")
    public = signing_public_key(bytes.fromhex(keys["signing_key"]))
    print(f"# public key of SALUR_SIGNING_KEY (publish it; verifiers of chain heads use it): {public.hex()}")
    return 0

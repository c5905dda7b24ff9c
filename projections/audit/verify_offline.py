"""Verify a salur-cases evidence export offline, with nothing but Python 3.11+ (standard library only).

Usage::

    python verify_offline.py evidence.jsonl      # or "-" for standard input
    python verify_offline.py --public-key salur-signing.pub evidence.jsonl

An export (`salur audit export NO_KK` or `--program CODE --tahap N`, or `GET /api/v1/audit/evidence`)
has one JSON object per line: `position`, `originator_id`, `originator_version`, `topic`, `state`
(base64), `chain_hash` and `prev_hash` (hex), and `event` (the decoded event, for reading). For every
line this script checks that

1. the chain hash is SHA-256 over the previous row's hash and the row itself, encoded as::

       prev_hash (32 bytes) + position (8 bytes, big-endian) + originator_id (16 bytes)
       + originator_version (8 bytes, big-endian) + len(topic) (4 bytes) + topic (UTF-8)
       + len(state) (4 bytes) + state

   so no field of the stored event can be changed without changing `chain_hash`;
2. where two lines are neighbours in the store (positions p and p+1), the second's `prev_hash` is the
   first's `chain_hash`;
3. the readable `event` says what `state` says: same position, aggregate, version and type, the event
   id derived from the aggregate and version, and, unless the state is encrypted at rest, the same
   recorder, role, recorded time and data.

With `--public-key FILE` (the Ed25519 public key the ledger published: PEM, 64 hex digits or base64
of its 32 bytes), every signed chain head in the export (topic `salur:notary.HeadSigned`) is checked
too: its `signature` must be that key's Ed25519 signature over

    b"salur-cases chain head v1\x00" + position (8 bytes, big-endian) + hash (32 bytes)

of the `position` and `hash` it names, and where the export holds the line at that position, that
line's `chain_hash` must be the signed hash. Checking signatures needs the `cryptography` package
(Python's standard library has no Ed25519); everything else needs nothing but Python.

A line's `chain_hash` is the store's own: compare the last one with the head `salur audit verify`
printed (or a certified roster's `chain_head`, or a signed head) to tie the export to the whole chain.
Exit status: 0 when every line verifies, 1 when any does not (each failure is printed), 2 on bad usage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
import uuid
from typing import Any

GENESIS = bytes(32)
HEAD_SIGNED = "salur:notary.HeadSigned"
HEAD_MESSAGE = b"salur-cases chain head v1\x00"
EVENT_NAMESPACE = uuid.UUID("0b1f3d2e-8c4a-4f6e-9d27-5a1c3e7b9f40")
"""Event ids are uuid5(EVENT_NAMESPACE, "<originator_id>/<originator_version>")."""
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor", "role"}
_FIELDS = (
    "position",
    "originator_id",
    "originator_version",
    "topic",
    "state",
    "chain_hash",
    "prev_hash",
    "event",
)


class LineError(ValueError):
    """One line does not verify."""


def link_hash(
    prev: bytes, position: int, originator_id: uuid.UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The chain hash of one row (the encoding above)."""
    topic_bytes = topic.encode("utf-8")
    digest = hashlib.sha256(prev)
    digest.update(position.to_bytes(8, "big"))
    digest.update(originator_id.bytes)
    digest.update(version.to_bytes(8, "big"))
    digest.update(len(topic_bytes).to_bytes(4, "big") + topic_bytes)
    digest.update(len(state).to_bytes(4, "big") + state)
    return digest.digest()


def plain(value: Any) -> Any:
    """A stored value as the readable event shows it (`{"_type_": ..., "_data_": ...}` unwrapped)."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            data = plain(value["_data_"])
            return str(uuid.UUID(data)) if value["_type_"] == "uuid_hex" else data
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def check_line(record: dict[str, Any]) -> tuple[bytes, bool]:
    """Verify one parsed line; return its chain hash and whether its contents could be read."""
    missing = [name for name in _FIELDS if name not in record]
    if missing:
        raise LineError(f"missing fields: {', '.join(missing)}")
    try:
        position, version = int(record["position"]), int(record["originator_version"])
        originator_id = uuid.UUID(record["originator_id"])
        state = base64.b64decode(record["state"], validate=True)
        chain_hash, prev_hash = bytes.fromhex(record["chain_hash"]), bytes.fromhex(record["prev_hash"])
    except (TypeError, ValueError, binascii.Error) as error:
        raise LineError(f"malformed field: {error}") from None
    if len(prev_hash) != len(GENESIS):
        raise LineError("prev_hash is not 32 bytes (the previous row is missing from the store)")
    if link_hash(prev_hash, position, originator_id, version, record["topic"], state) != chain_hash:
        raise LineError("chain_hash does not match the row and prev_hash")
    return chain_hash, _check_reading(record, position, originator_id, version, state)


def _check_reading(
    record: dict[str, Any], position: int, originator_id: uuid.UUID, version: int, state: bytes
) -> bool:
    event = record["event"]
    expected = {
        "position": position,
        "aggregate_id": str(originator_id),
        "version": version,
        "type": record["topic"].partition(":")[2] or record["topic"],
        "event_id": str(uuid.uuid5(EVENT_NAMESPACE, f"{originator_id}/{version}")),
    }
    for name, value in expected.items():
        if not isinstance(event, dict) or event.get(name) != value:
            raise LineError(f"event.{name} does not match the stored row")
    try:
        stored = json.loads(state)
    except (UnicodeDecodeError, ValueError):
        return False  # encrypted at rest: the hash covers it, the reading aid cannot be compared
    if not isinstance(stored, dict):
        return False
    said = {k: plain(v) for k, v in stored.items() if k not in _ENVELOPE}
    if said != event.get("data"):
        raise LineError("event.data does not match the stored state")
    if plain(stored.get("timestamp")) != event.get("recorded_at"):
        raise LineError("event.recorded_at does not match the stored state")
    for name in ("actor", "role"):
        if str(stored.get(name, "")) != event.get(name):
            raise LineError(f"event.{name} does not match the stored state")
    return True


def verify_lines(lines: list[str]) -> tuple[int, int, list[str]]:
    """Verify every line; return (lines verified, lines whose contents were compared, failures)."""
    failures: list[str] = []
    verified = readable = 0
    previous: tuple[int, bytes] | None = None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise LineError("not a JSON object")
            chain_hash, was_read = check_line(record)
            position = int(record["position"])
            if previous and position == previous[0] + 1 and bytes.fromhex(record["prev_hash"]) != previous[1]:
                raise LineError("prev_hash is not the chain_hash of the line before it")
        except (LineError, ValueError) as error:
            failures.append(f"line {number}: {error}")
            previous = None
            continue
        verified += 1
        readable += was_read
        previous = (position, chain_hash)
    return verified, readable, failures


def check_heads(lines: list[str], public_key_text: str) -> tuple[int, list[str]]:
    """Check every signed head among the lines; return (heads verified, failures)."""
    verify = _ed25519_verifier(public_key_text)
    chain = {}
    heads = []
    for text in lines:
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            chain[int(record["position"])] = record["chain_hash"]
            if record.get("topic") == HEAD_SIGNED:
                heads.append((int(record["position"]), record["event"]["data"]))
        except (ValueError, KeyError, TypeError):
            continue  # reported by verify_lines
    failures = []
    for at, head in heads:
        try:
            position, digest = int(head["position"]), bytes.fromhex(head["hash"])
            valid = verify(
                bytes.fromhex(head["signature"]), HEAD_MESSAGE + position.to_bytes(8, "big") + digest
            )
        except (KeyError, TypeError, ValueError):
            valid = False
        if not valid:
            failures.append(f"the head signed at position {at} does not hold for this public key")
        elif position in chain and chain[position] != head["hash"]:
            failures.append(f"the head signed at position {at} names another hash at position {position}")
    return len(heads) - len(failures), failures


def _ed25519_verifier(text: str) -> Any:
    """A function (signature, message) -> bool for the public key in `text`."""
    import base64 as b64  # noqa: PLC0415 - kept beside the one optional import below

    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 - only signatures need it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: PLC0415

    text = text.strip()
    if text.startswith("-----BEGIN"):
        key: Any = load_pem_public_key(text.encode("ascii"))
    else:
        raw = bytes.fromhex(text) if len(text) == 64 else b64.b64decode(text, validate=True)  # noqa: PLR2004
        key = Ed25519PublicKey.from_public_bytes(raw)

    def verify(signature: bytes, message: bytes) -> bool:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    return verify


def _read(path: str) -> str | None:
    """A file's text ("-": standard input), or None after saying why it cannot be read."""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:  # noqa: PTH123 - stays runnable on its own
            return handle.read()
    except OSError as error:
        print(f"cannot read {path}: {error.strerror}", file=sys.stderr)
        return None


def main(argv: list[str]) -> int:
    """Verify the file named in `argv` (after an optional `--public-key FILE`) and print the outcome."""
    key_path = None
    if len(argv) == 3 and argv[0] == "--public-key":  # noqa: PLR2004
        key_path, argv = argv[1], argv[2:]
    if len(argv) != 1 or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 2
    text, public_key = _read(argv[0]), _read(key_path) if key_path else ""
    if text is None or public_key is None:
        return 2
    lines = text.splitlines()
    verified, readable, failures = verify_lines(lines)
    signed = None
    if key_path:
        try:
            signed, head_failures = check_heads(lines, public_key)
        except (ImportError, ValueError) as error:
            print(f"cannot check signatures: {error} (they need the cryptography package)", file=sys.stderr)
            return 2
        failures += head_failures
    for failure in failures:
        print(f"FAILED {failure}")
    if failures or not verified:
        print(f"NOT VERIFIED: {len(failures)} of {verified + len(failures)} lines fail")
        return 1
    print(f"OK: {verified} lines verified ({readable} with readable contents compared)")
    if signed is not None:
        print(f"{signed} signed chain heads verified with the public key")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The tamper-evident hash chain over the event store, in notification order.

Every stored event carries ``chain_hash``, a SHA-256 digest that commits to the previous row's
hash and to the row itself. Changing, inserting or deleting any row inside the chain changes
every later hash; cutting rows off the end is only detected against a head remembered elsewhere.

Exact encoding (all integers unsigned, big-endian), for an offline verifier::

    message = prev                                   32 bytes: previous row's chain_hash,
                                                     or GENESIS (32 zero bytes) for the first row
            + position.to_bytes(8, "big")            the row's notification_id
            + originator_id.bytes                    16 bytes: the aggregate's UUID (RFC 4122 order)
            + originator_version.to_bytes(8, "big")
            + len(topic_utf8).to_bytes(4, "big") + topic_utf8
            + len(state).to_bytes(4, "big") + state  the stored event's state bytes, as stored
    chain_hash = SHA-256(message)                    32 bytes

Every field has a fixed width or a length prefix, so no two different rows encode alike.
Verification: start from GENESIS, walk the rows by ascending notification_id, recompute each
hash from the previous one and compare. Standard library only, by design.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from typing import NamedTuple

GENESIS = bytes(32)
"""The ``prev`` of the first row in the chain."""

_FIXED = struct.Struct(">32sQ16sQ")


class ChainRow(NamedTuple):
    """One stored event as the chain sees it."""

    notification_id: int
    originator_id: uuid.UUID
    originator_version: int
    topic: str
    state: bytes
    chain_hash: bytes


def link_hash(
    prev: bytes,
    position: int,
    originator_id: uuid.UUID,
    originator_version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """Return the chain hash of one row, given the previous row's hash (see the module docstring)."""
    if len(prev) != len(GENESIS):
        msg = f"prev must be {len(GENESIS)} bytes, got {len(prev)}"
        raise ValueError(msg)
    topic_bytes = topic.encode("utf-8")
    digest = hashlib.sha256(_FIXED.pack(prev, position, originator_id.bytes, originator_version))
    digest.update(len(topic_bytes).to_bytes(4, "big"))
    digest.update(topic_bytes)
    digest.update(len(state).to_bytes(4, "big"))
    digest.update(state)
    return digest.digest()

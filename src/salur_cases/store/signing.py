"""Signed chain heads: evidence that whoever can write the database cannot forge.

The hash chain shows any change inside it, but anyone who can write the events table can also
recompute every hash after a change. So the writer signs chain heads with an Ed25519 key that the
database never holds (`SALUR_SIGNING_KEY`): a signed head is itself an event (`HeadSigned`, of the
`Notary` aggregate), so it sits in the chain after the position it covers. A head is signed

- after every write that certifies a tahap's roster (`reason` CERTIFICATION), and
- as a checkpoint once `CHECKPOINT_EVENTS` events have been written since the last signed head
  (`reason` CHECKPOINT).

The signed message is `HEAD_MESSAGE + position (8 bytes, big-endian) + chain hash (32 bytes)`.
Anyone with the public key checks it; rows rewritten by a database writer no longer hash to the
signed heads, and the writer cannot sign new ones.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from cryptography.exceptions import InvalidSignature
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from salur_cases.domain import payloads
from salur_cases.domain.events import PayloadEvent
from salur_cases.domain.topics import register_event_topics
from salur_cases.logging import get_logger
from salur_cases.store.keys import public_key_hex, signing_key

if TYPE_CHECKING:
    from collections.abc import Collection

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from eventsourcing.persistence import ApplicationRecorder, Mapper

_log = get_logger(__name__)

CHECKPOINT_EVENTS = 1000
"""Events written after the last signed head that make the next write sign a checkpoint."""
HEAD_MESSAGE = b"salur-cases chain head v1\x00"
NOTARY_ID = uuid5(UUID("0b1f3d2e-8c4a-4f6e-9d27-5a1c3e7b9f40"), "salur:notary")
"""The one Notary aggregate: its versions serialise signers in every process."""
CERTIFICATION, CHECKPOINT = "CERTIFICATION", "CHECKPOINT"


def head_message(position: int, chain_hash: bytes) -> bytes:
    """What a head's signature signs."""
    return HEAD_MESSAGE + position.to_bytes(8, "big") + chain_hash


class Notary(Aggregate):
    """The signer of chain heads (never loaded: its events are written and read one by one)."""

    class HeadSigned(PayloadEvent, Aggregate.Event):
        """The chain's head at `position` (its hash, hex) signed with the Ed25519 key `public_key`."""

        PAYLOAD = payloads.HeadSigned


register_event_topics(Notary)
HEAD_SIGNED = Notary.HeadSigned.TOPIC


def signature_holds(public_key: Ed25519PublicKey, event: Notary.HeadSigned) -> bool:
    """Whether the event's signature is `public_key`'s over its position and hash."""
    try:
        public_key.verify(
            bytes.fromhex(event.signature), head_message(event.position, bytes.fromhex(event.hash))
        )
    except (InvalidSignature, ValueError):
        return False
    return True


class HeadSigner:
    """Signs chain heads after writes (the chained recorders call :meth:`after_insert`)."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: ApplicationRecorder,
        seed: bytes,
        sign_after: Collection[str],
        every: int | None = None,
    ) -> None:
        self.mapper = mapper
        self.recorder = recorder
        self.key = signing_key(seed)
        self.public_key = public_key_hex(self.key)
        self.sign_after = frozenset(sign_after)
        self.every = every or CHECKPOINT_EVENTS
        self._lock = threading.Lock()
        self._last: tuple[int, int] | None = None
        """(version of the Notary, position it last signed), read from the store when first needed."""

    def after_insert(self, position: int, chain_hash: bytes, topics: Collection[str]) -> None:
        """After a committed write ending at `position`: sign its head when it certified a roster or
        completed a checkpoint. The signing's own write, or a write while another thread signs, signs
        nothing; a failure to sign is logged and left to the next write (the write itself stands)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            version, signed = self._last if self._last is not None else self._read_last()
            certified = not self.sign_after.isdisjoint(topics)
            if certified or position - signed >= self.every:
                self._sign(version + 1, position, chain_hash, CERTIFICATION if certified else CHECKPOINT)
        except Exception as error:
            self._last = None
            _log.warning(
                "chain head not signed; the next write tries again",
                position=position,
                error=type(error).__name__,
            )
        finally:
            self._lock.release()

    def _read_last(self) -> tuple[int, int]:
        stored = self.recorder.select_events(NOTARY_ID, desc=True, limit=1)
        if not stored:
            return 0, 0
        event: Any = self.mapper.to_domain_event(stored[0])
        return event.originator_version, event.position

    def _sign(self, version: int, position: int, chain_hash: bytes, reason: str) -> None:
        fields: dict[str, Any] = {
            "originator_id": NOTARY_ID,
            "originator_version": version,
            "timestamp": Notary.HeadSigned.create_timestamp(),
            "position": position,
            "hash": chain_hash.hex(),
            "signature": self.key.sign(head_message(position, chain_hash)).hex(),
            "public_key": self.public_key,
            "reason": reason,
            "actor": "notary",
            "role": "system",
        }
        event = Notary.HeadSigned(**fields)
        try:
            self.recorder.insert_events([self.mapper.to_stored_event(event)])
        except IntegrityError:  # another process signed meanwhile: read its head next time
            self._last = None
            return
        self._last = (version, position)

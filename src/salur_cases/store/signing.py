"""Signed chain heads: evidence that whoever can write the database cannot forge.

The hash chain shows any change inside it, but anyone who can write the events table can also
recompute every hash after a change. So the writer signs chain heads with an Ed25519 key that the
database never holds (`SALUR_SIGNING_KEY`): a signed head is itself an event (`HeadSigned`, of the
`Notary` aggregate), the last row of the write whose head it signs, in that write's transaction, so
it sits in the chain right after the position it covers. A write signs its head

- when it certifies a tahap's roster (`reason` CERTIFICATION), and
- as a checkpoint when it ends `CHECKPOINT_EVENTS` rows or more after the last signed head's row
  (`reason` CHECKPOINT).

The signed message is `HEAD_MESSAGE + position (8 bytes, big-endian) + chain hash (32 bytes)`.
Anyone with the public key checks it; rows rewritten by a database writer no longer hash to the
signed heads, and the writer cannot sign new ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from cryptography.exceptions import InvalidSignature
from eventsourcing.domain import Aggregate

from salur_cases.domain import payloads
from salur_cases.domain.events import PayloadEvent
from salur_cases.domain.topics import register_event_topics
from salur_cases.logging import get_logger
from salur_cases.store.keys import public_key_hex, signing_key

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from eventsourcing.persistence import Mapper, StoredEvent

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
    """Signs chain heads within the writes that call for them.

    A chained recorder asks it under the writers' lock, where the Notary's last event in the store is
    current, whether the write's head is `due`; when it is, the recorder appends the `head` as the
    write's last row, in the write's transaction: the head is committed with the rows it covers, or
    neither is. A head that cannot be made (its key, its encoding) is logged and left to the next
    write; the write stands.
    """

    def __init__(
        self, mapper: Mapper[UUID], seed: bytes, sign_after: Collection[str], every: int | None = None
    ) -> None:
        self.mapper = mapper
        self.key = signing_key(seed)
        self.public_key = public_key_hex(self.key)
        self.sign_after = frozenset(sign_after)
        self.every = every or CHECKPOINT_EVENTS
        self._signed = 0
        """The row of the last head this process knows of: a lower bound of the store's (others sign too)."""

    def due(
        self, last: int, topics: Collection[str], read_last_head: Callable[[], tuple[int, int] | None]
    ) -> tuple[int, str] | None:
        """(the Notary's next version, the reason) when a write ending at position `last` with `topics`
        must sign its head, else None. `read_last_head` gives the store's last head as (version, row)
        under the writers' lock; it is asked only when a head may be due: the write certifies a roster,
        or ends `every` rows after the last head known here (a later one signed elsewhere only makes
        a checkpoint less due)."""
        certifies = not self.sign_after.isdisjoint(topics)
        if not certifies and last - self._signed < self.every:
            return None
        version, signed = read_last_head() or (0, 0)
        self._signed = max(self._signed, signed)
        if certifies:
            return version + 1, CERTIFICATION
        return (version + 1, CHECKPOINT) if last - signed >= self.every else None

    def head(self, due: tuple[int, str], position: int, chain_hash: bytes) -> StoredEvent | None:
        """The head at `position` signed, as the Notary's event of the version `due` gives, for its reason
        (None, logged, when it cannot be made)."""
        version, reason = due
        try:
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
            return self.mapper.to_stored_event(Notary.HeadSigned(**fields))
        except Exception as error:
            _log.warning(
                "chain head not signed; the next write tries again",
                position=position,
                error=type(error).__name__,
            )
            return None

    def signed(self, row: int) -> None:
        """A head this process wrote at `row` is committed."""
        self._signed = max(self._signed, row)

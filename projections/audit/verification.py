"""Verify the tamper-evident chain and the certified rosters (`salur audit verify`, `GET /audit/verify`).

One pass over the store in notification order, streamed from one snapshot: each row's hash is
recomputed from the previous one (encoding in :mod:`salur_cases.store.chain`) and its position must
follow the previous one's, so an edited, deleted, inserted or reordered row breaks the chain. On the
way, the Program events that fix a roster are decoded: each certified tahap's roster is recomputed
from the `SeatsCommitted` events before its certification and compared with the certified
`roster_hash`, and the chain head a certification embeds must still be the store's hash at that
position; every payment must cite the roster certified for its tahap before it (or none, before a
certification). A remembered head (`POSITION:HASH`) is checked the same way; it is what detects a
store cut short (the chain's one blind spot: rows cut off its end leave a shorter valid chain).

With a public key, every signed head is checked too (`salur_cases.projections.audit.signatures`):
that is what catches a database writer who rewrites rows and recomputes the chain. The first broken
position is described by what it concerns: the household, the program and tahap, the recorded time.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household import Household
from salur_cases.domain.program import Program, roster_hash
from salur_cases.projections.audit.broken import concerning
from salur_cases.projections.audit.links import stream_chain
from salur_cases.projections.audit.signatures import coverage, decoded_heads
from salur_cases.projections.schemas import BrokenLink, ChainHead, VerifyRead
from salur_cases.store.chain import GENESIS
from salur_cases.store.signing import HEAD_SIGNED

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from salur_cases.application import SalurApplication
    from salur_cases.runtime import Runtime

_FIXED = struct.Struct(">32sQ16sQ")
"""prev, position, originator id, version: the fixed-width start of a link (store/chain.py)."""
_HEAD = re.compile(r"^\s*(\d+):([0-9a-fA-F]{64})\s*$")
_ROSTER_TOPICS = frozenset(
    {Program.Defined.TOPIC, Program.SeatsCommitted.TOPIC, Program.TahapCertified.TOPIC}
)
_PAYMENT = Household.PaymentRecorded.TOPIC
_WATCHED = _ROSTER_TOPICS | {_PAYMENT, HEAD_SIGNED}


class _Cite(msgspec.Struct):
    """What a payment says of the roster it was paid from."""

    program: str
    tahap: int
    roster_hash: str | None = None


@dataclass(frozen=True)
class Head:
    """A position in the chain and the chain's hash there (hex)."""

    position: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        """`{"position": ..., "hash": ...}`."""
        return {"position": self.position, "hash": self.hash}

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


def parse_head(text: str) -> Head:
    """`POSITION:HASH` (64 hex digits), as `salur audit verify` prints the head."""
    match = _HEAD.match(text)
    if match is None:
        raise InvalidCommand("head", "must be POSITION:HASH (a position and 64 hex digits)")
    return Head(int(match.group(1)), match.group(2).lower())


@dataclass
class _Rosters:
    """Seats committed per (program, tahap) so far, and what certifications ask to check later."""

    app: SalurApplication
    codes: dict[UUID, str] = field(default_factory=dict)
    seats: dict[tuple[UUID, int], list[str]] = field(default_factory=dict)
    anchors: list[tuple[int, Head]] = field(default_factory=list)
    certified: int = 0
    hashes: dict[tuple[str, int], str] = field(default_factory=dict)
    """The roster hash certified for each (program code, tahap) so far."""

    def see(self, position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> str | None:
        """Fold one Program row; a reason when a certified roster disagrees with its seats."""
        event = self.app.mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
        if isinstance(event, Program.Defined):
            self.codes[originator_id] = event.code
        elif isinstance(event, Program.SeatsCommitted):
            self.seats.setdefault((originator_id, event.tahap), []).extend(event.households)
        elif isinstance(event, Program.TahapCertified):
            self.certified += 1
            members = self.seats.get((originator_id, event.tahap), [])
            if roster_hash(members) != event.roster_hash or len(members) != event.households:
                name = f"{self.codes.get(originator_id, 'program')} tahap {event.tahap}"
                return f"the certified roster of {name} differs from the seats committed before it"
            anchor = event.chain_head or {}
            if int(anchor.get("position") or 0) > 0:
                self.anchors.append((position, Head(int(anchor["position"]), str(anchor.get("hash", "")))))
            self.hashes[(self.codes.get(originator_id, ""), event.tahap)] = event.roster_hash
        return None

    def cites(self, state: bytes) -> str | None:
        """A reason when a payment does not cite the roster certified for its tahap before it."""
        cipher = self.app.mapper.cipher
        try:
            cite = msgspec.json.decode(cipher.decrypt(state) if cipher else state, type=_Cite)
        except (msgspec.DecodeError, ValueError):  # msgspec's ValidationError is a ValueError
            return "the payment's stored state cannot be read"
        certified = self.hashes.get((cite.program, cite.tahap))
        if cite.roster_hash == certified:
            return None
        name = f"{cite.program} tahap {cite.tahap}"
        if certified is None:
            return f"the payment cites a roster of {name}, which was not certified before it"
        return f"the payment does not cite the certified roster of {name}"


def verify(
    runtime: Runtime, head: str | None = None, public_key: Ed25519PublicKey | None = None
) -> VerifyRead:
    """Recompute the chain and every certified roster; with `public_key`, check every signed head.

    Returns `ok`, `checked` (rows whose hash was recomputed and found right), `rosters` (certified
    rosters checked), `signatures` (signed heads found valid; None without a public key), `head`
    (`position` and `hash` of the last row verified, which is the store's last row in the snapshot
    read; when broken, the store's last row as stored) and `first_broken` or None: its `position`,
    `reason`, and what it concerns (`household`, `program`, `tahap`, `type`, `recorded_at`). The
    argument `head` is a remembered `POSITION:HASH`: another hash at that position, or a store that
    ends before it, is a break.
    """
    remembered = parse_head(head) if head else None
    app = runtime.app
    rosters = _Rosters(app)
    broken: tuple[int, str] | None = None
    prev, expected = GENESIS, 1
    topics: dict[str, bytes] = {}
    heads: list[tuple[int, StoredEvent]] = []
    sha256, pack = hashlib.sha256, _FIXED.pack
    for position, oid, version, topic, state, stored in stream_chain(app.recorder):
        if position != expected:
            broken = (expected, _gap(expected, position))
            break
        prefix = topics.get(topic) or topics.setdefault(topic, _length_prefixed(topic.encode()))
        digest = sha256(
            pack(prev, position, oid, version) + prefix + len(state).to_bytes(4, "big") + state
        ).digest()
        if digest != stored:
            broken = (position, "the row's hash does not match its contents and the previous row's hash")
            break
        if topic in _WATCHED:
            reason = _watched(rosters, heads, position, UUID(bytes=oid), version, topic, state)
            if reason is not None:
                broken = (position, reason)
                break
        if remembered is not None and position == remembered.position and digest.hex() != remembered.hash:
            broken = (position, "the hash at the remembered head's position differs from it")
            break
        prev, expected = digest, position + 1
    checked = expected - 1
    if broken is None:
        broken = _anchors_broken(app, rosters, checked, remembered)
    signatures = None
    if public_key is not None and broken is None:
        covered = coverage(app, decoded_heads(app, heads), checked, public_key)
        signatures, broken = covered.signatures, covered.first_uncovered
    head_now = Head(checked, prev.hex()) if broken is None else store_head(app)
    return VerifyRead(
        ok=broken is None,
        checked=checked,
        head=ChainHead(head_now.position, head_now.hash),
        first_broken=BrokenLink(*broken, **concerning(runtime, broken[0])) if broken else None,
        rosters=rosters.certified,
        signatures=signatures,
    )


def _watched(
    rosters: _Rosters,
    heads: list[tuple[int, StoredEvent]],
    position: int,
    originator_id: UUID,
    version: int,
    topic: str,
    state: bytes,
) -> str | None:
    """Fold a row the checks need: roster events, payments, signed heads (kept for the end)."""
    if topic == _PAYMENT:
        return rosters.cites(state)
    if topic == HEAD_SIGNED:
        heads.append((position, StoredEvent(originator_id, version, topic, state)))
        return None
    return rosters.see(position, originator_id, version, topic, state)


def store_head(app: SalurApplication) -> Head:
    """The store's last position and its stored hash (position 0 and the genesis hash when empty)."""
    last = app.recorder.max_notification_id() or 0
    rows = app.chained.select_chain(last, 1) if last else []
    return Head(rows[0].notification_id, rows[0].chain_hash.hex()) if rows else Head(0, GENESIS.hex())


def _gap(expected: int, found: int) -> str:
    if found > expected:
        return f"position {expected} is missing (the next row is at {found})"
    return f"the row after position {expected - 1} is at position {found}, out of order"


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _anchors_broken(
    app: SalurApplication, rosters: _Rosters, checked: int, remembered: Head | None
) -> tuple[int, str] | None:
    """Check a remembered head, and the heads certifications embed, against the verified chain."""
    if remembered is not None:
        if remembered.position > checked:
            return remembered.position, f"the store ends at position {checked}, before the remembered head"
        if remembered.position == 0 and remembered.hash != GENESIS.hex():
            return 0, "at position 0 the only hash is the genesis hash"
    for certified_at, anchor in rosters.anchors:
        rows = app.chained.select_chain(anchor.position, 1)
        if not rows or rows[0].notification_id != anchor.position or rows[0].chain_hash.hex() != anchor.hash:
            return (
                anchor.position,
                f"the chain head certified at position {certified_at} differs from the store",
            )
    return None

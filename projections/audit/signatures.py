"""Which part of the chain is covered by valid signed heads (`salur_cases.store.signing`).

A signed head covers every row up to the position it signs when its Ed25519 signature holds for the
given public key and the store's hash at that position is still the signed one. A database writer
who rewrites a row and recomputes every later hash with the project's own `link_hash` leaves the
heads signed after that row naming hashes the store no longer has, and cannot sign new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from salur_cases.projections.audit.links import KEYS_PER_QUERY, links_at
from salur_cases.store import signing
from salur_cases.store.keys import public_key_hex

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from salur_cases.application import SalurApplication
    from salur_cases.store.signing import Notary


@dataclass(frozen=True)
class Coverage:
    """How far valid signatures cover the chain, and the first row they leave uncovered."""

    signatures: int
    """Signed heads found valid."""
    covered: int
    """The last position covered by a valid signature (0: none)."""
    first_uncovered: tuple[int, str] | None
    """(position, reason) when a signature fails or the unsigned tail is longer than a checkpoint."""


def coverage(
    app: SalurApplication, heads: list[tuple[int, Notary.HeadSigned]], checked: int, key: Ed25519PublicKey
) -> Coverage:
    """Check the signed `heads` (their positions in the chain and events, in order) of a chain verified
    up to `checked`."""
    stored = _hashes_at(app, sorted({event.position for _, event in heads}))
    public = public_key_hex(key)
    covered = valid = 0
    for at, event in heads:
        problem = _problem(at, event, stored, key, public)
        if problem is not None:
            reason = f"not covered by a valid signature: the head signed at position {at} {problem}"
            return Coverage(valid, covered, (covered + 1, reason))
        covered, valid = max(covered, event.position), valid + 1
    if checked - covered > signing.CHECKPOINT_EVENTS:
        reason = (
            f"not covered by a valid signature: {checked - covered} rows follow the last signed head "
            f"(a head is signed every {signing.CHECKPOINT_EVENTS} events)"
        )
        return Coverage(valid, covered, (covered + 1, reason))
    return Coverage(valid, covered, None)


def _problem(
    at: int, event: Notary.HeadSigned, stored: dict[int, bytes], key: Ed25519PublicKey, public: str
) -> str | None:
    if event.position >= at:
        return f"claims position {event.position}, not before it"
    if event.public_key != public:
        return "was signed with another key"
    if not signing.signature_holds(key, event):
        return "has a signature that does not hold"
    if stored.get(event.position, b"").hex() != event.hash:
        return f"names another hash at position {event.position} than the store holds"
    return None


def _hashes_at(app: SalurApplication, positions: list[int]) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    for start in range(0, len(positions), KEYS_PER_QUERY):
        found.update(
            (link.position, link.chain_hash)
            for link in links_at(app.recorder, positions[start : start + KEYS_PER_QUERY])
        )
    return found


def decoded_heads(app: SalurApplication, rows: list[tuple[int, Any]]) -> list[tuple[int, Notary.HeadSigned]]:
    """The stored HeadSigned rows (position, StoredEvent) decoded."""
    return [(position, app.mapper.to_domain_event(stored)) for position, stored in rows]  # type: ignore[misc]

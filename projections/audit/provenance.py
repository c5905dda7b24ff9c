"""What an exported report stands on: when it was read, and the chain head of the events it reflects.

Every export of the budget report and the payment ledger carries both, so a filed copy can be tied
to the tamper-evident chain (`salur audit verify --head POSITION:HASH` proves the store still holds
it). The head is the read models' own position, read in the report's transaction: the figures
reflect exactly the events up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from salur_cases import tables as t
from salur_cases.domain.clock import WIB
from salur_cases.projections.runner import NAME
from salur_cases.store.chain import GENESIS

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from salur_cases.runtime import Runtime


@dataclass(frozen=True)
class Provenance:
    """`as_of` (when the report was read, WIB) and the chain head (`position`, `hash`) it reflects."""

    as_of: datetime
    position: int
    hash: str

    @property
    def head(self) -> str:
        """`POSITION:HASH`, as `salur audit verify --head` takes it."""
        return f"{self.position}:{self.hash}"

    def lines(self) -> list[str]:
        """Two lines for a file's preamble."""
        return [f"as of {self.as_of.isoformat(timespec='seconds')}", f"chain head {self.head}"]

    def to_json(self) -> dict[str, Any]:
        """`as_of` and `chain_head` (`position`, `hash`)."""
        return {
            "as_of": self.as_of.isoformat(timespec="seconds"),
            "chain_head": {"position": self.position, "hash": self.hash},
        }


def provenance(runtime: Runtime, conn: Connection) -> Provenance:
    """The read models' position (in `conn`'s transaction) and the stored chain hash there."""
    pp = t.projection_position
    position = int(conn.execute(select(pp.c.position).where(pp.c.name == NAME)).scalar() or 0)
    rows = runtime.app.chained.select_chain(position, 1) if position else []
    digest = rows[0].chain_hash.hex() if rows and rows[0].notification_id == position else GENESIS.hex()
    return Provenance(datetime.now(tz=WIB), position, digest)

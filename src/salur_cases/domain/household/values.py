"""The Household's value objects: members, address and source of a proposal, and the state of its
seats, payments, withdrawals and complaints as the aggregate folds them from its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from salur_cases.domain.vocabulary import PaymentStatus, SourceKind


@dataclass(frozen=True)
class Member:
    """A person on the family card."""

    nik: str
    name: str
    relationship: str
    birth_date: date | None = None

    def to_data(self) -> dict[str, Any]:
        """The member as stored in an event."""
        return {
            "nik": self.nik,
            "name": self.name,
            "relationship": self.relationship,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Member:
        """The member from an event's data."""
        birth = data.get("birth_date")
        return cls(
            data["nik"], data["name"], data["relationship"], date.fromisoformat(birth) if birth else None
        )


@dataclass(frozen=True)
class Address:
    """Where the household lives: Kemendagri codes of kecamatan and kelurahan, and RW / RT."""

    kecamatan: str
    kelurahan: str
    rw: str
    rt: str

    def to_data(self) -> dict[str, str]:
        """The address as stored in an event."""
        return {"kecamatan": self.kecamatan, "kelurahan": self.kelurahan, "rw": self.rw, "rt": self.rt}


@dataclass(frozen=True)
class Source:
    """Who proposed the household: a kind (KELURAHAN, SELF, DINAS, ...) and a reference (a name, a list)."""

    kind: str
    reference: str = ""

    @property
    def is_city(self) -> bool:
        """A proposal by the city (kelurahan, self-registration, a city department or a DPRD member)."""
        return SourceKind(self.kind).is_city


@dataclass
class Payment:
    """One attempt to pay a household in a tahap, as the payer reported it."""

    amount_idr: int
    paid_at: datetime
    status: PaymentStatus
    reference: str
    warnings: list[str]


@dataclass
class Seat:
    """A household's place in one tahap of one program, and the payments made on it."""

    program: str
    tahap: int
    starts_on: date
    ends_on: date
    amount_idr: int
    budget_source: str
    authority: str | None
    payments: list[Payment] = field(default_factory=list)

    @property
    def paid(self) -> bool:
        """Whether a PAID payment stands (one not followed by RETURNED)."""
        standing = False
        for payment in self.payments:
            if payment.status is PaymentStatus.PAID:
                standing = True
            elif payment.status is PaymentStatus.RETURNED:
                standing = False
        return standing

    @property
    def state(self) -> str:
        """ASSIGNED until a payment is reported, then the latest payment's status."""
        return str(self.payments[-1].status) if self.payments else "ASSIGNED"


@dataclass
class Withdrawal:
    """A removal by an authority, or a transfer to another program, from a tahap onwards."""

    kind: str  # REMOVED or TRANSFERRED
    program: str
    tahap: int
    authority: str
    reason: str
    decree_ref: str
    effective_on: date
    to_program: str | None = None
    reinstated: bool = False

    def covers(self, program: str, tahap: int) -> bool:
        """Whether it takes the household out of this program's tahap."""
        return not self.reinstated and self.program == program and self.tahap <= tahap


@dataclass
class Complaint:
    """An aduan and its resolution."""

    channel: str
    text: str
    outcome: str | None = None
    note: str | None = None

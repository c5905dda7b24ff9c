"""The API's requests that are not commands (lookups) and the answers of its writes as msgspec Structs.

A write's body is its command (:mod:`salur_cases.domain.commands`), decoded straight from the request;
the read side's answers are in :mod:`salur_cases.projections.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Struct

from salur_cases.fields import (
    EXAMPLE_NAME,
    NAME_PATTERN,
    Nik,
    example,
)
from salur_cases.projections.schemas import ChainHead

# --- requests -----------------------------------------------------------------------------------


class LookupRequest(Struct, forbid_unknown_fields=True):
    """A NIK to look up (in the body, so it stays out of URLs and logs)."""

    nik: Nik


class PublicStatusRequest(Struct, forbid_unknown_fields=True):
    """A citizen's own NIK and name."""

    nik: Nik
    name: Annotated[str, example(EXAMPLE_NAME, max_length=200, min_length=1, pattern=NAME_PATTERN)]
    lang: Literal["id", "en"] = "id"


# --- responses ----------------------------------------------------------------------------------


class ItemIssue(Struct):
    """A refused or warned item of a list: its index, a code and a message."""

    index: int
    code: str
    message: str
    field: str | None = None


class AllocationRead(Struct):
    """An allocation's result."""

    assigned: int
    left_out: int
    cutoff: int | None
    warnings: list[ItemIssue] = msgspec.field(default_factory=list)


class PaymentsRead(Struct):
    """Payments recorded and refused."""

    accepted: int
    rejected: list[ItemIssue]
    warnings: list[ItemIssue] = msgspec.field(default_factory=list)


class CertificationRead(Struct):
    """A certified roster."""

    roster_hash: str
    households: int
    chain_head: ChainHead


class ComplaintCreated(Struct):
    """A filed aduan."""

    complaint_id: str


class ImportIssue(Struct):
    """A rejected or warned row of an import."""

    row: int
    code: str
    message: str
    column: str | None = None


class ImportRead(Struct):
    """An import's report (``dry_run``: checked, nothing written)."""

    import_id: str
    kind: str
    rows: int
    accepted: int
    rejected: list[ImportIssue]
    warnings: list[ImportIssue]
    already_imported: bool
    dry_run: bool = False


class HealthRead(Struct, omit_defaults=True):
    """Liveness or readiness."""

    status: Literal["ok", "ready", "not_ready"]
    database: bool | None = None
    projection_lag: int | None = None
    standby: bool | None = None
    """With a read standby: whether it answers."""
    standby_lag: int | None = None
    """With a read standby: the events its read models are behind the primary's (not yet replayed)."""

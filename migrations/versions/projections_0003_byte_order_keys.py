"""projections: the read models' keys compared byte by byte (COLLATE "C" on PostgreSQL).

Every text column in a primary key or an index (household ids, NIK hashes, No. KK, program codes,
seat states) takes the "C" collation: see `salur_cases.migrations.keys`.

Revision ID: projections_0003
Revises: projections_0002
Create Date: 2026-11-30 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from salur_cases.migrations.keys import KeyColumns, collate

revision: str = "projections_0003"
down_revision: str | Sequence[str] | None = "projections_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HID = 36
KEYS: KeyColumns = {
    "projection_position": {"name": 64},
    "household": {"household_id": HID, "no_kk": 16, "kelurahan": 20},
    "person_index": {"nik_hash": 64, "household_id": HID},
    "household_status": {"household_id": HID, "program": 40, "state": 16},
    "tahap_roster": {"program": 40, "household_id": HID},
    "payment_ledger": {"household_id": HID, "program": 40},
    "withdrawal": {"event_id": HID, "household_id": HID, "program": 40},
    "timeline": {"aggregate_id": HID},
    "programs": {"code": 40},
    "program_tahap": {"program": 40},
}


def upgrade() -> None:
    """Keys in byte order."""
    collate(KEYS, "C")


def downgrade() -> None:
    """Keys in the database's collation."""
    collate(KEYS, "default")

"""intake: the extract's lookup key compared byte by byte (COLLATE "C" on PostgreSQL).

See `salur_cases.migrations.keys`.

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-11-30 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from salur_cases.migrations.keys import KeyColumns, collate

revision: str = "intake_0003"
down_revision: str | Sequence[str] | None = "intake_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS: KeyColumns = {"population_extract": {"nik_hash": 64}}


def upgrade() -> None:
    """The NIK hash in byte order."""
    collate(KEYS, "C")


def downgrade() -> None:
    """The NIK hash in the database's collation."""
    collate(KEYS, "default")

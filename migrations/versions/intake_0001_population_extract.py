"""intake: the loaded Disdukcapil extract (population_extract), the reference for padan.

Revision ID: intake_0001
Revises:
Create Date: 2024-11-29 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("intake",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create population_extract."""
    op.create_table(
        "population_extract",
        sa.Column(
            "nik_hash", sa.String(length=64), nullable=False, comment="keyed HMAC of the NIK (the lookup key)"
        ),
        sa.Column(
            "nik",
            sa.String(length=16),
            nullable=False,
            comment="the NIK itself, for officers' near-miss suggestions",
        ),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ektp", sa.Boolean(), nullable=False),
        sa.Column(
            "kelurahan",
            sa.String(length=20),
            nullable=True,
            comment="Kemendagri code; NULL outside Kota Bogor",
        ),
        sa.Column("in_city", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("nik_hash", name=op.f("pk_population_extract")),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("population_extract")

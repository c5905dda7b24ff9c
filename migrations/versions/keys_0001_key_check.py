"""keys: the check values of the keys a database was made with (its own branch).

Revision ID: keys_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "keys_0001"
down_revision = None
branch_labels = ("keys",)
depends_on = None


def _key(length: int) -> sa.String:
    """A key compared byte by byte on PostgreSQL (COLLATE "C"), as every key of the read side."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    """Create the key check table."""
    op.create_table(
        "key_check",
        sa.Column("name", _key(32), nullable=False, comment="the key's name in the settings"),
        sa.Column(
            "check_value",
            sa.String(64),
            nullable=False,
            comment="HMAC of a fixed text under the key, or none",
        ),
        sa.PrimaryKeyConstraint("name", name="pk_key_check"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("key_check")

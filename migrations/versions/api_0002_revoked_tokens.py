"""api: the denylist of revoked tokens.

Revision ID: api_0002
Revises: api_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "api_0002"
down_revision = "api_0001"
branch_labels = None
depends_on = None


def _key(length: int) -> sa.String:
    """A key compared byte by byte on PostgreSQL (COLLATE "C"), as every key of the read side."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    """Create the revoked tokens table."""
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", _key(64), nullable=False, comment="the revoked token's id"),
        sa.Column(
            "revoked_ms", sa.BigInteger(), nullable=False, comment="when it was revoked (Unix milliseconds)"
        ),
        sa.PrimaryKeyConstraint("jti", name="pk_revoked_tokens"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("revoked_tokens")

"""api: idempotency records (the API's own branch).

Revision ID: api_0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "api_0001"
down_revision = None
branch_labels = ("api",)
depends_on = None


def upgrade() -> None:
    """Create the idempotency records table."""
    op.create_table(
        "api_idempotency",
        sa.Column("scope_key", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope_key", name="pk_api_idempotency"),
    )
    op.create_index("ix_api_idempotency_created_ms", "api_idempotency", ["created_ms"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_api_idempotency_created_ms", table_name="api_idempotency")
    op.drop_table("api_idempotency")

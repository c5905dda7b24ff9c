"""console: accounts, sign-in attempts, server-side sessions, the last chain check (the console's branch).

Revision ID: console_0001
Revises:
Create Date: 2026-12-05 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from salur_cases.tables import UTCDateTime

revision: str = "console_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("console",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the console's tables."""
    op.create_table(
        "console_user",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("kelurahan", sa.String(20), nullable=True, comment="a kelurahan officer's kelurahan code"),
        sa.Column("password_hash", sa.String(200), nullable=False, comment="argon2id, PHC string"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_console_user"),
    )
    op.create_table(
        "console_sign_in",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_console_sign_in"),
    )
    op.create_index("ix_console_sign_in_name_at", "console_sign_in", ["name", "at"])
    op.create_table(
        "console_session",
        sa.Column("key_hash", sa.String(64), nullable=False, comment="SHA-256 of the cookie's session id"),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key_hash", name="pk_console_session"),
    )
    op.create_index("ix_console_session_expires_ms", "console_session", ["expires_ms"])
    op.create_table(
        "console_chain_check",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("head_position", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(128), nullable=False),
        sa.Column("first_broken", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_console_chain_check"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("console_chain_check")
    op.drop_index("ix_console_session_expires_ms", table_name="console_session")
    op.drop_table("console_session")
    op.drop_index("ix_console_sign_in_name_at", table_name="console_sign_in")
    op.drop_table("console_sign_in")
    op.drop_table("console_user")

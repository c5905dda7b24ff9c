"""intake: the imports done (content hash, progress in batches, the per-row problems so far).

Revision ID: intake_0002
Revises: intake_0001
Create Date: 2024-11-29 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from salur_cases.tables import UTCDateTime

revision: str = "intake_0002"
down_revision: str | Sequence[str] | None = "intake_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create imports."""
    op.create_table(
        "imports",
        sa.Column("import_id", sa.String(length=64), nullable=False, comment="SHA-256 of the file's content"),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False, comment="data rows in the file"),
        sa.Column("steps", sa.Integer(), nullable=False, comment="batches the import is written in"),
        sa.Column(
            "batch",
            sa.Integer(),
            nullable=False,
            comment="rows (or households) per batch, kept for a resumption",
        ),
        sa.Column("steps_done", sa.Integer(), nullable=False, comment="batches committed so far"),
        sa.Column(
            "next_row",
            sa.Integer(),
            nullable=True,
            comment="first file row of the next batch (NULL when done)",
        ),
        sa.Column("accepted", sa.Integer(), nullable=False, comment="rows accepted by the batches done"),
        sa.Column("status", sa.String(length=10), nullable=False, comment="RUNNING or DONE"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column(
            "problems",
            sa.Text(),
            nullable=False,
            comment="JSON: rejected rows and warnings of the batches done",
        ),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_imports")),
        comment="every file imported, by content: the same file again adds nothing; a broken one resumes",
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("imports")

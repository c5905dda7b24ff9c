"""projections: room on the pages of the rows rewritten at nearly every event (fillfactor 70).

A household's row, its status rows and its roster seats are rewritten by most events about it. On
full pages each rewrite lands on another page and adds an entry to every index of the table; with
room left on the page PostgreSQL rewrites the row in place (a HOT update) and leaves the indexes
alone. SQLite has no such setting.

Revision ID: projections_0002
Revises: projections_0001
Create Date: 2026-11-29 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "projections_0002"
down_revision: str | Sequence[str] | None = "projections_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REWRITTEN = ("household", "household_status", "tahap_roster")


def upgrade() -> None:
    """Leave 30 % of each page free for rewrites (PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        for table in REWRITTEN:
            op.execute(f'ALTER TABLE "{table}" SET (fillfactor = 70)')


def downgrade() -> None:
    """Back to full pages."""
    if op.get_bind().dialect.name == "postgresql":
        for table in REWRITTEN:
            op.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')

"""projections: the No. KK columns sealed, the read models rebuilt sealed.

The No. KK beside each household id becomes a sealed value (`bytea` / BLOB, see
`salur_cases.store.sealed`), and the timeline keeps its personal fields sealed. Read models are
derived from the event store, so existing rows are not converted: every read model is emptied and
the projection's position reset, and the next catch-up rebuilds them with the current key.

Revision ID: projections_0004
Revises: projections_0003
Create Date: 2026-12-05 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "projections_0004"
down_revision: str | Sequence[str] | None = "projections_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_NO_KK = ("household", "household_status", "tahap_roster", "payment_ledger", "withdrawal")
VIEWS = (*WITH_NO_KK, "person_index", "timeline", "programs", "program_tahap")
PROJECTION = "read_models"


def _empty_views() -> None:
    for table in VIEWS:
        op.execute(f'DELETE FROM "{table}"')  # noqa: S608 - the revision's own names
    op.execute(
        sa.text("UPDATE projection_position SET position = 0 WHERE name = :name").bindparams(name=PROJECTION)
    )


def _retype(to: sa.types.TypeEngine[Any], postgres_using: str) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in WITH_NO_KK:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "no_kk",
                type_=to,
                existing_nullable=False,
                postgresql_using=postgres_using if postgres else None,
            )


def upgrade() -> None:
    """Empty the read models (they are rebuilt at the next catch-up), then seal the No. KK columns."""
    _empty_views()
    _retype(sa.LargeBinary(), "convert_to(no_kk, 'UTF8')")


def downgrade() -> None:
    """Empty the read models again and keep the No. KK in clear text."""
    _empty_views()
    _retype(sa.String(16), "convert_from(no_kk, 'UTF8')")

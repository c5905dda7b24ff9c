"""intake: the population extract keeps the NIK's keyed hash and a sealed record.

The NIK, No. KK, name and birth date move into one `record` document whose fields are sealed with
the read models' key when an encryption secret is set (`salur_cases.store.sealed`); existing rows
are converted with the key of the process that runs the upgrade.

Revision ID: intake_0004
Revises: intake_0003
Create Date: 2026-12-05 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

from salur_cases.store.sealed import PartlySealedJSON

revision: str = "intake_0004"
down_revision: str | Sequence[str] | None = "intake_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSON = ("nik", "no_kk", "name", "birth_date")
BATCH = 5000


def upgrade() -> None:
    """Add `record`, fill it from the person's columns (sealed), drop those columns."""
    bind = op.get_bind()
    op.add_column("population_extract", sa.Column("record", PartlySealedJSON, nullable=True))
    old = sa.table(
        "population_extract",
        sa.column("nik_hash", sa.String),
        *(sa.column(name, sa.String) for name in PERSON),
    )
    new = sa.table(
        "population_extract", sa.column("nik_hash", sa.String), sa.column("record", PartlySealedJSON)
    )
    rows = bind.execute(sa.select(old)).all()
    for start in range(0, len(rows), BATCH):
        bind.execute(
            new.update().where(new.c.nik_hash == sa.bindparam("key")),
            [
                {
                    "key": row.nik_hash,
                    "record": {
                        "nik": row.nik,
                        "no_kk": row.no_kk,
                        "name": row.name,
                        "birth_date": str(row.birth_date)[:10] if row.birth_date else None,
                    },
                }
                for row in rows[start : start + BATCH]
            ],
        )
    with op.batch_alter_table("population_extract") as batch:
        batch.alter_column("record", existing_type=PartlySealedJSON, nullable=False)
        for name in PERSON:
            batch.drop_column(name)


def downgrade() -> None:
    """The person's columns back, filled from the record (opened with the running key)."""
    bind = op.get_bind()
    for name in PERSON:
        op.add_column("population_extract", sa.Column(name, sa.Date if name == "birth_date" else sa.String))
    new = sa.table(
        "population_extract", sa.column("nik_hash", sa.String), sa.column("record", PartlySealedJSON)
    )
    old = sa.table(
        "population_extract",
        sa.column("nik_hash", sa.String),
        *(sa.column(name, sa.Date if name == "birth_date" else sa.String) for name in PERSON),
    )
    rows = bind.execute(sa.select(new)).all()
    for start in range(0, len(rows), BATCH):
        bind.execute(
            old.update().where(old.c.nik_hash == sa.bindparam("key")),
            [
                {
                    "key": row.nik_hash,
                    **{name: row.record[name] for name in ("nik", "no_kk", "name")},
                    "birth_date": date.fromisoformat(row.record["birth_date"])
                    if row.record["birth_date"]
                    else None,
                }
                for row in rows[start : start + BATCH]
            ],
        )
    with op.batch_alter_table("population_extract") as batch:
        for name in ("nik", "no_kk", "name"):
            batch.alter_column(name, existing_type=sa.String, nullable=False)
        batch.drop_column("record")

"""SQLAlchemy 2 tables of the read side; alembic's `target_metadata`.

Every read-side table of the project is declared on this one `metadata` (intake and audit tables
too, in their own modules, imported by `salur_cases.projections.schema`).
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

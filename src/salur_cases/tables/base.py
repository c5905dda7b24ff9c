"""What every table of the project shares: one `metadata` and the column types of keys and times.

Every table (read models, the intake's, the API's) is declared on this one `metadata`, alembic's
`target_metadata` (see `salur_cases.migrations.env`); each area migrates its tables on its own
alembic branch. Times are recorded times (UTC, see `UTCDateTime`); dates are effective dates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData, String, TypeDecorator

from salur_cases.domain.clock import WIB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A recorded time: `timestamptz` on PostgreSQL, naive UTC on SQLite; read back aware (UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC (naive for SQLite, which cannot keep an offset); a naive value means WIB."""
        if value is None:
            return None
        value = (value if value.tzinfo else value.replace(tzinfo=WIB)).astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc: Any = JSON()
"""A JSON document column (`json` on PostgreSQL: stored as written, no JSONB parsing on the write path)."""


def key(length: int) -> String:
    """A text key (an id, a hash, a code): compared byte by byte on PostgreSQL (`COLLATE "C"`).

    Keys are ASCII, so byte order is their order. The database's own collation (a locale, even
    C.UTF-8) would compare them through the C library's strcoll in every index probe and insert.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")

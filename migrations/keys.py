"""Migration helper: text keys compared byte by byte (`COLLATE "C"`) on PostgreSQL.

Ids, hashes and codes are ASCII, so byte order is their order; under the database's own collation
(a locale, even C.UTF-8) every index probe and insert compares them through the C library's
strcoll. Changing a varchar's collation rewrites no rows, only the indexes that use the column.
SQLite compares bytes already.
"""

from __future__ import annotations

from collections.abc import Mapping

from alembic import op

KeyColumns = Mapping[str, Mapping[str, int]]
"""table -> column -> varchar length."""


def collate(keys: KeyColumns, collation: str) -> None:
    """Give each key column `collation` ("C", or "default" to go back), one ALTER TABLE per table."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in keys.items():
        changes = ", ".join(
            f'ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "{collation}"'
            for column, length in columns.items()
        )
        op.execute(f'ALTER TABLE "{table}" {changes}')

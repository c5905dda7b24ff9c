"""The intake's dialect-specific SQL: PostgreSQL and SQLite are asked the same questions differently.

PostgreSQL takes a long list of keys as one text parameter split on the server (`store.pglist`),
which is far cheaper to send than thousands of bound values; SQLite takes them in small `IN` lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, String, Table, any_, bindparam, func, select, text

from salur_cases import tables as t
from salur_cases.store.pglist import joined

PG_KEYS = 50_000
"""Keys per statement on PostgreSQL (one text parameter)."""
SQLITE_KEYS = 500
"""Keys per statement on SQLite (bound parameters; SQLite limits their number)."""


def analyze(engine: Engine, table: Table) -> None:
    """Fresh planner statistics for a table just filled (both dialects know `ANALYZE name`)."""
    with engine.begin() as conn:
        conn.execute(text(f'ANALYZE "{table.name}"'))


def households_holding(engine: Engine, nik_hashes: Sequence[str]) -> set[str]:
    """No. KK of the registered households a member of which has one of these NIKs (from the read models)."""
    found: set[str] = set()
    holder = select(t.household.c.no_kk).join(
        t.person_index, t.person_index.c.household_id == t.household.c.household_id
    )
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            wanted = func.string_to_array(bindparam("hashes", type_=String), ",")
            query = holder.where(t.person_index.c.nik_hash == any_(wanted))
            for start in range(0, len(nik_hashes), PG_KEYS):
                batch = nik_hashes[start : start + PG_KEYS]
                found.update(conn.execute(query, {"hashes": joined(batch)}).scalars())
            return found
        for start in range(0, len(nik_hashes), SQLITE_KEYS):
            batch = list(nik_hashes[start : start + SQLITE_KEYS])
            found.update(conn.execute(holder.where(t.person_index.c.nik_hash.in_(batch))).scalars())
    return found

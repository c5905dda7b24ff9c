"""The API's lookup by NIK without holding up the event loop.

A worker serves many requests on one event loop; a query run there blocks every one of them until the
database answers. On PostgreSQL the lookup's one query runs on an asyncio pool of driver connections
to the reader's database (the standby when one is configured), so the worker answers other requests
while it waits. At most ``CONNECTIONS`` a worker, opened with the app (its lifespan) and closed with it.
The pool belongs to the event loop that opened it: on SQLite (a local file answers at once), and when
the app is called on another loop than its lifespan's (a test client may run each call on a loop of its
own), the query runs on the loop's thread.
"""

from __future__ import annotations

import asyncio

from psycopg_pool import AsyncConnectionPool

from salur_cases.projections.queries import fold_rows, household_of_nik, nik_query
from salur_cases.projections.schemas import HouseholdRead
from salur_cases.runtime import Runtime

__all__ = ["CONNECTIONS", "Lookups"]

CONNECTIONS = 8
"""Connections of a worker's lookup pool: about the lookups one worker has waiting at once (16 clients'
keep-alive connections over 2 workers). A lookup that finds every connection taken waits on the pool,
which costs the worker more CPU than the query itself."""


class Lookups:
    """Households by NIK for the API's handlers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}

    async def open(self) -> None:
        """On PostgreSQL, open a pool for the running event loop (a pool per lifespan: a closed one is
        never opened again)."""
        if not self.runtime.settings.is_postgres:
            return
        conninfo, options = self.runtime.reader_conninfo()
        pool = AsyncConnectionPool(
            conninfo,
            kwargs={"autocommit": True, "options": options},
            min_size=1,
            max_size=CONNECTIONS,
            open=False,
        )
        await pool.open()
        self._pools[asyncio.get_running_loop()] = pool

    async def close(self) -> None:
        """Close the running event loop's pool."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    async def household_of_nik(self, nik: str) -> HouseholdRead | None:
        """The view of the household a NIK belongs to now (None when none): one query."""
        pool = self._pools.get(asyncio.get_running_loop())
        if pool is None:
            return household_of_nik(self.runtime, nik)
        sql, parameters = nik_query(self.runtime, nik)
        async with pool.connection() as connection:
            cursor = await connection.execute(sql, parameters)
            rows = await cursor.fetchall()
        return fold_rows(self.runtime, rows)

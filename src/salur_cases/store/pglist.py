"""Many values as one PostgreSQL parameter.

psycopg dumps a list parameter element by element in Python (a few microseconds each: most of the
cost of probing thousands of ids); one comma-joined text is dumped at once and split by the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

SPLIT = "string_to_array(%s, ',')"
"""The SQL that turns the parameter back into a text[] (cast it for other types: `...::uuid[]`)."""


def joined(values: Iterable[object]) -> str:
    """The values as the one text `SPLIT` takes apart: ids, hex digests, digits (never a comma)."""
    return ",".join(map(str, values))


def joined_ids(ids: Iterable[UUID]) -> str:
    """Ids as the one text `SPLIT` takes apart, each as its 32 hex digits (which PostgreSQL reads as a
    uuid as it reads the hyphenated form, and Python writes in a third of the time)."""
    return ",".join([i.hex for i in ids])

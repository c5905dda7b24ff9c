"""The API's table: idempotency records, shared by every worker and kept across restarts.

``scope_key`` is an HMAC of the principal and the ``Idempotency-Key``; ``request_hash`` an HMAC
of the method, path and normalised body; ``status`` the first response's status (NULL while it runs);
``response`` its headers that matter and its body, encrypted (they hold households); ``created_ms``
when the key was first used (Unix milliseconds).
Migration: ``migrations/versions/api_0001_idempotency.py`` (branch ``api``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table

from salur_cases.tables.base import metadata

api_idempotency = Table(
    "api_idempotency",
    metadata,
    Column("scope_key", String(64), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("response", LargeBinary, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
)
Index("ix_api_idempotency_created_ms", api_idempotency.c.created_ms)

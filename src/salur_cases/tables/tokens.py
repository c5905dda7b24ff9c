"""The API's denylist: tokens refused before they expire (``salur token revoke JTI``).

Every API worker reads it (at most once a second); ``revoked_ms`` lets rows older than the longest
token lifetime be purged.
Migration: ``migrations/versions/api_0002_revoked_tokens.py`` (branch ``api``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table

from salur_cases.tables.base import key, metadata

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", key(64), primary_key=True, comment="the revoked token's id"),
    Column("revoked_ms", BigInteger, nullable=False, comment="when it was revoked (Unix milliseconds)"),
)

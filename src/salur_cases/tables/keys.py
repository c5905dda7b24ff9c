"""The check values of the keys a database was made with (see :mod:`salur_cases.keyring`).

One row per checked key: its name in the settings and an HMAC of a fixed text under it (``none``
when the database was made without that key).
Migration: ``migrations/versions/keys_0001_key_check.py`` (branch ``keys``).
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from salur_cases.tables.base import key, metadata

key_check = Table(
    "key_check",
    metadata,
    Column("name", key(32), primary_key=True, comment="the key's name in the settings"),
    Column("check_value", String(64), nullable=False, comment="HMAC of a fixed text under the key, or none"),
)

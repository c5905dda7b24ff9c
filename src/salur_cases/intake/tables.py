"""Tables of the intake: the loaded Disdukcapil extract (the reference for padan)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, String, Table

from salur_cases.projections.tables import metadata

population_extract = Table(
    "population_extract",
    metadata,
    Column("nik_hash", String(64), primary_key=True, comment="keyed HMAC of the NIK (the lookup key)"),
    Column("nik", String(16), nullable=False, comment="the NIK itself, for officers' near-miss suggestions"),
    Column("no_kk", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("birth_date", Date, nullable=True),
    Column("status", String(16), nullable=False),
    Column("ektp", Boolean, nullable=False),
    Column("kelurahan", String(20), nullable=True, comment="Kemendagri code; NULL outside Kota Bogor"),
    Column("in_city", Boolean, nullable=False),
)

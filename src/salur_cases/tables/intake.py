"""Tables of the intake: the loaded Disdukcapil extract (the reference for padan) and the imports done.

Migrations: the "intake" branch.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from salur_cases.store.sealed import PartlySealedJSON
from salur_cases.tables.base import UTCDateTime, key, metadata

population_extract = Table(
    "population_extract",
    metadata,
    Column("nik_hash", key(64), primary_key=True, comment="keyed HMAC of the NIK (the lookup key)"),
    Column(
        "record",
        PartlySealedJSON,
        nullable=False,
        comment="nik, no_kk, name, birth_date (sealed): for padan and officers' near-miss suggestions",
    ),
    Column("status", String(16), nullable=False),
    Column("ektp", Boolean, nullable=False),
    Column("kelurahan", String(20), nullable=True, comment="Kemendagri code; NULL outside Kota Bogor"),
    Column("in_city", Boolean, nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("import_id", String(64), primary_key=True, comment="SHA-256 of the file's content"),
    Column("kind", String(20), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("rows", Integer, nullable=False, comment="data rows in the file"),
    Column("steps", Integer, nullable=False, comment="batches the import is written in"),
    Column("batch", Integer, nullable=False, comment="rows (or households) per batch, kept for a resumption"),
    Column("steps_done", Integer, nullable=False, comment="batches committed so far"),
    Column("next_row", Integer, nullable=True, comment="first file row of the next batch (NULL when done)"),
    Column("accepted", Integer, nullable=False, comment="rows accepted by the batches done"),
    Column("status", String(10), nullable=False, comment="RUNNING or DONE"),
    Column("actor", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("problems", Text, nullable=False, comment="JSON: rejected rows and warnings of the batches done"),
    comment="every file imported, by content: the same file again adds nothing; a broken one resumes",
)

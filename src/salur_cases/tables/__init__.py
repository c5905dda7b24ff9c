"""Every table of the project, one layer below the write side and the read side.

The read models (filled by the projection), the intake's tables (the population extract and the
import log), the API's idempotency records and revoked tokens, the keys' check values, and the
console's accounts and sessions, all declared on one `metadata`: importing this package makes
`metadata` know every table (alembic's `target_metadata`). `salur_cases.tables.bulk` reads and writes
rows of these tables in bulk.
"""

from __future__ import annotations

from salur_cases.tables.base import UTCDateTime, key, metadata
from salur_cases.tables.console import console_chain_check, console_session, console_sign_in, console_user
from salur_cases.tables.idempotency import api_idempotency
from salur_cases.tables.intake import imports, population_extract
from salur_cases.tables.keys import key_check
from salur_cases.tables.read_models import (
    VIEW_TABLES,
    household,
    household_status,
    payment_ledger,
    person_index,
    program_tahap,
    programs,
    projection_position,
    tahap_roster,
    timeline,
    withdrawal,
)
from salur_cases.tables.tokens import revoked_tokens

__all__ = [
    "VIEW_TABLES",
    "UTCDateTime",
    "api_idempotency",
    "console_chain_check",
    "console_session",
    "console_sign_in",
    "console_user",
    "household",
    "household_status",
    "imports",
    "key",
    "key_check",
    "metadata",
    "payment_ledger",
    "person_index",
    "population_extract",
    "program_tahap",
    "programs",
    "projection_position",
    "revoked_tokens",
    "tahap_roster",
    "timeline",
    "withdrawal",
]

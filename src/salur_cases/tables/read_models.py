"""The read models: the tables the projection (`salur_cases.projections.projector`) fills.

They are created and changed only by the migrations of the "projections" branch. Households are
keyed by their id (a keyed HMAC UUID of the No. KK); a NIK appears in a lookup column only as a
keyed HMAC (`nik_hash`), names only masked, and the No. KK and the timeline's personal fields are
sealed (encrypted with the read models' key when an encryption secret is set:
`salur_cases.store.sealed`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table

from salur_cases.store.sealed import PartlySealedJSON, SealedText
from salur_cases.tables.base import JSONDoc, UTCDateTime, key, metadata

HID = 36
"""Length of a household id (UUID text)."""

projection_position = Table(
    "projection_position",
    metadata,
    Column("name", key(64), primary_key=True),
    Column("position", BigInteger, nullable=False, comment="last notification id applied"),
    comment="how far each projection has applied the event store (committed with its rows)",
)

household = Table(
    "household",
    metadata,
    Column("household_id", key(HID), primary_key=True, comment="keyed HMAC UUID of the No. KK"),
    Column("no_kk", SealedText, nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("kecamatan", String(20)),
    Column("kelurahan", key(20)),
    Column("first_source", String(40), nullable=False),
    Column("city_proposed", Boolean, nullable=False),
    Column("padan", String(20)),
    Column("padan_on", Date),
    Column("verval", String(20)),
    Column("verval_on", Date),
    Column("members", JSONDoc, nullable=False, comment="nik_hash, name_hash, masked_name, relationship"),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("position", BigInteger, nullable=False),
    comment="current state of each household",
)
Index("ix_household_kelurahan", household.c.kelurahan)

person_index = Table(
    "person_index",
    metadata,
    Column("nik_hash", key(64), primary_key=True, comment="keyed_hex(id_key, 'nik', NIK)"),
    Column("household_id", key(HID), nullable=False, index=True),
    Column("name_hash", String(64), nullable=False, comment="keyed_hex(id_key, 'name', NIK:folded name)"),
    Column("masked_name", String(200), nullable=False),
    comment="which household a NIK belongs to now",
)

household_status = Table(
    "household_status",
    metadata,
    Column("household_id", key(HID), primary_key=True),
    Column("program", key(40), primary_key=True),
    Column("tahap", Integer, primary_key=True),
    Column("no_kk", SealedText, nullable=False),
    Column("state", key(16), nullable=False, comment="seat state, or LEFT_OUT"),
    Column("amount_idr", BigInteger),
    Column("authority", String(200)),
    Column("left_out_code", String(40)),
    Column("rank", Integer),
    Column("cutoff", Integer),
    Column("other_program", String(40)),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("position", BigInteger, nullable=False),
    comment="current state of each household in each program's tahap (seats and recorded left-outs)",
)
Index(
    "ix_household_status_program_tahap_state",
    household_status.c.program,
    household_status.c.tahap,
    household_status.c.state,
)

tahap_roster = Table(
    "tahap_roster",
    metadata,
    Column("program", key(40), primary_key=True),
    Column("tahap", Integer, primary_key=True),
    Column("household_id", key(HID), primary_key=True),
    Column("no_kk", SealedText, nullable=False),
    Column("amount_idr", BigInteger, nullable=False),
    Column("budget_source", String(20), nullable=False),
    Column("authority", String(200)),
    Column("rank", Integer),
    Column("decree_ref", String(200), nullable=False),
    Column("state", String(16), nullable=False, comment="ASSIGNED, PAID, FAILED, RETURNED or REMOVED"),
    Column("last_status", String(16), comment="the latest payment's status, if any"),
    Column("paid", Boolean, nullable=False, comment="a PAID payment stands (not followed by RETURNED)"),
    Column("removed", Boolean, nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime, comment="recorded time of the latest PAID"),
    Column("failed_at", UTCDateTime, comment="recorded time of the latest FAILED"),
    Column("returned_at", UTCDateTime, comment="recorded time of the latest RETURNED"),
    Column("removed_at", UTCDateTime, comment="recorded time of the standing removal"),
    Column("position", BigInteger, nullable=False),
    comment="seats of each tahap; as-of questions combine it with payment_ledger and withdrawal",
)
Index("ix_tahap_roster_household_id", tahap_roster.c.household_id)

payment_ledger = Table(
    "payment_ledger",
    metadata,
    Column("position", BigInteger, primary_key=True, comment="notification id of the PaymentRecorded event"),
    Column("event_id", String(HID), nullable=False),
    Column("household_id", key(HID), nullable=False),
    Column("no_kk", SealedText, nullable=False),
    Column("budget_source", String(20), nullable=False),
    Column("program", key(40), nullable=False),
    Column("tahap", Integer, nullable=False),
    Column("amount_idr", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("paid_at", UTCDateTime, nullable=False),
    Column("paid_on", Date, nullable=False, comment="paid_at's date in WIB"),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("seated", Boolean, nullable=False, comment="the household held a seat in that tahap"),
    Column(
        "after_removal",
        Boolean,
        nullable=False,
        comment="a PAID on or after the effective date of a removal or transfer (however late recorded)",
    ),
    Column("roster_hash", String(64)),
    Column("warnings", JSONDoc, nullable=False),
    comment="every payment attempt, every Rupiah",
)
Index("ix_payment_ledger_household_program", payment_ledger.c.household_id, payment_ledger.c.program)
Index("ix_payment_ledger_program_tahap", payment_ledger.c.program, payment_ledger.c.tahap)

withdrawal = Table(
    "withdrawal",
    metadata,
    Column("position", BigInteger, primary_key=True, comment="notification id of the removal or transfer"),
    Column("event_id", key(HID), nullable=False),
    Column("household_id", key(HID), nullable=False, index=True),
    Column("no_kk", SealedText, nullable=False),
    Column("kind", String(16), nullable=False, comment="REMOVED or TRANSFERRED"),
    Column("program", key(40), nullable=False),
    Column("tahap", Integer, nullable=False),
    Column("to_program", String(40)),
    Column("authority", String(200), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("decree_ref", String(200), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("reinstated_on", Date),
    Column("reinstated_at", UTCDateTime),
    Column("reinstated_event_id", String(HID)),
    comment="removals and transfers, from a tahap on, until a reinstatement",
)
Index("ix_withdrawal_program_tahap", withdrawal.c.program, withdrawal.c.tahap)

timeline = Table(
    "timeline",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("event_id", String(HID), nullable=False),
    Column("aggregate_id", key(HID), nullable=False),
    Column("kind", String(16), nullable=False, comment="household, program or person"),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("effective_on", Date),
    Column("actor", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("data", PartlySealedJSON, nullable=False, comment="the event's fields, personal ones sealed"),
    comment="every event in commit order (the household timeline and the feed)",
)
Index("ix_timeline_aggregate_id_position", timeline.c.aggregate_id, timeline.c.position)

programs = Table(
    "programs",
    metadata,
    Column("code", key(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("budget_source", String(20), nullable=False),
    Column("group", String(20), nullable=False),
    Column("defined_at", UTCDateTime, nullable=False),
    Column("position", BigInteger, nullable=False),
    comment="aid programs",
)

program_tahap = Table(
    "program_tahap",
    metadata,
    Column("program", key(40), primary_key=True),
    Column("tahap", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("budget_source", String(20), nullable=False),
    Column("group", String(20), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("quota", Integer, nullable=False),
    Column("amount_idr", BigInteger, nullable=False),
    Column("budget_ceiling_idr", BigInteger, nullable=False),
    Column("decree_ref", String(200), nullable=False),
    Column("assigned", Integer, nullable=False),
    Column("committed_idr", BigInteger, nullable=False),
    Column("roster_hash", String(64)),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_event_id", String(HID), nullable=False),
    Column("certified_at", UTCDateTime),
    Column("position", BigInteger, nullable=False),
    comment="each program's tahap: period, quota, amount, ceiling, decree and what is committed",
)

VIEW_TABLES = (
    household,
    person_index,
    household_status,
    tahap_roster,
    payment_ledger,
    withdrawal,
    timeline,
    programs,
    program_tahap,
)
"""The tables the projection fills (a rebuild empties exactly these)."""

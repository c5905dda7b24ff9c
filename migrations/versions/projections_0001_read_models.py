"""projections: the read models (households, person index, status, roster, ledger, timeline, programs).

Revision ID: projections_0001
Revises:
Create Date: 2024-11-29 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

JSON_DOC = sa.JSON()

revision: str = "projections_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("projections",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the read-model tables."""
    op.create_table(
        "household",
        sa.Column(
            "household_id", sa.String(length=36), nullable=False, comment="keyed HMAC UUID of the No. KK"
        ),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kecamatan", sa.String(length=20), nullable=True),
        sa.Column("kelurahan", sa.String(length=20), nullable=True),
        sa.Column("first_source", sa.String(length=40), nullable=False),
        sa.Column("city_proposed", sa.Boolean(), nullable=False),
        sa.Column("padan", sa.String(length=20), nullable=True),
        sa.Column("padan_on", sa.Date(), nullable=True),
        sa.Column("verval", sa.String(length=20), nullable=True),
        sa.Column("verval_on", sa.Date(), nullable=True),
        sa.Column(
            "members", JSON_DOC, nullable=False, comment="nik_hash, name_hash, masked_name, relationship"
        ),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household")),
        sa.UniqueConstraint("no_kk", name=op.f("uq_household_no_kk")),
        comment="current state of each household",
    )
    op.create_index("ix_household_kelurahan", "household", ["kelurahan"], unique=False)
    op.create_table(
        "household_status",
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("tahap", sa.Integer(), nullable=False),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
            comment="seat state, or LEFT_OUT",
        ),
        sa.Column("amount_idr", sa.BigInteger(), nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("left_out_code", sa.String(length=40), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("cutoff", sa.Integer(), nullable=True),
        sa.Column("other_program", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "program", "tahap", name=op.f("pk_household_status")),
        comment="current state of each household in each program's tahap (seats and recorded left-outs)",
    )
    op.create_index(
        "ix_household_status_program_tahap_state",
        "household_status",
        ["program", "tahap", "state"],
        unique=False,
    )
    op.create_table(
        "payment_ledger",
        sa.Column(
            "position",
            sa.BigInteger(),
            nullable=False,
            comment="notification id of the PaymentRecorded event",
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column("budget_source", sa.String(length=20), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("tahap", sa.Integer(), nullable=False),
        sa.Column("amount_idr", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False, comment="paid_at's date in WIB"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seated", sa.Boolean(), nullable=False, comment="the household held a seat in that tahap"),
        sa.Column(
            "after_removal",
            sa.Boolean(),
            nullable=False,
            comment="a PAID on or after the effective date of a removal or transfer (however late recorded)",
        ),
        sa.Column("roster_hash", sa.String(length=64), nullable=True),
        sa.Column("warnings", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_payment_ledger")),
        comment="every payment attempt, every Rupiah",
    )
    op.create_index(
        "ix_payment_ledger_household_program", "payment_ledger", ["household_id", "program"], unique=False
    )
    op.create_index("ix_payment_ledger_program_tahap", "payment_ledger", ["program", "tahap"], unique=False)
    op.create_table(
        "person_index",
        sa.Column("nik_hash", sa.String(length=64), nullable=False, comment="keyed_hex(id_key, 'nik', NIK)"),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column(
            "name_hash",
            sa.String(length=64),
            nullable=False,
            comment="keyed_hex(id_key, 'name', NIK:folded name)",
        ),
        sa.Column("masked_name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("nik_hash", name=op.f("pk_person_index")),
        comment="which household a NIK belongs to now",
    )
    op.create_index(op.f("ix_person_index_household_id"), "person_index", ["household_id"], unique=False)
    op.create_table(
        "program_tahap",
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("tahap", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("budget_source", sa.String(length=20), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("amount_idr", sa.BigInteger(), nullable=False),
        sa.Column("budget_ceiling_idr", sa.BigInteger(), nullable=False),
        sa.Column("decree_ref", sa.String(length=200), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("committed_idr", sa.BigInteger(), nullable=False),
        sa.Column("roster_hash", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_event_id", sa.String(length=36), nullable=False),
        sa.Column("certified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program", "tahap", name=op.f("pk_program_tahap")),
        comment="each program's tahap: period, quota, amount, ceiling, decree and what is committed",
    )
    op.create_table(
        "programs",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("budget_source", sa.String(length=20), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("defined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_programs")),
        comment="aid programs",
    )
    op.create_table(
        "projection_position",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False, comment="last notification id applied"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projection_position")),
        comment="how far each projection has applied the event store (committed with its rows)",
    )
    op.create_table(
        "tahap_roster",
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("tahap", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column("amount_idr", sa.BigInteger(), nullable=False),
        sa.Column("budget_source", sa.String(length=20), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("decree_ref", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
            comment="ASSIGNED, PAID, FAILED, RETURNED or REMOVED",
        ),
        sa.Column(
            "last_status", sa.String(length=16), nullable=True, comment="the latest payment's status, if any"
        ),
        sa.Column(
            "paid", sa.Boolean(), nullable=False, comment="a PAID payment stands (not followed by RETURNED)"
        ),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "paid_at", sa.DateTime(timezone=True), nullable=True, comment="recorded time of the latest PAID"
        ),
        sa.Column(
            "failed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="recorded time of the latest FAILED",
        ),
        sa.Column(
            "returned_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="recorded time of the latest RETURNED",
        ),
        sa.Column(
            "removed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="recorded time of the standing removal",
        ),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("program", "tahap", "household_id", name=op.f("pk_tahap_roster")),
        comment="seats of each tahap; as-of questions combine it with payment_ledger and withdrawal",
    )
    op.create_index("ix_tahap_roster_household_id", "tahap_roster", ["household_id"], unique=False)
    op.create_table(
        "timeline",
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("aggregate_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="household, program or person"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_timeline")),
        comment="every event in commit order (the household timeline and the feed)",
    )
    op.create_index(
        "ix_timeline_aggregate_id_position", "timeline", ["aggregate_id", "position"], unique=False
    )
    op.create_table(
        "withdrawal",
        sa.Column(
            "position",
            sa.BigInteger(),
            nullable=False,
            comment="notification id of the removal or transfer",
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="REMOVED or TRANSFERRED"),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("tahap", sa.Integer(), nullable=False),
        sa.Column("to_program", sa.String(length=40), nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("decree_ref", sa.String(length=200), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reinstated_on", sa.Date(), nullable=True),
        sa.Column("reinstated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reinstated_event_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_withdrawal")),
        sa.UniqueConstraint("event_id", name=op.f("uq_withdrawal_event_id")),
        comment="removals and transfers, from a tahap on, until a reinstatement",
    )
    op.create_index(op.f("ix_withdrawal_household_id"), "withdrawal", ["household_id"], unique=False)
    op.create_index("ix_withdrawal_program_tahap", "withdrawal", ["program", "tahap"], unique=False)


def downgrade() -> None:
    """Drop them."""
    op.drop_table("withdrawal")
    op.drop_table("timeline")
    op.drop_table("tahap_roster")
    op.drop_table("projection_position")
    op.drop_table("programs")
    op.drop_table("program_tahap")
    op.drop_table("person_index")
    op.drop_table("payment_ledger")
    op.drop_table("household_status")
    op.drop_table("household")

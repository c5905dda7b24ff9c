"""Audit: tamper-evident chain, certified rosters and evidence export."""

"""Alembic migrations (import name ``salur_cases.migrations``) for the read-model tables."""

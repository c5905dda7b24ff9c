"""Every read-side table module, imported so that `metadata` knows them all (for alembic)."""

from __future__ import annotations

import salur_cases.intake.tables
import salur_cases.projections.tables
from salur_cases.projections.tables import metadata

__all__ = ["metadata"]

_MODULES = (salur_cases.intake.tables, salur_cases.projections.tables)

"""Every read-side table module, imported so that `metadata` knows them all (for alembic).

Each area declares its tables on `salur_cases.projections.tables.metadata` in its own module and
migrates them on its own alembic branch; list the module here so autogenerate and the schema
checks see it.
"""

from __future__ import annotations

import salur_cases.api.tables
import salur_cases.intake.tables
import salur_cases.projections.tables
from salur_cases.projections.tables import metadata

__all__ = ["metadata"]

_MODULES = (salur_cases.api.tables, salur_cases.intake.tables, salur_cases.projections.tables)

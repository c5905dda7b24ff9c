"""The import kinds, one module each: how a kind's rows are checked, grouped into batches and written."""

from __future__ import annotations

from collections.abc import Mapping

from salur_cases.intake.kinds.cleansing import Cleansing
from salur_cases.intake.kinds.payments import Payments
from salur_cases.intake.kinds.population import Population
from salur_cases.intake.kinds.registrations import Registrations
from salur_cases.intake.kinds.roster import Roster
from salur_cases.intake.kinds.verval import Verval
from salur_cases.intake.steps import Kind

KINDS: Mapping[str, Kind] = {
    "registrations": Registrations(),
    "population": Population(),
    "verval": Verval(),
    "roster": Roster(),
    "cleansing": Cleansing(),
    "payments": Payments(),
}
"""Each kind by its name (the columns of each are in `salur_cases.intake.columns`)."""

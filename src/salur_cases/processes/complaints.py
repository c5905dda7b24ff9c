"""Complaints: an aduan filed about a household, and its resolution."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import FileComplaint, ResolveComplaint
from salur_cases.processes.unit_of_work import HouseholdOutcome, household_at, retrying, saved

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication


@retrying
def file_complaint(
    app: SalurApplication,
    no_kk: str,
    complaint: FileComplaint,
    actor: Actor,
    expected_version: int | None = None,
) -> tuple[str, HouseholdOutcome]:
    """Record an aduan; returns its id."""
    household = household_at(app, no_kk, expected_version)
    complaint_id = uuid.uuid4().hex
    household.file_complaint(complaint_id, complaint, actor)
    return complaint_id, saved(app, household)


@retrying
def resolve_complaint(
    app: SalurApplication,
    no_kk: str,
    complaint_id: str,
    resolution: ResolveComplaint,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Answer an aduan."""
    household = household_at(app, no_kk, expected_version)
    household.resolve_complaint(complaint_id, resolution, actor)
    return saved(app, household)

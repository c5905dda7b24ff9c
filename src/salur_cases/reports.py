"""`salur report NAME`: each report lives with its area; this hands over to it."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import cast

REPORTS = {
    "programs": "salur_cases.projections.reports:programs_command",
    "padan-suggestions": "salur_cases.projections.reports:padan_suggestions_command",
    "budget": "salur_cases.projections.audit.cli:budget_command",
    "anomalies": "salur_cases.projections.audit.cli:anomalies_command",
    "payments": "salur_cases.projections.audit.cli:payments_command",
}


def report_command(args: argparse.Namespace) -> int:
    """Run the named report."""
    module, _, name = REPORTS[args.name].partition(":")
    return cast("Callable[[argparse.Namespace], int]", getattr(importlib.import_module(module), name))(args)

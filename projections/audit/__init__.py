"""Audit: budget, payment ledger, anomaly report, tamper-evident chain verification and evidence export.

The functions the API calls: `verify(runtime, head)`, `evidence_lines(runtime, no_kk, program, tahap)`,
`budget_rows(runtime)`, `payments(runtime, role, program, tahap, limit, cursor)` and
`anomalies(runtime, filters, limit, cursor)`.
"""

from salur_cases.projections.audit.budget import BUDGET_FIELDS, budget_rows
from salur_cases.projections.audit.evidence import evidence_lines
from salur_cases.projections.audit.findings import CODES
from salur_cases.projections.audit.ledger import LEDGER_FIELDS, payments
from salur_cases.projections.audit.triage import Filters, anomalies
from salur_cases.projections.audit.verification import parse_head, verify

__all__ = [
    "BUDGET_FIELDS",
    "CODES",
    "LEDGER_FIELDS",
    "Filters",
    "anomalies",
    "budget_rows",
    "evidence_lines",
    "parse_head",
    "payments",
    "verify",
]

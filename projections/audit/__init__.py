"""Audit: budget ledger, anomaly report, tamper-evident chain verification and evidence export.

The functions the API calls: `verify(runtime, head)`, `evidence_lines(runtime, no_kk, program, tahap)`,
`budget_rows(runtime)` and `anomalies(runtime, code, limit, cursor)`.
"""

from salur_cases.projections.audit.budget import BUDGET_FIELDS, budget_rows
from salur_cases.projections.audit.evidence import evidence_lines
from salur_cases.projections.audit.findings import CODES, anomalies
from salur_cases.projections.audit.verification import parse_head, verify

__all__ = ["BUDGET_FIELDS", "CODES", "anomalies", "budget_rows", "evidence_lines", "parse_head", "verify"]

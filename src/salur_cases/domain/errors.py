"""Domain refusals: a rule said no, and nothing was written."""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    """CONTRACT.md's refusal list; a published code never changes meaning."""

    QUOTA_FULL = "QUOTA_FULL"
    CEILING_REACHED = "CEILING_REACHED"
    ALREADY_RECEIVING = "ALREADY_RECEIVING"
    NIK_IN_OTHER_HOUSEHOLD = "NIK_IN_OTHER_HOUSEHOLD"
    NOT_MATCHED = "NOT_MATCHED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NOT_ASSIGNED = "NOT_ASSIGNED"
    ALREADY_PAID = "ALREADY_PAID"
    AMOUNT_ABOVE_TAHAP = "AMOUNT_ABOVE_TAHAP"
    OUTSIDE_CITY = "OUTSIDE_CITY"
    REMOVED = "REMOVED"
    NOT_REMOVED = "NOT_REMOVED"
    UNKNOWN_HOUSEHOLD = "UNKNOWN_HOUSEHOLD"
    UNKNOWN_PROGRAM = "UNKNOWN_PROGRAM"
    UNKNOWN_TAHAP = "UNKNOWN_TAHAP"
    PROGRAM_EXISTS = "PROGRAM_EXISTS"
    TAHAP_EXISTS = "TAHAP_EXISTS"
    TAHAP_CERTIFIED = "TAHAP_CERTIFIED"
    # Added by this project (the list may grow):
    NOT_PAID = "NOT_PAID"
    """A RETURNED payment with no PAID payment to return."""
    UNKNOWN_COMPLAINT = "UNKNOWN_COMPLAINT"
    UNKNOWN_MEMBER = "UNKNOWN_MEMBER"


class Refusal(Exception):
    """A command broke a domain rule. `message` never carries a NIK or a name."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidCommand(ValueError):
    """A command's input is malformed (a validation error naming the field, not a rule refusal).

    `code` is the one the CLI and the API both report: `INVALID_REQUEST`, or a more precise one
    where the input names something that does not exist (`UNKNOWN_TAHAP`).
    """

    def __init__(self, field: str, message: str, *, code: str = "INVALID_REQUEST") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class StaleVersion(Exception):
    """The household changed since the version the caller read (a stale `If-Match`)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"household is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual

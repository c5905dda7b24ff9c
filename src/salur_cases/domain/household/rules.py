"""The texts of the Household's refusals, and the check that a decision names what it must."""

from __future__ import annotations

from salur_cases.domain.errors import InvalidCommand, RefusalCode


def require(value: str, field_name: str) -> str:
    if not value or not value.strip():
        raise InvalidCommand(field_name, "is required")
    return value.strip()


def problem_message(code: RefusalCode, other: str | None = None, tahap: int | None = None) -> str:
    messages = {
        RefusalCode.NOT_MATCHED: "the household's padan is not MATCHED",
        RefusalCode.NOT_ELIGIBLE: "the household's latest verval is not ELIGIBLE",
        RefusalCode.REMOVED: "the household is removed from this program",
        RefusalCode.ALREADY_RECEIVING: f"the household already receives {other} in an overlapping period",
        RefusalCode.NOT_ASSIGNED: f"the household holds no seat in {other} tahap {tahap}",
        RefusalCode.AMOUNT_ABOVE_TAHAP: "the amount is above the tahap's amount per household",
        RefusalCode.ALREADY_PAID: f"the household is already paid in {other} tahap {tahap}",
        RefusalCode.NOT_PAID: "there is no standing PAID payment to return",
    }
    return messages.get(code, str(code))

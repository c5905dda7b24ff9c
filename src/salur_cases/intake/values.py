"""Small value parsers shared by the importers and the command line."""

from __future__ import annotations

import re
from datetime import date, datetime

from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.parsing import parse_date, parse_time

ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
    "XI": 11,
    "XII": 12,
}

_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_tahap(value: object) -> int:
    """A tahap number, given as a number (`5`) or a Roman numeral (`V`)."""
    text = str(value).strip().upper()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    if text in ROMAN:
        return ROMAN[text]
    raise ValueError("tahap must be a number (1, 2, ...) or a Roman numeral (I, II, ...)")


def parse_day(text: str, field_name: str) -> date:
    """A date as ISO (`2020-04-27`) or day first as Indonesians write it (`27/04/2020`, `27-04-2020`)."""
    found = _DAY_FIRST.fullmatch(text.strip())
    if found is None:
        return parse_date(text, field_name)
    try:
        return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        raise InvalidCommand(field_name, "must be a date (YYYY-MM-DD or DD/MM/YYYY)") from None


def parse_moment(text: str, field_name: str) -> datetime:
    """A time as ISO 8601 or day first (`27/04/2020 10:00`); without an offset it is WIB."""
    found = _DAY_FIRST.fullmatch(text.strip())
    if found is None:
        return parse_time(text, field_name)
    try:
        moment = datetime(
            int(found[3]),
            int(found[2]),
            int(found[1]),
            int(found[4] or 0),
            int(found[5] or 0),
            int(found[6] or 0),
        )
    except ValueError:
        raise InvalidCommand(field_name, "must be a time (ISO 8601 or DD/MM/YYYY HH:MM)") from None
    return parse_time(moment, field_name)

"""Field types of the API's shapes: their bounds and the examples the OpenAPI document shows.

Shared by the request Structs (`salur_cases.api.schemas`) and the read side's answers
(`salur_cases.projections.schemas`); the examples are invented people, the same household throughout.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from salur_cases.identifiers import PROVINCE_CODES

EXAMPLE_NO_KK = "3271031503200001"
EXAMPLE_NIK = "3271031507750001"
EXAMPLE_NAME = "Budi Santoso"


def example(value: Any, description: str | None = None, **constraints: Any) -> Meta:
    """A field's example (and description) for the OpenAPI document, with its bounds."""
    schema: dict[str, Any] = {"examples": [value]}
    if description:
        schema["description"] = description
    return Meta(extra_json_schema=schema, **constraints)


END = r"$(?!\n)"
"""The end of the text, in JSON Schema's (ECMA-262) sense: Python's ``$`` alone also matches before a
final newline, which the servers' parsers refuse, so every pattern ends with this."""


def _identifier_pattern(day_offset: int) -> str:
    """16 digits as the parsers accept them: a known province, a possible day (plus ``day_offset``)
    and month, and a serial number other than 0000."""
    provinces = "|".join(sorted(PROVINCE_CODES))
    days_by_length = {31: "(?:0[13578]|1[02])", 30: "(?:0[469]|11)", 29: "02"}
    dates = []
    for length, months in days_by_length.items():
        first, last = day_offset + 1, day_offset + length
        days = "|".join(f"{d:02d}" for d in range(first, last + 1))
        dates.append(f"(?:{days}){months}")
    serial = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
    return f"^(?:{provinces})[0-9]{{4}}(?:{'|'.join(dates)})[0-9]{{2}}{serial}{END}"


NO_KK_PATTERN = _identifier_pattern(0)
"""A No. KK: province, regency and kecamatan, the issue date (DDMMYY) and a serial number."""
NIK_PATTERN = "|".join((_identifier_pattern(0), _identifier_pattern(40)))
"""A NIK: like a No. KK, with the birth date, whose day is raised by 40 for a woman."""
REQUIRED_TEXT = r"\S"
"""Text that is required holds something other than white space."""
_UNPRINTABLE = (
    r"\x00-\x1f\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u1680\u180e\u2000-\u200f"
    r"\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb"
)
NAME_PATTERN = rf"^[^{_UNPRINTABLE}]*[^{_UNPRINTABLE}\s][^{_UNPRINTABLE}]*{END}"
"""A person's name: not blank, and without control or text-direction characters (an RTL mark, a
zero-width space), which imports refuse too, since such a name prints other than it compares."""
CODE_PATTERN = r"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*" + END
"""A program code: not blank, no control characters."""
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}" + END
"""An ``Idempotency-Key``: 1 to 255 visible ASCII characters."""


def _shown(value: str, description: str, pattern: str, **constraints: Any) -> Meta:
    """An identifier's example, with a ``pattern`` the document states (under ``extra``, which
    Litestar adds to the field's schema) and the parser enforces (its messages say which rule a
    value breaks)."""
    schema = {"examples": [value], "description": description, "extra": {"pattern": pattern}}
    return Meta(extra_json_schema=schema, **constraints)


NoKK = Annotated[str, _shown(EXAMPLE_NO_KK, "No. KK: 16 digits", NO_KK_PATTERN, min_length=1, max_length=32)]
Nik = Annotated[str, _shown(EXAMPLE_NIK, "NIK: 16 digits", NIK_PATTERN, min_length=1, max_length=32)]
Code = Annotated[
    str, example("WALIKOTA", "a program code", min_length=1, max_length=40, pattern=CODE_PATTERN)
]
TahapNumber = Annotated[int, example(1, "a tahap number", ge=1, le=1000)]
Rupiah = Annotated[int, example(500_000, "whole Rupiah", ge=0, le=10**15)]

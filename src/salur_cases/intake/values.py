"""Small value parsers shared by the importers and the command line."""

from __future__ import annotations

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10,
         "XI": 11, "XII": 12}


def parse_tahap(value: object) -> int:
    """A tahap number, given as a number (`5`) or a Roman numeral (`V`)."""
    text = str(value).strip().upper()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    if text in ROMAN:
        return ROMAN[text]
    raise ValueError("tahap must be a number (1, 2, ...) or a Roman numeral (I, II, ...)")

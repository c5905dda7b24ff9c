"""Value types for the identifiers of people and households, and keyed hashes of them.

A NIK (Nomor Induk Kependudukan) is a person's 16-digit national ID: ``PPKKCC DDMMYY SSSS`` =
province, regency/city and kecamatan codes, birth date (day + 40 for women), and a serial that is
never 0000. A No. KK (Kartu Keluarga number) names a household: the issuing kecamatan's 6-digit
code, the issue date DDMMYY (no +40) and a serial. Neither has a check digit.

Both are personal data: error messages name the problem and never repeat the value, and ids or
lookup columns derived from them are keyed HMACs (:func:`keyed_uuid`, :func:`keyed_hex`) that nobody
without the key can recompute by enumerating the ~10^10 plausible numbers.
"""

from __future__ import annotations

import functools
import hmac
import re
import uuid
from typing import Self

__all__ = [
    "PROVINCE_CODES",
    "WRITTEN_IDENTIFIER",
    "InvalidIdentifier",
    "Nik",
    "NoKK",
    "keyed_hash",
    "keyed_hex",
    "keyed_uuid",
    "parse_rupiah",
]

KOTA_BOGOR = "3271"
ID_LENGTH = 16

PROVINCE_CODES: frozenset[str] = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 97),
    )
)

# The year has two digits, so 29 February is always accepted.
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FEMALE_DAY_OFFSET = 40
_MAX_DAY = 31
_WHITESPACE = re.compile(r"\s+")
WRITTEN_IDENTIFIER = re.compile(r"\d(?:\s*\d){15,}")
"""Every way a NIK or No. KK may be written to the parsers (16 digits, spaces anywhere between them),
and any longer run: what logs mask. Dots, dashes and non-ASCII digits are refused by the parsers."""


class InvalidIdentifier(ValueError):
    """A value that is not a valid identifier or amount; ``message`` never contains the value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


def _digits16(value: object, field: str, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(field, f"{label} must be given as text of 16 digits")
    text = _WHITESPACE.sub("", value)
    if not text:
        raise InvalidIdentifier(field, f"{label} is empty")
    if not (text.isascii() and text.isdigit()):
        raise InvalidIdentifier(field, f"{label} must contain only digits")
    if len(text) != ID_LENGTH:
        raise InvalidIdentifier(field, f"{label} must have exactly 16 digits, got {len(text)}")
    if text[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier(field, f"{label} starts with an unknown province code")
    if text[12:] == "0000":
        raise InvalidIdentifier(field, f"{label} has serial number 0000, which is never issued")
    return text


def _check_date(day: int, month: int, field: str, label: str, what: str) -> None:
    if not 1 <= month <= len(_DAYS_IN_MONTH):
        raise InvalidIdentifier(field, f"{label} has an impossible {what} month")
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        raise InvalidIdentifier(field, f"{label} has an impossible {what} day")


class Nik(str):
    """A valid NIK, as its 16 digits. Build with :meth:`parse`."""

    __slots__ = ()

    @classmethod
    def parse(cls, value: str, field: str = "nik") -> Self:
        """Validate ``value`` (spaces are ignored) or raise :class:`InvalidIdentifier` for ``field``."""
        text = _digits16(value, field, "NIK")
        day = int(text[6:8])
        if day > _FEMALE_DAY_OFFSET:
            day -= _FEMALE_DAY_OFFSET
        elif day > _MAX_DAY:
            raise InvalidIdentifier(field, "NIK has an impossible birth day")
        _check_date(day, int(text[8:10]), field, "NIK", "birth")
        return cls(text)

    @property
    def province_code(self) -> str:
        """The 2-digit province code (32 = Jawa Barat)."""
        return self[:2]

    @property
    def regency_code(self) -> str:
        """The 4-digit regency/city code (3271 = Kota Bogor)."""
        return self[:4]

    @property
    def kecamatan_code(self) -> str:
        """The 6-digit kecamatan (district) code, e.g. ``327103`` for Bogor Tengah."""
        return self[:6]

    @property
    def is_female(self) -> bool:
        """Women's NIK carry the birth day plus 40."""
        return int(self[6:8]) > _FEMALE_DAY_OFFSET

    @property
    def birth_day(self) -> int:
        """Day of birth (the +40 for women removed)."""
        day = int(self[6:8])
        return day - _FEMALE_DAY_OFFSET if day > _FEMALE_DAY_OFFSET else day

    @property
    def birth_month(self) -> int:
        """Month of birth."""
        return int(self[8:10])

    @property
    def birth_yy(self) -> int:
        """Two-digit year of birth."""
        return int(self[10:12])

    @property
    def in_kota_bogor(self) -> bool:
        """Whether the NIK was issued in Kota Bogor."""
        return self.regency_code == KOTA_BOGOR

    def masked(self) -> str:
        """The first 4 and last 4 digits, e.g. ``3271********0001``: safe for logs and screens."""
        return _mask(self)


class NoKK(str):
    """A valid No. KK (family card number), as its 16 digits. Build with :meth:`parse`."""

    __slots__ = ()

    @classmethod
    def parse(cls, value: str, field: str = "no_kk") -> Self:
        """Validate ``value`` (spaces are ignored) or raise :class:`InvalidIdentifier` for ``field``."""
        text = _digits16(value, field, "No. KK")
        _check_date(int(text[6:8]), int(text[8:10]), field, "No. KK", "issue")
        return cls(text)

    @property
    def kecamatan_code(self) -> str:
        """The issuing kecamatan's 6-digit code."""
        return self[:6]

    def masked(self) -> str:
        """The first 4 and last 4 digits, e.g. ``3271********0001``."""
        return _mask(self)


def _mask(digits: str) -> str:
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


_PLAIN = re.compile(r"\d+")
_GROUPED_DOT = re.compile(r"\d{1,3}(?:\.\d{3})+")
_GROUPED_COMMA = re.compile(r"\d{1,3}(?:,\d{3})+")
_RP_PREFIX = re.compile(r"^rp\.?\s*", re.IGNORECASE)


def parse_rupiah(value: object, field: str = "amount_idr") -> int:
    """Whole Rupiah from an int or a text like ``500000``, ``500.000``, ``500,000`` or ``Rp500.000``.

    Decimals, negative amounts, booleans and anything else raise :class:`InvalidIdentifier`.
    """
    if isinstance(value, bool):
        raise InvalidIdentifier(field, "amount must be a whole number of Rupiah, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise InvalidIdentifier(field, "amount must not be negative")
        return value
    if not isinstance(value, str):
        raise InvalidIdentifier(field, "amount must be a whole number of Rupiah")
    text = _RP_PREFIX.sub("", value.strip()).replace(" ", "")
    if not text:
        raise InvalidIdentifier(field, "amount is empty")
    if text.startswith("-"):
        raise InvalidIdentifier(field, "amount must not be negative")
    if not text.isascii():
        raise InvalidIdentifier(field, "amount must be written with digits")
    for pattern in (_PLAIN, _GROUPED_DOT, _GROUPED_COMMA):
        if pattern.fullmatch(text):
            return int(text.replace(".", "").replace(",", ""))
    if re.fullmatch(r"[\d.,]+", text):
        raise InvalidIdentifier(field, "amount must be whole Rupiah, without decimals")
    raise InvalidIdentifier(field, "amount must be a whole number of Rupiah")


def keyed_hash(key: bytes, kind: str, value: str) -> bytes:
    """HMAC-SHA-256 of ``kind:value`` under ``key`` (e.g. ``kind="nik"``)."""
    mac = _keyed(key).copy()
    mac.update(f"{kind}:{value}".encode())
    return mac.digest()


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    """The HMAC keyed once: each hash copies it, rather than keying SHA-256 again (half the time)."""
    return hmac.new(key, digestmod="sha256")


def keyed_uuid(key: bytes, kind: str, value: str) -> uuid.UUID:
    """An aggregate id from a natural key: the first 16 bytes of :func:`keyed_hash`."""
    return uuid.UUID(bytes=keyed_hash(key, kind, value)[:16])


def keyed_hex(key: bytes, kind: str, value: str) -> str:
    """The hex digest of :func:`keyed_hash`, for lookup columns."""
    return keyed_hash(key, kind, value).hex()

"""Plain words for values in explanations, letters and histories: Indonesian (`id`) and English (`en`).

Dates as "8 Juni 2020" / "8 June 2020", recorded times in WIB ("8 Juni 2020 pukul 09.00 WIB"),
Rupiah as "Rp600.000" / "IDR 600,000", and labels for the codes the JSON keeps in its own fields
(outcomes, padan results, payment statuses, sources), so no code ever stands inside a sentence.
Kecamatan and kelurahan are named from the reference data (`salur_cases.wilayah`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from salur_cases import wilayah
from salur_cases.domain.clock import WIB

LANGUAGES = ("id", "en")

_MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}  # fmt: skip

OUTCOMES = {
    "STILL_RECEIVING": {"id": "Masih menerima", "en": "Still receiving"},
    "DROPPED": {"id": "Berhenti menerima", "en": "Stopped receiving"},
    "STARTED": {"id": "Mulai menerima", "en": "Started receiving"},
    "NEVER_RECEIVED": {"id": "Tidak menerima", "en": "Not receiving"},
    "AWAITING_PAYMENT": {"id": "Menunggu pembayaran", "en": "Awaiting payment"},
}
PADAN = {
    "MATCHED": {"id": "padan", "en": "matched"},
    "NIK_NOT_FOUND": {
        "id": "NIK tidak ditemukan pada kartu keluarga ini",
        "en": "NIK not found on this family card",
    },
    "OUTSIDE_CITY": {"id": "tercatat di luar Kota Bogor", "en": "registered outside Kota Bogor"},
    "DECEASED": {"id": "tercatat meninggal dunia", "en": "recorded as deceased"},
    "MOVED": {"id": "tercatat pindah domisili", "en": "recorded as moved away"},
    "NAME_MISMATCH": {
        "id": "nama berbeda dengan data kependudukan",
        "en": "name differs from the population record",
    },
    "NOT_EKTP": {"id": "kepala keluarga belum memiliki e-KTP", "en": "the head of household has no e-KTP"},
}  # fmt: skip
PAYMENTS = {
    "PAID": {"id": "dibayar", "en": "paid"},
    "FAILED": {"id": "gagal", "en": "failed"},
    "RETURNED": {"id": "dikembalikan", "en": "returned"},
}
SOURCES = {
    "KELURAHAN": {"id": "kelurahan", "en": "the kelurahan"},
    "SELF": {"id": "pendaftaran mandiri", "en": "self-registration"},
    "DINAS": {"id": "dinas", "en": "a city department"},
    "DPRD": {"id": "anggota DPRD", "en": "a DPRD member"},
    "DTKS": {"id": "DTKS", "en": "DTKS"},
    "PROVINSI": {"id": "Pemerintah Provinsi", "en": "the provincial government"},
    "KEMENSOS": {"id": "Kemensos", "en": "Kemensos"},
}
DECISIONS = {
    "ELIGIBLE": {"id": "layak", "en": "eligible"},
    "INELIGIBLE": {"id": "tidak layak", "en": "not eligible"},
}


def language(lang: str) -> str:
    """`id` or `en` (anything else is Indonesian, the default)."""
    return lang if lang in LANGUAGES else "id"


def label(table: Mapping[str, Mapping[str, str]], code: str | None, lang: str) -> str:
    """A code's words (the code's own words, lower case, when the table lacks it)."""
    if code is None:
        return ""
    words = table.get(code.partition(":")[0])
    return words[language(lang)] if words else code.replace("_", " ").lower()


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(WIB).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text).astimezone(WIB).date() if "T" in text else date.fromisoformat(text)


def day(value: Any, lang: str) -> str:
    """`8 Juni 2020` / `8 June 2020`."""
    d = _as_date(value)
    if d is None:
        return ""
    return f"{d.day} {_MONTHS[language(lang)][d.month - 1]} {d.year}"


def moment(value: Any, lang: str) -> str:
    """A recorded time in WIB: `8 Juni 2020 pukul 09.00 WIB` / `8 June 2020 at 09:00 WIB`."""
    if value is None or value == "":
        return ""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    t = t.astimezone(WIB) if t.tzinfo else t
    if language(lang) == "id":
        return f"{day(t, lang)} pukul {t:%H.%M} WIB"
    return f"{day(t, lang)} at {t:%H:%M} WIB"


def rupiah(amount: int | None, lang: str) -> str:
    """`Rp600.000` / `IDR 600,000`."""
    if amount is None:
        return ""
    if language(lang) == "id":
        return "Rp" + f"{amount:,}".replace(",", ".")
    return f"IDR {amount:,}"


def place(address: Mapping[str, str] | None, lang: str) -> str:  # noqa: ARG001 - the names are proper nouns
    """`RT 3 RW 2, Kelurahan Batutulis, Kecamatan Bogor Selatan` from the address's codes (or names)."""
    if not address:
        return ""
    kelurahan = wilayah.kelurahan(str(address.get("kelurahan", "")))
    if kelurahan is None:
        return ""
    where = f"Kelurahan {kelurahan.name}, Kecamatan {kelurahan.kecamatan.name}"
    if address.get("rw") and address.get("rt"):
        where = f"RT {address['rt']} RW {address['rw']}, " + where
    return where


def program_name(names: Mapping[str, str], code: str | None) -> str:
    """A program's name from its record (the code only if the program has no name)."""
    if code is None:
        return ""
    return names.get(code) or code

"""The console's words in Indonesian (the default) and English, and the formats of Rupiah and dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from salur_cases.domain.clock import WIB

LANGS = ("id", "en")
DEFAULT_LANG = "id"
LANG_COOKIE = "salur_lang"

_MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}  # fmt: skip

WORDS: dict[str, tuple[str, str]] = {
    "app": ("Konsol SALUR Kota Bogor", "SALUR console, Kota Bogor"),
    "skip": ("Langsung ke isi", "Skip to content"),
    "nav": ("Menu utama", "Main menu"),
    "home": ("Beranda", "Home"),
    "search": ("Cari keluarga", "Find a household"),
    "budget": ("Anggaran", "Budget"),
    "anomalies": ("Anomali", "Anomalies"),
    "chain": ("Rantai bukti", "Evidence chain"),
    "downloads": ("Unduhan", "Downloads"),
    "api_docs": ("Dokumentasi API", "API documentation"),
    "switch_lang": ("English", "Bahasa Indonesia"),
    "signed_in_as": ("Masuk sebagai", "Signed in as"),
    "sign_in": ("Masuk", "Sign in"),
    "sign_out": ("Keluar", "Sign out"),
    "account": ("Nama akun", "Account name"),
    "password": ("Kata sandi", "Password"),
    "sign_in_wrong": ("Nama akun atau kata sandi salah.", "Wrong account name or password."),
    "sign_in_locked": (
        "Akun ini dikunci 15 menit setelah 10 kali gagal masuk.",
        "This account is locked for 15 minutes after 10 failed sign-ins.",
    ),
    "sign_in_disabled": ("Akun ini dinonaktifkan.", "This account is disabled."),
    "find_hint": (
        "NIK atau No. KK (16 angka), persis. Petugas kelurahan hanya menemukan keluarga di kelurahannya.",
        "NIK or No. KK (16 digits), exactly. Kelurahan officers find households of their own kelurahan only.",
    ),
    "identifier": ("NIK atau No. KK", "NIK or No. KK"),
    "find": ("Cari", "Find"),
    "not_found": ("Tidak ada keluarga dengan nomor ini.", "No household has this number."),
    "bad_number": ("Nomor harus 16 angka yang sah.", "The number must be 16 valid digits."),
    "outside": (
        "Keluarga ini bukan di kelurahan Anda.",
        "This household is not in your kelurahan.",
    ),
    "forbidden": ("Anda tidak berwenang membuka halaman ini.", "You may not open this page."),
    "household": ("Keluarga", "Household"),
    "address": ("Alamat", "Address"),
    "members": ("Anggota keluarga", "Members"),
    "name": ("Nama", "Name"),
    "relationship": ("Hubungan", "Relationship"),
    "birth_date": ("Tanggal lahir", "Birth date"),
    "padan": ("Padan", "Padan"),
    "verval": ("Verval", "Verval"),
    "programs": ("Program per tahap", "Programs by tahap"),
    "program": ("Program", "Program"),
    "tahap": ("Tahap", "Tahap"),
    "timeline": ("Riwayat", "Timeline"),
    "explanation": ("Penjelasan", "Explanation"),
    "explain_between": ("Jelaskan antara dua tahap", "Explain between two tahap"),
    "from_tahap": ("Dari tahap", "From tahap"),
    "to_tahap": ("Ke tahap", "To tahap"),
    "latest_change": ("(perubahan terakhir)", "(latest change)"),
    "any_program": ("Semua program", "Every program"),
    "show": ("Tampilkan", "Show"),
    "outcome": ("Hasil", "Outcome"),
    "next_steps": ("Langkah berikutnya", "Next steps"),
    "print_letter": ("Cetak surat", "Print the letter"),
    "letter_title": ("Surat penjelasan bantuan sosial", "Letter explaining social aid"),
    "print": ("Cetak", "Print"),
    "actions": ("Tindakan", "Actions"),
    "record_verval": ("Catat keputusan verval", "Record a verval decision"),
    "decision": ("Keputusan", "Decision"),
    "ELIGIBLE": ("LAYAK", "ELIGIBLE"),
    "INELIGIBLE": ("TIDAK LAYAK", "INELIGIBLE"),
    "reason": ("Alasan", "Reason"),
    "officer": ("Petugas", "Officer"),
    "decided_on": ("Tanggal keputusan", "Decided on"),
    "save": ("Simpan", "Save"),
    "file_complaint": ("Catat aduan", "File a complaint"),
    "channel": ("Saluran", "Channel"),
    "text": ("Isi aduan", "Complaint"),
    "complaints": ("Aduan", "Complaints"),
    "resolve": ("Jawab aduan", "Resolve"),
    "note": ("Catatan", "Note"),
    "open": ("terbuka", "open"),
    "saved": ("Tersimpan.", "Saved."),
    "stale": (
        "Keluarga ini sudah diubah petugas lain sejak halaman dibuka. Keputusan Anda TIDAK disimpan; "
        "berikut keadaan terbarunya.",
        "Another officer changed this household since the page was loaded. Your decision was NOT saved; "
        "here is its current state.",
    ),
    "refused": ("Ditolak", "Refused"),
    "invalid": ("Isian tidak sah", "Invalid entry"),
    "budget_source": ("Sumber anggaran", "Budget source"),
    "quota": ("Kuota", "Quota"),
    "assigned": ("Ditetapkan", "Assigned"),
    "paid": ("Dibayar", "Paid"),
    "committed": ("Dialokasikan (Rp)", "Committed (Rp)"),
    "paid_idr": ("Dibayar (Rp)", "Paid (Rp)"),
    "returned_idr": ("Dikembalikan (Rp)", "Returned (Rp)"),
    "ceiling": ("Pagu (Rp)", "Ceiling (Rp)"),
    "remainder": ("Sisa (Rp)", "Remainder (Rp)"),
    "subtotal": ("Subtotal", "Subtotal"),
    "grand_total": ("Total keseluruhan", "Grand total"),
    "chart": ("Dibayar per sumber anggaran", "Paid by budget source"),
    "code": ("Kode", "Code"),
    "authority": ("Otoritas", "Authority"),
    "outside_only": ("Hanya dari otoritas luar", "Outside authority only"),
    "at_stake": ("Nilai (Rp)", "At stake (Rp)"),
    "evidence": ("Bukti", "Evidence"),
    "filter": ("Saring", "Filter"),
    "all": ("Semua", "All"),
    "findings": ("temuan", "findings"),
    "next_page": ("Halaman berikutnya", "Next page"),
    "download_csv": ("Unduh CSV", "Download CSV"),
    "download_xlsx": ("Unduh XLSX", "Download XLSX"),
    "evidence_export": ("Ekspor bukti (JSON Lines)", "Evidence export (JSON Lines)"),
    "export": ("Ekspor", "Export"),
    "chain_head": ("Kepala rantai", "Chain head"),
    "last_checked": ("Terakhir diperiksa", "Last checked"),
    "never_checked": ("Belum pernah diperiksa dari konsol.", "Never checked from the console."),
    "check_now": ("Periksa sekarang", "Check now"),
    "intact": ("utuh", "intact"),
    "broken": ("RUSAK pada posisi", "BROKEN at position"),
    "events_checked": ("peristiwa diperiksa", "events checked"),
    "events_since": ("peristiwa tercatat sejak pemeriksaan itu.", "events recorded since that check."),
    "position": ("Posisi", "Position"),
    "building": ("Kota sedang dibangun", "The city is being built"),
    "building_hint": (
        "Data demo Kota Bogor 2020 sedang ditulis. Konsol siap setelah selesai.",
        "The Kota Bogor 2020 demo data is being written. The console is ready when it is done.",
    ),
    "step": ("Langkah", "Step"),
    "events_written": ("Peristiwa tertulis", "Events written"),
    "progress": ("Kemajuan", "Progress"),
    "build_failed": ("Pembangunan gagal", "The build failed"),
    "inspector_intro": (
        "Periksa anggaran, anomali, dan rantai bukti; unduh laporan.",
        "Inspect the budget, anomalies and the evidence chain; download reports.",
    ),
    "no_rows": ("Tidak ada data.", "Nothing to show."),
    "masked_nik": ("NIK (disamarkan)", "NIK (masked)"),
    "when": ("Tanggal", "Date"),
    "what": ("Peristiwa", "What"),
    "who": ("Oleh", "Who"),
    "decree": ("SK / dokumen", "Decree / document"),
    "effective": ("berlaku", "effective"),
    "csrf_refused": ("Formulir ditolak (token CSRF tidak sah).", "Form refused (invalid CSRF token)."),
    "reports": ("Laporan", "Reports"),
    "payments": ("Buku pembayaran", "Payment ledger"),
    "STILL_RECEIVING": ("Masih menerima", "Still receiving"),
    "DROPPED": ("Berhenti menerima", "Dropped"),
    "STARTED": ("Mulai menerima", "Started receiving"),
    "NEVER_RECEIVED": ("Belum pernah menerima", "Never received"),
    "AWAITING_PAYMENT": ("Menunggu pembayaran", "Awaiting payment"),
}


class Words:
    """``words("key")`` in one language (the key itself when it has no entry)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._index = LANGS.index(self.lang)

    def __call__(self, key: str) -> str:
        entry = WORDS.get(key)
        return entry[self._index] if entry else key


def rupiah(amount: Any) -> str:
    """``600000`` -> ``Rp600.000`` (dots group thousands, as written in Indonesia)."""
    if amount is None or amount == "":
        return ""
    value = int(amount)
    return ("-" if value < 0 else "") + "Rp" + f"{abs(value):,}".replace(",", ".")


def number(value: Any) -> str:
    """A count with dots grouping thousands."""
    return "" if value is None else f"{int(value):,}".replace(",", ".")


def long_date(value: Any, lang: str) -> str:
    """``2020-06-08`` (or a moment, in WIB) -> ``8 Juni 2020`` / ``8 June 2020``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(WIB)
        text = f"{value.day} {_MONTHS[lang][value.month - 1]} {value.year}"
        return f"{text}, {value:%H.%M} WIB"
    return f"{value.day} {_MONTHS[lang][value.month - 1]} {value.year}"

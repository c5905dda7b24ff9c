"""Texts of explanations, rendered from reason codes: Indonesian (`id`, the default) and English (`en`).

Templates name only programs, tahap, authorities, decrees, dates, ranks and padan details: never a
NIK, a No. KK or a name. A missing value renders as "-".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("id", "en")

REASONS: dict[str, dict[str, str]] = {
    "REMOVED_BY_AUTHORITY": {
        "id": "Dihapus dari {program} mulai tahap {tahap} oleh {authority} berdasarkan keputusan "
        "{decree_ref}, "
        "berlaku sejak {effective_on}.",
        "en": "Removed from {program} from tahap {tahap} on by {authority} under decree {decree_ref}, "
        "effective {effective_on}.",
    },
    "VERVAL_INELIGIBLE": {
        "id": "Hasil verifikasi dan validasi (verval) rumah tangga ini: {detail_id}; {program} tahap {tahap} "
        "hanya untuk rumah tangga yang dinyatakan LAYAK.",
        "en": "The household's verification and validation (verval) result is {detail_en}; {program} tahap "
        "{tahap} only takes households found ELIGIBLE.",
    },
    "POPULATION_MISMATCH": {
        "id": "Data rumah tangga tidak padan dengan data kependudukan Disdukcapil ({detail}), sehingga tidak "
        "dapat menerima {program} tahap {tahap}.",
        "en": "The household's data does not match Disdukcapil's population data ({detail}), so it cannot "
        "receive {program} tahap {tahap}.",
    },
    "DUPLICATE_RECIPIENT": {
        "id": "Rumah tangga ini sudah menerima {other_program} pada periode yang sama; satu rumah "
        "tangga hanya "
        "menerima satu program per periode.",
        "en": "The household already receives {other_program} in the same period; a household receives one "
        "program per period.",
    },
    "QUOTA_EXHAUSTED": {
        "id": "Kuota {program} tahap {tahap} habis: rumah tangga ini berada di peringkat {rank}, sedangkan "
        "kuota hanya sampai peringkat {cutoff}.",
        "en": "The quota of {program} tahap {tahap} ran out: the household ranked {rank}, and the seats "
        "reached rank {cutoff}.",
    },
    "TRANSFERRED": {
        "id": "Dialihkan dari {program} mulai tahap {tahap} ke program {to_program} oleh {authority}, "
        "berlaku sejak {effective_on}.",
        "en": "Transferred from {program} from tahap {tahap} on to {to_program} by {authority}, "
        "effective {effective_on}.",
    },
    "PROGRAM_ENDED": {
        "id": "{program} tidak pernah membuka tahap {tahap}; tahap terakhirnya adalah tahap {last_tahap}.",
        "en": "{program} never opened tahap {tahap}; its last tahap is tahap {last_tahap}.",
    },
    "NOT_IN_SOURCE_LIST": {
        "id": "Rumah tangga ini tidak tercantum dalam daftar {program} tahap {tahap} dari {authority}.",
        "en": "The household is not on {authority}'s list for {program} tahap {tahap}.",
    },
    "PAYMENT_FAILED": {
        "id": "Penyaluran {program} tahap {tahap} tidak sampai: pembayaran tercatat {detail} "
        "(referensi {reference}).",
        "en": "The {program} tahap {tahap} payment did not reach the household: it was reported {detail} "
        "(reference {reference}).",
    },
    "PAYMENT_PENDING": {
        "id": "Rumah tangga ini terdaftar sebagai penerima {program} tahap {tahap}, tetapi "
        "pembayarannya belum "
        "dilaporkan.",
        "en": "The household holds a seat in {program} tahap {tahap}, but no payment has been reported yet.",
    },
}

NEXT_STEPS: dict[str, dict[str, str]] = {
    "REMOVED_BY_AUTHORITY": {
        "id": "Ajukan aduan ke Dinas Sosial dengan membawa KTP dan KK, dan sebutkan keputusan {decree_ref}.",
        "en": "File a complaint (aduan) at Dinas Sosial with your KTP and KK, citing decree {decree_ref}.",
    },
    "VERVAL_INELIGIBLE": {
        "id": "Jika keadaan rumah tangga berubah, minta verval ulang melalui kelurahan dengan "
        "membawa KTP dan KK.",
        "en": "If the household's situation has changed, ask the kelurahan for a new verval, with "
        "your KTP and KK.",
    },
    "POPULATION_MISMATCH": {
        "id": "Perbaiki data kependudukan di Disdukcapil dengan membawa KTP dan KK, lalu minta Dinas Sosial "
        "memadankan ulang.",
        "en": "Correct the population data at Disdukcapil with your KTP and KK, then ask Dinas "
        "Sosial to match "
        "the household again.",
    },
    "DUPLICATE_RECIPIENT": {
        "id": "Tidak perlu tindakan jika {other_program} memang diterima; jika tidak, ajukan aduan ke Dinas "
        "Sosial dengan membawa KTP dan KK.",
        "en": "No action is needed if {other_program} is indeed received; if not, file a complaint "
        "(aduan) at "
        "Dinas Sosial with your KTP and KK.",
    },
    "QUOTA_EXHAUSTED": {
        "id": "Rumah tangga ini tetap dalam daftar tunggu dan akan dipertimbangkan pada tahap berikutnya.",
        "en": "The household stays on the waiting list and will be considered in the next tahap.",
    },
    "TRANSFERRED": {
        "id": "Tanyakan status penyaluran {to_program} ke Dinas Sosial atau kelurahan.",
        "en": "Ask Dinas Sosial or the kelurahan about the household's {to_program} payments.",
    },
    "PROGRAM_ENDED": {
        "id": "Tanyakan ke Dinas Sosial tentang program bantuan lain yang masih berjalan.",
        "en": "Ask Dinas Sosial about other aid programs that are still running.",
    },
    "NOT_IN_SOURCE_LIST": {
        "id": "Ajukan aduan ke Dinas Sosial dengan membawa KTP dan KK agar rumah tangga ini "
        "diusulkan kembali "
        "kepada {authority}.",
        "en": "File a complaint (aduan) at Dinas Sosial with your KTP and KK so that the household "
        "is proposed "
        "to {authority} again.",
    },
    "PAYMENT_FAILED": {
        "id": "Hubungi penyalur (PT Pos atau bank) dengan referensi {reference}, atau Dinas Sosial untuk "
        "penyaluran ulang.",
        "en": "Contact the payer (PT Pos or the bank) with reference {reference}, or Dinas Sosial "
        "for another "
        "payment attempt.",
    },
    "PAYMENT_PENDING": {
        "id": "Tunggu jadwal penyaluran dari penyalur; tidak perlu tindakan lain.",
        "en": "Wait for the payer's schedule; no other action is needed.",
    },
}

_DECISIONS = {
    None: {"id": "belum diverifikasi", "en": "not verified yet"},
    "INELIGIBLE": {"id": "TIDAK LAYAK", "en": "INELIGIBLE"},
    "ELIGIBLE": {"id": "LAYAK", "en": "ELIGIBLE"},
}


class _Facts(dict[str, Any]):
    """Format values; a missing or empty value renders as "-"."""

    def __missing__(self, key: str) -> str:
        return "-"


def _facts(lang: str, facts: Mapping[str, Any]) -> _Facts:
    values = _Facts({k: v for k, v in facts.items() if v is not None and v != ""})
    decision = facts.get("detail") if facts.get("code") == "VERVAL_INELIGIBLE" else None
    values["detail_id"] = _DECISIONS.get(decision, _DECISIONS[None])["id"]
    values["detail_en"] = _DECISIONS.get(decision, _DECISIONS[None])["en"]
    if facts.get("code") == "POPULATION_MISMATCH" and not facts.get("detail"):
        values["detail"] = "belum dipadankan" if lang == "id" else "not matched yet"
    return values


def _language(lang: str) -> str:
    return lang if lang in LANGUAGES else "id"


def reason_text(code: str, lang: str, facts: Mapping[str, Any]) -> str:
    """The sentence that explains one reason."""
    template = REASONS.get(code, {}).get(_language(lang), code)
    return template.format_map(_facts(lang, {**facts, "code": code}))


def next_step(code: str, lang: str, facts: Mapping[str, Any]) -> str:
    """What the household can do about one reason."""
    template = NEXT_STEPS.get(code, {}).get(_language(lang), "")
    return template.format_map(_facts(lang, {**facts, "code": code}))

"""A household's timeline as plain sentences: date, what happened, who, authority, decree, reason."""

from __future__ import annotations

from typing import Any

from salur_cases.api.console.i18n import long_date, rupiah

_WHAT: dict[str, tuple[str, str]] = {
    "household.Proposed": ("Keluarga diusulkan", "The household was proposed"),
    "household.Reproposed": ("Keluarga diusulkan lagi", "The household was proposed again"),
    "household.MembersRecorded": ("Anggota keluarga dicatat", "The members were recorded"),
    "household.PopulationMatched": (
        "Hasil padan Disdukcapil dicatat",
        "Disdukcapil's padan result was recorded",
    ),
    "household.VervalDecided": ("Keputusan verval dicatat", "A verval decision was recorded"),
    "household.Assigned": ("Ditetapkan sebagai penerima", "Assigned a seat"),
    "household.LeftOut": ("Tidak mendapat kuota", "Left out of the quota"),
    "household.PaymentRecorded": ("Pembayaran dilaporkan", "A payment was reported"),
    "household.Removed": ("Dihapus dari program", "Removed from the program"),
    "household.Reinstated": ("Dipulihkan ke program", "Reinstated in the program"),
    "household.Transferred": ("Dialihkan ke program lain", "Transferred to another program"),
    "household.ComplaintFiled": ("Aduan dicatat", "A complaint was filed"),
    "household.ComplaintResolved": ("Aduan dijawab", "A complaint was answered"),
    "household.Corrected": ("Data dikoreksi", "A field was corrected"),
    "household.MemberMovedOut": ("Anggota pindah keluar", "A member moved out"),
    "household.MemberMovedIn": ("Anggota pindah masuk", "A member moved in"),
}
_LABELS = {
    "program": ("program", "program"),
    "to_program": ("ke program", "to program"),
    "by": ("oleh", "by"),
    "authority": ("otoritas", "authority"),
    "decree": ("dokumen", "document"),
    "reason": ("alasan", "reason"),
    "effective": ("berlaku", "effective"),
}
_OUTCOME_KEYS = ("decision", "result", "status", "channel", "outcome")
_REASON_KEYS = ("reason", "note", "text")


def _word(key: str, lang: str) -> str:
    return _LABELS[key][0 if lang == "id" else 1]


def sentence(item: dict[str, Any], lang: str) -> dict[str, Any]:
    """One timeline entry (the API's ``/events`` item) as a sentence, with its parts for the table."""
    data = item.get("data") or {}
    what = _WHAT.get(item["type"], (item["type"], item["type"]))[0 if lang == "id" else 1]
    detail = []
    if data.get("program"):
        tahap = f" tahap {data['tahap']}" if data.get("tahap") is not None else ""
        detail.append(f"{_word('program', lang)} {data['program']}{tahap}")
    if data.get("to_program"):
        detail.append(f"{_word('to_program', lang)} {data['to_program']}")
    detail.extend(str(data[k]) for k in _OUTCOME_KEYS if data.get(k))
    if data.get("amount_idr"):
        detail.append(rupiah(data["amount_idr"]))
    when = long_date(item["recorded_at"], lang)
    who = f"{_word('by', lang)} {item['actor']} ({item['role']})"
    parts = [f"{when}: {what}" + (f" ({', '.join(detail)})" if detail else ""), who]
    authority = data.get("authority")
    decree = data.get("decree_ref") or data.get("document")
    reason = next((str(data[k]) for k in _REASON_KEYS if data.get(k)), None)
    if authority:
        parts.append(f"{_word('authority', lang)} {authority}")
    if decree:
        parts.append(f"{_word('decree', lang)} {decree}")
    if reason:
        parts.append(f"{_word('reason', lang)}: {reason}")
    if item.get("effective_on"):
        parts.append(f"{_word('effective', lang)} {long_date(item['effective_on'], lang)}")
    return {
        "event_id": item["event_id"],
        "text": ", ".join(parts) + ".",
    }

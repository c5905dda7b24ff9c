"""A household's history told as sentences (`salur history` in text): one plain sentence per event.

Like explanations, the sentences name programs, places, dates, amounts and WIB times in words and
keep codes out; members are counted, never named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from salur_cases.domain import payloads as events
from salur_cases.projections.wording import (
    DECISIONS,
    PADAN,
    PAYMENTS,
    SOURCES,
    day,
    label,
    language,
    moment,
    place,
    program_name,
    rupiah,
)

Item = Mapping[str, Any]
Say = Callable[[str, str], str]


def _quote(say: Say, text: Any) -> str:
    return say(f' dengan alasan "{text}"', f' for the reason "{text}"') if text else ""


def _sentence(event: Item, say: Say, lang: str, names: Mapping[str, str]) -> str:  # noqa: PLR0911 - one per type
    d = event["data"]
    kind = str(event["type"])
    program = program_name(names, d.get("program"))
    n = d.get("tahap")
    if kind in {events.Proposed.EVENT_TYPE, events.Reproposed.EVENT_TYPE}:
        source = label(SOURCES, d.get("source_kind"), lang)
        where = place(d.get("address"), lang)
        at = say(f" di {where}", f" at {where}") if where else ""
        return say(
            f"Rumah tangga{at} diusulkan oleh {source}.", f"The household{at} was proposed by {source}."
        )
    if kind == events.MembersRecorded.EVENT_TYPE:
        count = len(d.get("members") or [])
        return say(
            f"Daftar anggota diperbarui ({count} anggota).", f"The member list was updated ({count} members)."
        )
    if kind == events.PopulationMatched.EVENT_TYPE:
        result = label(PADAN, d.get("result"), lang)
        return say(f"Hasil pemadanan dengan Disdukcapil: {result}.", f"Matching with Disdukcapil: {result}.")
    if kind == events.VervalDecided.EVENT_TYPE:
        decision = label(DECISIONS, d.get("decision"), lang)
        return say(
            f"Verval oleh {d.get('officer')} pada {day(d.get('decided_on'), lang)}: "
            f"{decision}{_quote(say, d.get('reason'))}.",
            f"Verval by {d.get('officer')} on {day(d.get('decided_on'), lang)}: "
            f"{decision}{_quote(say, d.get('reason'))}.",
        )
    if kind == events.Assigned.EVENT_TYPE:
        by = d.get("authority") or "Dinas Sosial"
        amount = rupiah(d.get("amount_idr"), lang)
        return say(
            f"Ditetapkan sebagai penerima {program} tahap {n} ({amount}) oleh {by}, keputusan "
            f"{d.get('decree_ref')}.",
            f"Given a seat in {program} tahap {n} ({amount}) by {by}, decree {d.get('decree_ref')}.",
        )
    if kind == events.LeftOut.EVENT_TYPE:
        return _left_out(d, say, program, n, names)
    if kind == events.PaymentRecorded.EVENT_TYPE:
        status = label(PAYMENTS, d.get("status"), lang)
        amount = rupiah(d.get("amount_idr"), lang)
        return say(
            f"Pembayaran {program} tahap {n} sebesar {amount} dilaporkan {status} pada "
            f"{day(d.get('paid_at'), lang)} "
            f"(referensi {d.get('reference')}).",
            f"The {program} tahap {n} payment of {amount} was reported {status} on "
            f"{day(d.get('paid_at'), lang)} "
            f"(reference {d.get('reference')}).",
        )
    if kind == events.Removed.EVENT_TYPE:
        return say(
            f"Dihapus dari {program} mulai tahap {n} oleh {d.get('authority')}, keputusan "
            f"{d.get('decree_ref')}"
            f"{_quote(say, d.get('reason'))}, berlaku sejak {day(d.get('effective_on'), lang)}.",
            f"Removed from {program} from tahap {n} on by {d.get('authority')}, decree {d.get('decree_ref')}"
            f"{_quote(say, d.get('reason'))}, effective {day(d.get('effective_on'), lang)}.",
        )
    if kind == events.Reinstated.EVENT_TYPE:
        return say(
            f"Dipulihkan dalam {program} mulai tahap {n} oleh "
            f"{d.get('authority')}{_quote(say, d.get('reason'))}.",
            f"Reinstated in {program} from tahap {n} on by "
            f"{d.get('authority')}{_quote(say, d.get('reason'))}.",
        )
    if kind == events.Transferred.EVENT_TYPE:
        source, target = program_name(names, d.get("from_program")), program_name(names, d.get("to_program"))
        return say(
            f"Dialihkan dari {source} mulai tahap {d.get('from_tahap')} ke {target} oleh {d.get('authority')}"
            f"{_quote(say, d.get('reason'))}.",
            f"Transferred from {source} from tahap {d.get('from_tahap')} on to {target} by "
            f"{d.get('authority')}"
            f"{_quote(say, d.get('reason'))}.",
        )
    return _other(kind, d, say)


def _left_out(d: Item, say: Say, program: str, n: Any, names: Mapping[str, str]) -> str:
    code = d.get("code")
    if code == "QUOTA_EXHAUSTED":
        return say(
            f"Tidak mendapat kuota {program} tahap {n}: peringkat {d.get('rank')}, kuota sampai "
            f"peringkat {d.get('cutoff')}.",
            f"No seat in {program} tahap {n}: ranked {d.get('rank')}, seats up to rank {d.get('cutoff')}.",
        )
    if code == "NOT_IN_SOURCE_LIST":
        return say(
            f"Tidak tercantum dalam daftar {program} tahap {n} dari {d.get('authority')}.",
            f"Not on {d.get('authority')}'s list for {program} tahap {n}.",
        )
    why = {
        "NOT_MATCHED": ("data belum padan dengan Disdukcapil", "not matched with Disdukcapil"),
        "NOT_ELIGIBLE": ("verval belum menyatakan layak", "no eligible verval"),
        "REMOVED": ("dihapus dari program ini", "removed from this program"),
        "ALREADY_RECEIVING": (
            f"sudah menerima {program_name(names, d.get('other_program'))}",
            f"already receiving {program_name(names, d.get('other_program'))}",
        ),
    }.get(str(code), ("tidak memenuhi aturan alokasi", "fails an allocation rule"))
    return say(
        f"Tidak dialokasikan dalam {program} tahap {n}: {why[0]}.",
        f"Not allocated in {program} tahap {n}: {why[1]}.",
    )


def _other(kind: str, d: Item, say: Say) -> str:
    if kind == events.ComplaintFiled.EVENT_TYPE:
        return say(
            f"Aduan diterima melalui {d.get('channel')}.",
            f"A complaint was received through {d.get('channel')}.",
        )
    if kind == events.ComplaintResolved.EVENT_TYPE:
        outcome = d.get("outcome")
        return (
            say(f"Aduan dijawab: {outcome}", f"A complaint was answered: {outcome}")
            + _quote(say, d.get("note"))
            + "."
        )
    if kind == events.Corrected.EVENT_TYPE:
        return say(f"Data dikoreksi ({d.get('field')}).", f"Data corrected ({d.get('field')}).")
    if kind == events.MemberMovedOut.EVENT_TYPE:
        return say("Seorang anggota pindah ke kartu keluarga lain.", "A member moved to another family card.")
    if kind == events.MemberMovedIn.EVENT_TYPE:
        return say(
            "Seorang anggota pindah masuk dari kartu keluarga lain.",
            "A member moved in from another family card.",
        )
    return say("Kejadian lain tercatat.", "Another event was recorded.")


def event_sentence(event: Item, lang: str, names: Mapping[str, str]) -> str:
    """`8 Juni 2020 pukul 09.00 WIB: <what happened>. Dicatat oleh <actor>.`"""
    en = language(lang) == "en"

    def say(indonesian: str, english: str) -> str:
        return english if en else indonesian

    when = moment(event["recorded_at"], lang)
    actor = event.get("actor")
    by = say(f" Dicatat oleh {actor}.", f" Recorded by {actor}.") if actor else ""
    return f"{when}: {_sentence(event, say, lang, names)}{by}"

"""Sentences of explanations, rendered from a reason's recorded facts: Indonesian (`id`) and English (`en`).

Each sentence names programs by their names, dates and times in words (WIB), amounts in Rupiah,
and quotes the recorded reason text; codes stay in the JSON's own fields, never inside a sentence,
and a fact that was not recorded is left out of the sentence rather than shown as a placeholder.
Sentences name a member of the household only by masked NIK and masked name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from salur_cases.projections.wording import (
    DECISIONS,
    OUTCOMES,
    PADAN,
    PAYMENTS,
    day,
    label,
    language,
    moment,
    program_name,
    rupiah,
)

Item = Mapping[str, Any]
Names = Mapping[str, str]
"""Program code -> program name."""


class Phrase:
    """The pieces of one reason's sentences, in one language."""

    def __init__(self, reason: Item, lang: str, names: Names) -> None:
        self.r = reason
        self.en = language(lang) == "en"
        self.names = names

    def say(self, indonesian: str, english: str) -> str:
        """The sentence in the phrase's language."""
        return english if self.en else indonesian

    def program(self, key: str = "program") -> str:
        """The program's name."""
        return program_name(self.names, self.r.get(key))

    def day(self, key: str) -> str:
        """A date field in words."""
        return day(self.r.get(key), "en" if self.en else "id")

    def on(self, key: str) -> str:
        """` pada 8 Juni 2020` / ` on 8 June 2020` for a date field (empty when not recorded)."""
        when = self.day(key)
        return self.say(f" pada {when}", f" on {when}") if when else ""

    def at(self) -> str:
        """The recorded time, in WIB, after "on"/"pada" (empty when unknown)."""
        when = moment(self.r.get("at"), "en" if self.en else "id")
        return self.say(f" pada {when}", f" on {when}") if when else ""

    def quoted_reason(self) -> str:
        """`, with the reason "..."` when a reason text was recorded."""
        text = self.r.get("reason")
        return self.say(f' dengan alasan "{text}"', f' for the reason "{text}"') if text else ""

    def effective(self) -> str:
        """`, effective 1 June 2020` when recorded."""
        when = self.day("effective_on")
        return self.say(f", berlaku sejak {when}", f", effective {when}") if when else ""

    def decree(self) -> str:
        """` under decree X` when recorded."""
        ref = self.r.get("decree_ref")
        return self.say(f" berdasarkan keputusan {ref}", f" under decree {ref}") if ref else ""

    def amount(self) -> str:
        """The amount in Rupiah, after "of"/"sebesar" (empty when unknown)."""
        value = rupiah(self.r.get("amount_idr"), "en" if self.en else "id")
        return self.say(f" sebesar {value}", f" of {value}") if value else ""

    def authority(self) -> str:
        """Who decided (the recorded authority, else the recording officer)."""
        return str(self.r.get("authority") or self.r.get("actor") or self.say("Dinas Sosial", "Dinas Sosial"))


def _removed(p: Phrase) -> str:
    n = p.r["tahap"]
    sentence = p.say(
        f"{p.authority()} menghapus rumah tangga ini dari {p.program()} mulai tahap {n}{p.decree()}"
        f"{p.quoted_reason()}{p.effective()}; keputusan ini dicatat{p.at()}.",
        f"{p.authority()} removed the household from {p.program()} from tahap {n} on{p.decree()}"
        f"{p.quoted_reason()}{p.effective()}; the decision was recorded{p.at()}.",
    )
    if p.r.get("paid_on"):
        sentence += p.say(
            f" Pembayaran tahap {n}{p.amount()} sudah disalurkan pada {p.day('paid_on')}, sebelum "
            "penghapusan "
            "ini; pembayaran itu tercatat sebagai temuan untuk pemeriksa.",
            f" The tahap {n} payment{p.amount()} had been made on {p.day('paid_on')}, before this removal; "
            "that payment is recorded as a finding for inspectors.",
        )
    return sentence


def _transferred(p: Phrase) -> str:
    return p.say(
        f"{p.authority()} mengalihkan rumah tangga ini dari {p.program()} mulai tahap {p.r['tahap']} ke "
        f"{p.program('to_program')}{p.quoted_reason()}{p.effective()}; keputusan ini dicatat{p.at()}.",
        f"{p.authority()} transferred the household from {p.program()} from tahap {p.r['tahap']} on to "
        f"{p.program('to_program')}{p.quoted_reason()}{p.effective()}; the decision was recorded{p.at()}.",
    )


def _aid(p: Phrase) -> str:
    """`Bantuan Walikota tahap 2`, or the city's aid in general when no program is concerned."""
    if not p.r.get("program"):
        return p.say("bantuan sosial kota", "the city's social aid")
    return f"{p.program()} tahap {p.r['tahap']}"


def _verval(p: Phrase) -> str:
    aid = _aid(p)
    if not p.r.get("result"):
        return p.say(
            f"Rumah tangga ini belum diverifikasi dan divalidasi (verval), sedangkan {aid} hanya untuk rumah "
            "tangga yang dinyatakan layak.",
            f"The household has not been verified and validated (verval) yet, and {aid} only takes "
            "households found eligible.",
        )
    officer = p.r.get("officer")
    by = p.say(f" oleh {officer}", f" by {officer}") if officer else ""
    decision = label(DECISIONS, p.r.get("result"), "en" if p.en else "id")
    decided = p.day("decided_on")
    on = p.say(f" pada {decided}", f" on {decided}") if decided else ""
    return p.say(
        f"Verifikasi dan validasi (verval){by}{on} menyatakan rumah tangga ini {decision}"
        f"{p.quoted_reason()}, sehingga tidak dapat menerima {aid}.",
        f"The verification and validation (verval){by}{on} found the household {decision}"
        f"{p.quoted_reason()}, so it cannot receive {aid}.",
    )


def member_words(member: Item, lang: str) -> str:
    """`anggota 3271********0001 (B*** S******): tercatat meninggal dunia`."""
    en = language(lang) == "en"
    who = f"{member['nik']} ({member['name']})"
    words = label(PADAN, member.get("result"), lang)
    text = f"member {who}: {words}" if en else f"anggota {who}: {words}"
    if member.get("suggested_nik"):
        text += (
            f", and the population data holds NIK {member['suggested_nik']}, one digit away, with the same "
            "name and birth date"
            if en
            else f", dan data kependudukan memuat NIK {member['suggested_nik']} yang berbeda satu angka "
            "dengan nama dan tanggal lahir yang sama"
        )
    if member.get("suggested_name"):
        text += (
            f", and the population data spells the name {member['suggested_name']}"
            if en
            else f", dan data kependudukan menuliskan namanya {member['suggested_name']}"
        )
    return text


def _padan(p: Phrase) -> str:
    aid = _aid(p)
    lang = "en" if p.en else "id"
    if not p.r.get("result"):
        return p.say(
            "Data rumah tangga ini belum dipadankan dengan data kependudukan Disdukcapil, sedangkan "
            f"{aid} hanya untuk rumah tangga yang padan.",
            f"The household has not been matched against Disdukcapil's population data yet, and {aid} only "
            "takes matched households.",
        )
    failing = [m for m in p.r.get("detail") or [] if m.get("result") not in {None, "MATCHED"}]
    members = "; ".join(member_words(m, lang) for m in failing)
    found = members or label(PADAN, p.r.get("result"), lang)
    checked = p.day("effective_on")
    on = p.say(f" pada {checked}", f" on {checked}") if checked else ""
    return p.say(
        f"Pemadanan dengan data kependudukan Disdukcapil{on} tidak padan ({found}), sehingga rumah tangga "
        f"ini tidak dapat menerima {aid}.",
        f"Matching against Disdukcapil's population data{on} failed ({found}), so the household cannot "
        f"receive {aid}.",
    )


def _duplicate(p: Phrase) -> str:
    other = p.program("other_program") or p.say("program lain", "another program")
    number = p.r.get("other_tahap")
    seat = f"{other} tahap {number}" if number is not None else other
    when = p.at()
    return p.say(
        f"Rumah tangga ini sudah ditetapkan sebagai penerima {seat}{when} untuk periode yang sama dengan "
        f"{p.program()} tahap {p.r['tahap']}; satu rumah tangga hanya menerima satu program per periode.",
        f"The household was already given a seat in {seat}{when} for the same period as {p.program()} "
        f"tahap {p.r['tahap']}; a household receives one program per period.",
    )


def _quota(p: Phrase) -> str:
    return p.say(
        f"Kuota {p.program()} tahap {p.r['tahap']} habis: dalam alokasi{p.at()} rumah tangga ini berada di "
        f"peringkat {p.r['rank']}, sedangkan kuota hanya sampai peringkat {p.r['cutoff']}.",
        f"The quota of {p.program()} tahap {p.r['tahap']} ran out: in the allocation{p.at()} the household "
        f"ranked {p.r['rank']}, and the seats reached rank {p.r['cutoff']}.",
    )


def _ended(p: Phrase) -> str:
    last = p.r.get("last_tahap")
    if last is None:
        return p.say(
            f"{p.program()} belum membuka tahap mana pun.", f"{p.program()} has not opened any tahap."
        )
    return p.say(
        f"{p.program()} tidak membuka tahap {p.r['tahap']}; tahap terakhirnya adalah tahap {last}"
        f"{p.decree()}, berakhir {p.day('ends_on')}.",
        f"{p.program()} did not open tahap {p.r['tahap']}; its last tahap is tahap {last}{p.decree()}, "
        f"ending {p.day('ends_on')}.",
    )


def _not_listed(p: Phrase) -> str:
    """The roster's date when the reason cites the household's proposal; else the left-out's time."""
    listed = p.day("decided_on")
    when = p.say(f" pada {listed}", f" on {listed}") if listed else p.at()
    return p.say(
        f"Rumah tangga ini tidak tercantum dalam daftar penerima {p.program()} tahap {p.r['tahap']} yang "
        f"ditetapkan {p.authority()}{when}.",
        f"The household is not on the list of {p.program()} tahap {p.r['tahap']} recipients that "
        f"{p.authority()} set{when}.",
    )


def _failed(p: Phrase) -> str:
    status = label(PAYMENTS, p.r.get("result"), "en" if p.en else "id") or p.say(
        "tidak berhasil", "unsuccessful"
    )
    reference = p.r.get("reference")
    ref = p.say(f" (referensi {reference})", f" (reference {reference})") if reference else ""
    return p.say(
        f"Pembayaran {p.program()} tahap {p.r['tahap']}{p.amount()} dilaporkan {status} oleh penyalur"
        f"{p.on('paid_on')}{ref}, sehingga bantuan tahap ini belum diterima.",
        f"The {p.program()} tahap {p.r['tahap']} payment{p.amount()} was reported {status} by the payer"
        f"{p.on('paid_on')}{ref}, so this tahap's aid has not been received.",
    )


def _pending(p: Phrase) -> str:
    return p.say(
        f"Rumah tangga ini tercatat sebagai penerima {p.program()} tahap {p.r['tahap']}{p.at()}, tetapi "
        f"pembayarannya{p.amount()} belum dilaporkan oleh penyalur.",
        f"The household was given a seat in {p.program()} tahap {p.r['tahap']}{p.at()}, but its payment"
        f"{p.amount()} has not been reported by the payer yet.",
    )


def _not_considered(p: Phrase) -> str:
    program, n = p.program(), p.r["tahap"]
    why = p.r.get("result")
    if why == "NOT_CITY_PROPOSED":
        return p.say(
            f"{program} tahap {n} dialokasikan menurut aturan kota hanya kepada rumah tangga yang diusulkan "
            "oleh kelurahan, pendaftaran mandiri, dinas atau DPRD, dan rumah tangga ini belum diusulkan oleh "
            "salah satunya.",
            f"{program} tahap {n} is allocated by the city's rule only to households proposed by a "
            "kelurahan, self-registration, a city department or the DPRD, and this household has no such "
            "proposal.",
        )
    if why == "NOT_ALLOCATED_YET":
        return p.say(
            f"Alokasi {program} tahap {n} belum dijalankan, sehingga belum ada keputusan untuk rumah "
            "tangga ini.",
            f"The allocation of {program} tahap {n} has not run yet, so no decision about the household "
            "exists.",
        )
    return p.say(
        f"Kursi {program} tahap {n} diberikan{p.on('decided_on')} tanpa alokasi yang mempertimbangkan rumah "
        "tangga ini, meskipun rumah tangga ini memenuhi aturan kota.",
        f"The seats of {program} tahap {n} were given{p.on('decided_on')} without an allocation that "
        "considered the household, although it meets the city's rule.",
    )


SENTENCES: dict[str, Callable[[Phrase], str]] = {
    "NOT_CONSIDERED": _not_considered,
    "REMOVED_BY_AUTHORITY": _removed,
    "TRANSFERRED": _transferred,
    "VERVAL_INELIGIBLE": _verval,
    "POPULATION_MISMATCH": _padan,
    "DUPLICATE_RECIPIENT": _duplicate,
    "QUOTA_EXHAUSTED": _quota,
    "PROGRAM_ENDED": _ended,
    "NOT_IN_SOURCE_LIST": _not_listed,
    "PAYMENT_FAILED": _failed,
    "PAYMENT_PENDING": _pending,
}


def reason_text(reason: Item, lang: str, names: Names) -> str:
    """The sentence that explains one reason."""
    return SENTENCES[reason["code"]](Phrase(reason, lang, names))


def _padan_step(p: Phrase) -> str:  # noqa: PLR0911 - one step per padan result
    failing = [m for m in p.r.get("detail") or [] if m.get("result") not in {None, "MATCHED"}]
    first = failing[0] if failing else {}
    result = first.get("result") or p.r.get("result")
    who = f"{first['nik']} ({first['name']})" if first else ""
    if first.get("suggested_nik"):
        return p.say(
            f"Minta Dinas Sosial mengoreksi NIK anggota {who} menjadi {first['suggested_nik']} (koreksi "
            "data di "
            "Dinas Sosial, bukan di Disdukcapil), lalu minta pemadanan ulang.",
            f"Ask Dinas Sosial to correct member {who}'s NIK to {first['suggested_nik']} (a correction "
            "at Dinas "
            "Sosial, not at Disdukcapil), then ask for matching again.",
        )
    if first.get("suggested_name"):
        return p.say(
            f"Minta Dinas Sosial mengoreksi nama anggota {who} sesuai data kependudukan, lalu minta "
            "pemadanan "
            "ulang.",
            f"Ask Dinas Sosial to correct member {who}'s name to the population record's, then ask for "
            "matching again.",
        )
    if result == "DECEASED":
        if first.get("relationship") == "KEPALA KELUARGA":
            return p.say(
                "Laporkan kematian kepala keluarga dan ganti kepala keluarga pada kartu keluarga di "
                "Disdukcapil, "
                "lalu minta Dinas Sosial mengusulkan kembali rumah tangga ini.",
                "Report the death of the head of household and change the head of household on the family "
                "card at Disdukcapil, then ask Dinas Sosial to propose the household again.",
            )
        return p.say(
            f"Laporkan kematian anggota {who} di Disdukcapil agar kartu keluarga diperbarui, lalu minta "
            "Dinas "
            "Sosial memadankan ulang.",
            f"Report member {who}'s death at Disdukcapil so that the family card is updated, then ask Dinas "
            "Sosial to match the household again.",
        )
    if result == "MOVED":
        return p.say(
            "Daftarkan rumah tangga di kelurahan tempat tinggalnya sekarang, sesuai data kependudukan "
            "terbaru.",
            "Register the household at the kelurahan where it now lives, as the population data records.",
        )
    if result == "OUTSIDE_CITY":
        return p.say(
            "Daftarkan rumah tangga di kota atau kabupaten tempat data kependudukannya tercatat, atau "
            "pindahkan "
            "data kependudukan ke Kota Bogor di Disdukcapil.",
            "Register the household in the city or regency where its population data is held, or move the "
            "population data to Kota Bogor at Disdukcapil.",
        )
    if result == "NOT_EKTP":
        return p.say(
            "Kepala keluarga perlu merekam e-KTP di Disdukcapil, lalu minta Dinas Sosial memadankan ulang.",
            "The head of household needs an e-KTP from Disdukcapil; then ask Dinas Sosial to match again.",
        )
    return p.say(
        "Periksa data kependudukan di Disdukcapil dengan membawa KTP dan KK, lalu minta Dinas Sosial "
        "memadankan ulang.",
        "Check the population data at Disdukcapil with your KTP and KK, then ask Dinas Sosial to match "
        "the household again.",
    )


def _verval_step(p: Phrase) -> str:
    if not p.r.get("result"):
        return p.say(
            "Minta kelurahan melakukan verifikasi dan validasi (verval) rumah tangga ini dengan membawa "
            "KTP dan KK.",
            "Ask the kelurahan to verify and validate (verval) the household, with your KTP and KK.",
        )
    text = p.r.get("reason")
    answer = p.say(f', dan tanggapi alasan petugas "{text}"', f', answering the officer\'s reason "{text}"')
    return p.say(
        "Jika keadaan rumah tangga telah berubah, minta verval ulang melalui kelurahan dengan membawa "
        "KTP dan "
        f"KK{answer if text else ''}.",
        f"If the household's situation has changed, ask the kelurahan for a new verval with your KTP and KK"
        f"{answer if text else ''}.",
    )


def _removed_step(p: Phrase) -> str:
    ref, when = p.r.get("decree_ref"), p.day("effective_on")
    cite = p.say(f", dengan menyebut keputusan {ref}", f", citing decree {ref}") if ref else ""
    dated = p.say(f" yang berlaku sejak {when}", f" effective {when}") if when and ref else ""
    return p.say(
        f"Ajukan keberatan kepada {p.authority()} melalui Dinas Sosial dengan membawa KTP dan "
        f"KK{cite}{dated}.",
        f"Object to {p.authority()} through Dinas Sosial with your KTP and KK{cite}{dated}.",
    )


def _failed_step(p: Phrase) -> str:
    reference = p.r.get("reference")
    ref = p.say(f" dengan referensi {reference}", f" with reference {reference}") if reference else ""
    return p.say(
        f"Hubungi kantor pos atau bank penyalur{ref} untuk mengambil atau menjadwalkan ulang "
        "pembayaran, atau "
        "minta Dinas Sosial menjadwalkan penyaluran ulang.",
        f"Contact the post office or bank that pays{ref} to collect or re-schedule the payment, or ask Dinas "
        "Sosial to schedule another payment.",
    )


STEPS: dict[str, Callable[[Phrase], str]] = {
    "NOT_CONSIDERED": lambda p: p.say(
        "Minta kelurahan atau Dinas Sosial mengusulkan rumah tangga ini untuk alokasi tahap berikutnya, "
        "dengan membawa KTP dan KK.",
        "Ask the kelurahan or Dinas Sosial to propose the household for the next tahap's allocation, with "
        "your KTP and KK.",
    ),
    "REMOVED_BY_AUTHORITY": _removed_step,
    "TRANSFERRED": lambda p: p.say(
        f"Tanyakan jadwal penyaluran {p.program('to_program') or 'program tujuan'} ke Dinas Sosial atau "
        "kelurahan.",
        f"Ask Dinas Sosial or the kelurahan when {p.program('to_program') or 'the new program'} pays.",
    ),
    "VERVAL_INELIGIBLE": _verval_step,
    "POPULATION_MISMATCH": _padan_step,
    "DUPLICATE_RECIPIENT": lambda p: p.say(
        f"Tidak perlu tindakan jika {p.program('other_program') or 'program lain'} memang diterima; jika "
        "tidak, ajukan aduan ke Dinas Sosial dengan membawa KTP dan KK.",
        f"No action is needed if {p.program('other_program') or 'the other program'} is indeed received; if "
        "not, file a complaint (aduan) at Dinas Sosial with your KTP and KK.",
    ),
    "QUOTA_EXHAUSTED": lambda p: p.say(
        f"Rumah tangga ini tetap dalam daftar tunggu (peringkat {p.r['rank']}, kuota sampai peringkat "
        f"{p.r['cutoff']}) dan dipertimbangkan lagi pada alokasi tahap berikutnya.",
        f"The household stays on the waiting list (rank {p.r['rank']}, seats up to rank {p.r['cutoff']}) and "
        "is considered again in the next tahap's allocation.",
    ),
    "PROGRAM_ENDED": lambda p: p.say(
        "Tanyakan ke Dinas Sosial tentang program bantuan lain yang masih berjalan.",
        "Ask Dinas Sosial about other aid programs that are still running.",
    ),
    "NOT_IN_SOURCE_LIST": lambda p: p.say(
        "Ajukan aduan ke Dinas Sosial dengan membawa KTP dan KK agar rumah tangga ini diusulkan "
        "kembali kepada "
        f"{p.authority()}.",
        f"File a complaint (aduan) at Dinas Sosial with your KTP and KK so that the household is proposed to "
        f"{p.authority()} again.",
    ),
    "PAYMENT_FAILED": _failed_step,
    "PAYMENT_PENDING": lambda p: p.say(
        "Tunggu jadwal pembayaran dari penyalur; tidak perlu tindakan lain.",
        "Wait for the payer's schedule; no other action is needed.",
    ),
}


def next_step(reason: Item, lang: str, names: Names) -> str:
    """What the household can do about one reason."""
    return STEPS[reason["code"]](Phrase(reason, lang, names))


def summary(answer: Item, lang: str, names: Names) -> str:
    """One sentence: the outcome between the two tahap, in words."""
    en = language(lang) == "en"
    outcome = label(OUTCOMES, answer["outcome"], lang)
    program = program_name(names, answer.get("program"))
    if not program:
        return f"{outcome} any aid program." if en else f"{outcome} program bantuan apa pun."
    a, b = answer["from_tahap"], answer["to_tahap"]
    span = (
        (f"tahap {a}" if a == b else f"tahap {a} to tahap {b}")
        if en
        else (f"tahap {a}" if a == b else f"tahap {a} ke tahap {b}")
    )
    return f"{outcome}: {program}, {span}."


def payment_line(payment: Item, lang: str) -> str:
    """`Tahap 1: Rp500.000 dibayar 28 April 2020 (referensi POS-1)`."""
    en = language(lang) == "en"
    amount = rupiah(payment["amount_idr"], lang)
    when = day(payment["paid_on"], lang)
    if en:
        return f"Tahap {payment['tahap']}: {amount} paid on {when} (reference {payment['reference']})."
    return f"Tahap {payment['tahap']}: {amount} dibayar pada {when} (referensi {payment['reference']})."

"""The explanation as a printable answer letter (PDF), in Indonesian or English.

The letter carries the Dinas Sosial / kelurahan letterhead, the household (No. KK and the head's
NIK masked, the head's name masked, the address in words), the outcome, each reason with who
decided, under which decree and from when, the next steps, the ids of the events cited, and the
event store's chain head at printing time: an inspector can later check with `salur audit verify
--head POSITION:HASH` that none of the cited history was changed or cut. Built with ReportLab, in
the Bitstream Vera font it ships (embedded, so the letter prints the same anywhere).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer

from salur_cases.domain.clock import WIB, now
from salur_cases.identifiers import Nik, NoKK
from salur_cases.projections.audit.verification import store_head
from salur_cases.projections.explain import explain_story
from salur_cases.projections.projector import mask_name
from salur_cases.projections.queries import household_id
from salur_cases.projections.story import Story
from salur_cases.projections.texts import payment_line
from salur_cases.projections.wording import language, moment, place
from salur_cases.runtime import Runtime

FONT, BOLD = "Vera", "VeraBd"
_WORDS = {
    "id": {
        "government": "PEMERINTAH KOTA BOGOR",
        "office": "DINAS SOSIAL",
        "title": "Surat Keterangan Status Bantuan Sosial",
        "printed": "Dicetak",
        "household": "Rumah tangga",
        "no_kk": "No. KK",
        "head": "Kepala keluarga",
        "address": "Alamat",
        "outcome": "Hasil",
        "payments": "Pembayaran",
        "reasons": "Alasan",
        "steps": "Langkah berikutnya",
        "events": "Kejadian yang dikutip",
        "event": "kejadian",
        "chain": "Kepala rantai bukti saat dicetak",
        "verify": "Pemeriksa dapat memastikan riwayat ini tidak diubah dengan: salur audit verify --head",
        "none": "Tidak ada.",
    },
    "en": {
        "government": "CITY GOVERNMENT OF BOGOR",
        "office": "SOCIAL AFFAIRS OFFICE (DINAS SOSIAL)",
        "title": "Social aid status letter",
        "printed": "Printed",
        "household": "Household",
        "no_kk": "No. KK",
        "head": "Head of household",
        "address": "Address",
        "outcome": "Outcome",
        "payments": "Payments",
        "reasons": "Reasons",
        "steps": "Next steps",
        "events": "Events cited",
        "event": "event",
        "chain": "Evidence chain head at printing time",
        "verify": "An inspector can check that this history was not changed with: salur audit verify --head",
        "none": "None.",
    },
}


def _fonts() -> None:
    """Register the embedded fonts once (ReportLab finds Vera in its own fonts directory)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))


def letter(
    runtime: Runtime,
    no_kk: str,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
    lang: str = "id",
) -> bytes:
    """The answer letter for a household, as PDF bytes."""
    lang = language(lang)
    answer, story = explain_story(runtime, household_id(runtime, no_kk), program, from_tahap, to_tahap, lang)
    head = store_head(runtime.app)
    return render_letter(answer, story, f"{head.position}:{head.hash}", now(), lang)


def _head_of(story: Story) -> Mapping[str, Any] | None:
    heads = [m for m in story.members if m.get("relationship") == "KEPALA KELUARGA"]
    return heads[0] if heads else (story.members[0] if story.members else None)


def render_letter(
    answer: Mapping[str, Any], story: Story, chain_head: str, printed: datetime, lang: str
) -> bytes:
    """Lay the letter out on A4 pages."""
    _fonts()
    words = _WORDS[language(lang)]
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, spaceAfter=4)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11)
    heading = ParagraphStyle("heading", parent=body, fontName=BOLD, fontSize=11, spaceBefore=8)
    center = ParagraphStyle("center", parent=body, fontName=BOLD, alignment=1, fontSize=12, leading=16)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text), style)

    where = place(story.address, lang)
    flow: list[Flowable] = [
        para(words["government"], center),
        para(words["office"], center),
    ]
    if where:
        flow.append(para(where, ParagraphStyle("where", parent=center, fontName=FONT, fontSize=10)))
    flow += [
        HRFlowable(width="100%", thickness=1),
        Spacer(1, 4 * mm),
        para(words["title"], center),
        para(f"{words['printed']}: {moment(printed.astimezone(WIB), lang)}", small),
        para(words["household"], heading),
        para(f"{words['no_kk']}: {NoKK(answer['no_kk']).masked()}"),
    ]
    head = _head_of(story)
    if head is not None:
        flow.append(
            para(f"{words['head']}: {mask_name(str(head['name']))} (NIK {Nik(str(head['nik'])).masked()})")
        )
    if where:
        flow.append(para(f"{words['address']}: {where}"))
    flow += [para(words["outcome"], heading), para(answer["summary"])]
    if answer["payments"]:
        flow.append(para(words["payments"], heading))
        flow += [para(payment_line(p, lang)) for p in answer["payments"]]
    flow.append(para(words["reasons"], heading))
    if not answer["reasons"]:
        flow.append(para(words["none"]))
    for number, reason in enumerate(answer["reasons"], start=1):
        flow.append(para(f"{number}. {reason['text']}"))
        if reason.get("event_id"):
            flow.append(para(f"{words['event']} {reason['event_id']}", small))
    flow.append(para(words["steps"], heading))
    flow += [para(f"\u2022 {step}") for step in answer["next_steps"]] or [para(words["none"])]
    cited = [r["event_id"] for r in answer["reasons"] if r.get("event_id")]
    cited += [p["event_id"] for p in answer["payments"]]
    flow.append(para(words["events"], heading))
    flow += [para(event_id, small) for event_id in dict.fromkeys(cited)] or [para(words["none"], small)]
    flow += [
        para(words["chain"], heading),
        para(chain_head, small),
        para(f"{words['verify']} {chain_head}", small),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=words["title"],
        author=words["office"],
        invariant=True,
    )
    doc.build(flow)
    return out.getvalue()

"""Explanation sentences are rendered from a reason's recorded facts, in Indonesian and English: plain
words (names, dates, Rupiah, WIB), no codes, no placeholders, no PII."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from salur_cases.projections.projector import fold_name, mask_name
from salur_cases.projections.texts import SENTENCES, STEPS, next_step, reason_text, summary
from salur_cases.projections.wording import LANGUAGES, day, moment, place, rupiah

CODES = [
    "REMOVED_BY_AUTHORITY",
    "VERVAL_INELIGIBLE",
    "POPULATION_MISMATCH",
    "DUPLICATE_RECIPIENT",
    "QUOTA_EXHAUSTED",
    "TRANSFERRED",
    "PROGRAM_ENDED",
    "NOT_IN_SOURCE_LIST",
    "PAYMENT_FAILED",
    "PAYMENT_PENDING",
    "NOT_CONSIDERED",
]
NAMES = {"WALIKOTA": "Bantuan Walikota", "GUBERNUR": "Bantuan Gubernur", "BLT": "BLT Kemensos"}
FACTS = {
    "program": "WALIKOTA",
    "tahap": 2,
    "at": "2020-06-03T10:00:00+07:00",
    "authority": "KEMENSOS",
    "actor": "Ibu Rina",
    "officer": "Pak RW",
    "reason": "memiliki kendaraan roda empat (aduan warga)",
    "decree_ref": "KEP-146",
    "effective_on": "2020-06-01",
    "decided_on": "2020-05-20",
    "rank": 4,
    "cutoff": 3,
    "result": "INELIGIBLE",
    "other_program": "GUBERNUR",
    "other_tahap": 1,
    "to_program": "BLT",
    "last_tahap": 2,
    "ends_on": "2020-06-26",
    "reference": "POS-1",
    "amount_idr": 600_000,
    "paid_on": "2020-06-08",
    "detail": [
        {
            "nik": "3271********0001",
            "name": "B*** S******",
            "relationship": "KEPALA KELUARGA",
            "result": "DECEASED",
        }
    ],
}


def _plain(text: str) -> None:
    assert text.strip().endswith(".")
    assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", text), text
    assert not re.search(r"(^|\s)-(\s|[.,;)]|$)", text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text
    assert not re.search(r"\d{16}", text)
    assert "{" not in text
    assert "None" not in text
    assert "  " not in text


def test_every_reason_code_has_a_sentence_and_a_next_step() -> None:
    assert set(SENTENCES) == set(CODES)
    assert set(STEPS) == set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_sentences_are_plain_and_differ_by_language(code: str) -> None:
    reason = {**FACTS, "code": code}
    texts = {lang: reason_text(reason, lang, NAMES) for lang in LANGUAGES}
    steps = {lang: next_step(reason, lang, NAMES) for lang in LANGUAGES}
    assert texts["id"] != texts["en"]
    assert steps["id"] != steps["en"]
    for text in (*texts.values(), *steps.values()):
        _plain(text)
        assert "WALIKOTA" not in text


@pytest.mark.parametrize("code", CODES)
def test_sentences_leave_out_facts_that_were_not_recorded(code: str) -> None:
    bare = {"code": code, "program": "WALIKOTA", "tahap": 1, "rank": 4, "cutoff": 3}
    for lang in LANGUAGES:
        _plain(reason_text(bare, lang, NAMES))
        _plain(next_step(bare, lang, NAMES))


def test_the_removal_cites_authority_decree_reason_and_dates_in_words() -> None:
    reason = {**FACTS, "code": "REMOVED_BY_AUTHORITY"}
    text = reason_text(reason, "id", NAMES)
    assert text.startswith("KEMENSOS menghapus rumah tangga ini dari Bantuan Walikota mulai tahap 2")
    assert "keputusan KEP-146" in text
    assert '"memiliki kendaraan roda empat (aduan warga)"' in text
    assert "berlaku sejak 1 Juni 2020" in text
    assert "3 Juni 2020 pukul 10.00 WIB" in text
    assert "Rp600.000" in text
    step = next_step(reason, "en", NAMES)
    assert step.startswith("Object to KEMENSOS")
    assert "citing decree KEP-146 effective 1 June 2020" in step


def test_the_verval_cites_the_officer_and_the_recorded_reason() -> None:
    reason = {**FACTS, "code": "VERVAL_INELIGIBLE"}
    text = reason_text(reason, "id", NAMES)
    assert "oleh Pak RW pada 20 Mei 2020" in text
    assert "tidak layak" in text
    assert "memiliki kendaraan roda empat" in next_step(reason, "id", NAMES)


@pytest.mark.parametrize("code", ["VERVAL_INELIGIBLE", "POPULATION_MISMATCH"])
def test_eligibility_without_a_program_speaks_of_the_citys_aid(code: str) -> None:
    for result in (None, "INELIGIBLE" if code == "VERVAL_INELIGIBLE" else "DECEASED"):
        reason = {"code": code, "program": None, "tahap": None, "result": result, "decided_on": "2020-05-20"}
        text = reason_text(reason, "id", NAMES)
        _plain(text)
        assert "bantuan sosial kota" in text
        assert "the city's social aid" in reason_text(reason, "en", NAMES)


def test_values_in_words() -> None:
    assert day(date(2020, 6, 8), "id") == "8 Juni 2020"
    assert day("2020-06-08", "en") == "8 June 2020"
    assert moment(datetime(2020, 6, 8, 2, 30, tzinfo=UTC), "id") == "8 Juni 2020 pukul 09.30 WIB"
    assert moment("2020-06-08T09:30:00+07:00", "en") == "8 June 2020 at 09:30 WIB"
    assert rupiah(600_000, "id") == "Rp600.000"
    assert rupiah(600_000, "en") == "IDR 600,000"
    address = {"kecamatan": "32.71.01", "kelurahan": "32.71.01.1001", "rw": "2", "rt": "3"}
    assert place(address, "id") == "RT 3 RW 2, Kelurahan Batutulis, Kecamatan Bogor Selatan"


def test_the_summary_names_the_outcome_and_program() -> None:
    answer = {"outcome": "AWAITING_PAYMENT", "program": "BLT", "from_tahap": 1, "to_tahap": 2}
    assert summary(answer, "id", NAMES) == "Menunggu pembayaran: BLT Kemensos, tahap 1 ke tahap 2."
    assert summary(answer, "en", NAMES) == "Awaiting payment: BLT Kemensos, tahap 1 to tahap 2."
    assert reason_text({**FACTS, "code": "PAYMENT_PENDING"}, "fr", NAMES) == reason_text(
        {**FACTS, "code": "PAYMENT_PENDING"}, "id", NAMES
    )


def test_names_are_masked_and_folded() -> None:
    assert mask_name("Budi  Santoso") == "B*** S******"
    assert fold_name(" budi santoso ") == fold_name("BUDISANTOSO")

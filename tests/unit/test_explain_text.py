"""Explanation texts are rendered from reason codes, in Indonesian and English, without PII."""

from __future__ import annotations

import re

import pytest

from salur_cases.projections.projector import fold_name, mask_name
from salur_cases.projections.texts import LANGUAGES, NEXT_STEPS, REASONS, next_step, reason_text

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
]
FACTS = {
    "program": "WALIKOTA",
    "tahap": 2,
    "authority": "KEMENSOS",
    "decree_ref": "KEP-146",
    "effective_on": "2020-06-01",
    "rank": 4,
    "cutoff": 3,
    "detail": "NAME_MISMATCH",
    "other_program": "GUBERNUR",
    "to_program": "BLT",
    "last_tahap": 2,
    "reference": "POS-1",
}


def test_every_reason_code_has_a_text_and_a_next_step_in_both_languages() -> None:
    assert set(REASONS) == set(CODES)
    assert set(NEXT_STEPS) == set(CODES)
    for code in CODES:
        assert set(REASONS[code]) == set(LANGUAGES)
        assert set(NEXT_STEPS[code]) == set(LANGUAGES)


@pytest.mark.parametrize("code", CODES)
def test_texts_render_every_fact_and_differ_by_language(code: str) -> None:
    texts = {lang: reason_text(code, lang, FACTS) for lang in LANGUAGES}
    steps = {lang: next_step(code, lang, FACTS) for lang in LANGUAGES}
    assert texts["id"] != texts["en"]
    assert steps["id"] != steps["en"]
    for text in (*texts.values(), *steps.values()):
        assert "{" not in text
        assert not re.search(r"\d{16}", text)


def test_the_removal_text_cites_authority_decree_and_effective_date() -> None:
    text = reason_text("REMOVED_BY_AUTHORITY", "id", FACTS)
    assert "KEMENSOS" in text
    assert "KEP-146" in text
    assert "2020-06-01" in text
    step = next_step("REMOVED_BY_AUTHORITY", "en", FACTS)
    assert "complaint" in step
    assert "KTP and KK" in step
    assert "KEP-146" in step


def test_quota_text_names_rank_and_cutoff() -> None:
    assert "peringkat 4" in reason_text("QUOTA_EXHAUSTED", "id", FACTS)
    assert "reached rank 3" in reason_text("QUOTA_EXHAUSTED", "en", FACTS)


def test_missing_facts_render_as_a_dash_and_unknown_languages_fall_back_to_indonesian() -> None:
    assert "oleh - " in reason_text("REMOVED_BY_AUTHORITY", "id", {"program": "WALIKOTA"})
    assert reason_text("PAYMENT_PENDING", "fr", FACTS) == reason_text("PAYMENT_PENDING", "id", FACTS)
    assert "belum diverifikasi" in reason_text("VERVAL_INELIGIBLE", "id", {"program": "WALIKOTA", "tahap": 1})
    assert "not matched yet" in reason_text("POPULATION_MISMATCH", "en", {"program": "WALIKOTA", "tahap": 1})


def test_names_are_masked_and_folded() -> None:
    assert mask_name("Budi  Santoso") == "B*** S******"
    assert fold_name(" budi santoso ") == fold_name("BUDISANTOSO")

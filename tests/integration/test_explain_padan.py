"""Padan reasons name the member and what to do: a deceased head, a member who moved, a NIK typo.

Households are registered and matched against a Disdukcapil extract through the imports, then left
out of Bantuan Walikota by the city's allocation; each explanation names the failing member (masked
NIK and masked name), the result, the near miss where one exists, and the step specific to it.
Also: a removal recorded after a tahap was paid, a reversed or unknown tahap range, and the letter.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from salur_cases.cli import main
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import WIB
from salur_cases.domain.commands import DecideVerval, DefineProgram, OpenTahap, RecordPayment, RemoveHousehold
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import BudgetSource, PaymentStatus, ProgramGroup, Role, VervalDecision
from salur_cases.intake.importer import import_file
from salur_cases.processes import allocation, disbursement, programs, verval, withdrawal
from salur_cases.projections.explain import explain
from salur_cases.projections.letter import letter
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.queries import household_read
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from tests.integration.test_explain import _plain

DINSOS = Actor("Ibu Rina (Dinsos)", Role.DINSOS)
DUKCAPIL = Actor("Pak Dedi (Disdukcapil)", Role.DUKCAPIL)
KK_DEAD, KK_MOVED, KK_TYPO, KK_PAID = (
    "3271010101200001",
    "3271010101200002",
    "3271010101200003",
    "3271010101200004",
)
NIK_DEAD, NIK_MOVED, NIK_TYPO_RIGHT, NIK_PAID = (
    "3271011505800001",
    "3271011010750003",
    "3271011505800005",
    "3271011212700008",
)
NIK_TYPO = "3271011505800006"


def _url(target: Any) -> str:
    return target.url if target.kind == "sqlite" else f"{target.url}?schema={target.schema}"


@pytest.fixture
def runtime(store_url: Any, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A migrated database with the story; the same settings in the environment for the CLI."""
    env = {"SALUR_DATABASE_URL": _url(store_url), **env_keys}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    rt = Runtime(load_settings(env))
    upgrade(rt)
    _story(rt)
    yield rt
    rt.close()
    reset_settings_cache()


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode()


def _story(rt: Runtime) -> None:
    header = [
        "no_kk",
        "nik",
        "nama",
        "hubungan",
        "kecamatan",
        "kelurahan",
        "rw",
        "rt",
        "sumber",
        "tanggal_lahir",
    ]
    place = ["Bogor Selatan", "Batutulis", "01", "02", "KELURAHAN"]
    rows = [
        [KK_DEAD, NIK_DEAD, "Dadang Sudrajat", "KEPALA KELUARGA", *place, "1980-05-15"],
        [KK_MOVED, NIK_MOVED, "Euis Kartika", "KEPALA KELUARGA", *place, "1975-10-10"],
        [KK_TYPO, NIK_TYPO, "Asep Suryana", "KEPALA KELUARGA", *place, "1980-05-15"],
        [KK_PAID, NIK_PAID, "Ujang Permana", "KEPALA KELUARGA", *place, "1970-12-12"],
    ]
    assert import_file(rt, "registrations", "daftar.csv", _csv(header, rows), DINSOS).accepted == 4
    extract = [
        [NIK_DEAD, KK_DEAD, "Dadang Sudrajat", "1980-05-15", "MENINGGAL", "Y", "Batutulis"],
        [NIK_MOVED, KK_MOVED, "Euis Kartika", "1975-10-10", "PINDAH", "Y", "Batutulis"],
        [NIK_TYPO_RIGHT, KK_TYPO, "Asep Suryana", "1980-05-15", "HIDUP", "Y", "Batutulis"],
        [NIK_PAID, KK_PAID, "Ujang Permana", "1970-12-12", "HIDUP", "Y", "Batutulis"],
    ]
    population = ["nik", "no_kk", "nama", "tanggal_lahir", "status", "ektp", "kelurahan"]
    assert import_file(rt, "population", "extract.csv", _csv(population, extract), DUKCAPIL).accepted == 4
    app = rt.app
    for no_kk in (KK_DEAD, KK_MOVED, KK_TYPO, KK_PAID):
        verval.decide_verval(
            app, no_kk, DecideVerval(VervalDecision.ELIGIBLE, "layak", "Pak RW", date(2020, 4, 21)), DINSOS
        )
    programs.define_program(
        app,
        DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
        DINSOS,
    )
    programs.open_tahap(
        app,
        "WALIKOTA",
        OpenTahap(1, date(2020, 4, 27), date(2020, 5, 26), 5, 500_000, 2_500_000, "027.45-312"),
        DINSOS,
    )
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    paid_at = date(2020, 4, 28)
    moment = datetime(2020, 4, 28, 10, tzinfo=WIB)
    disbursement.record_payments(
        app,
        "WALIKOTA",
        1,
        [RecordPayment(KK_PAID, 500_000, moment.isoformat(), PaymentStatus.PAID, "POS-77")],
        DINSOS,
    )
    removal = RemoveHousehold(
        "WALIKOTA", 1, "KEMENSOS", "pindah domisili ke Kabupaten Bogor", "KEP-9", effective_on=paid_at
    )
    withdrawal.remove(app, KK_PAID, removal, DINSOS)
    catch_up(rt)


def _mismatch(rt: Runtime, no_kk: str) -> tuple[dict[str, Any], dict[str, Any]]:
    answers = [explain(rt, no_kk, "WALIKOTA", 1, 1, lang=lang) for lang in ("id", "en")]
    for answer in answers:
        assert answer["outcome"] == "NEVER_RECEIVED"
        assert [r["code"] for r in answer["reasons"]] == ["POPULATION_MISMATCH"]
        for text in [answer["reasons"][0]["text"], *answer["next_steps"]]:
            _plain(text)
            assert not re.search(r"\d{16}", text)
    return answers[0], answers[1]


def test_a_deceased_head_is_named_masked_and_told_to_change_the_head_at_disdukcapil(runtime: Runtime) -> None:
    indonesian, english = _mismatch(runtime, KK_DEAD)
    reason = indonesian["reasons"][0]
    assert reason["result"] == "DECEASED"
    assert reason["detail"] == [
        {
            "nik": "3271********0001",
            "name": "D***** S*******",
            "relationship": "KEPALA KELUARGA",
            "result": "DECEASED",
            "suggestion": None,
            "suggested_nik": None,
            "suggested_name": None,
        }
    ]
    assert "3271********0001 (D***** S*******): tercatat meninggal dunia" in reason["text"]
    assert "ganti kepala keluarga" in indonesian["next_steps"][0]
    assert "change the head of household" in english["next_steps"][0]
    assert "Dadang" not in reason["text"]


def test_a_member_who_moved_is_told_to_register_where_the_household_lives(runtime: Runtime) -> None:
    indonesian, english = _mismatch(runtime, KK_MOVED)
    assert indonesian["reasons"][0]["detail"][0]["result"] == "MOVED"
    assert "recorded as moved away" in english["reasons"][0]["text"]
    assert "tempat tinggalnya sekarang" in indonesian["next_steps"][0]
    assert "where it now lives" in english["next_steps"][0]


def test_a_nik_typo_suggests_the_right_nik_masked_and_a_correction_at_dinsos(runtime: Runtime) -> None:
    indonesian, english = _mismatch(runtime, KK_TYPO)
    member = indonesian["reasons"][0]["detail"][0]
    assert (member["result"], member["suggestion"], member["suggested_nik"]) == (
        "NIK_NOT_FOUND",
        "NIK_ONE_DIGIT",
        "3271********0005",
    )
    assert "3271********0005" in indonesian["reasons"][0]["text"]
    assert "mengoreksi NIK" in indonesian["next_steps"][0]
    assert "bukan di Disdukcapil" in indonesian["next_steps"][0]
    assert "not at Disdukcapil" in english["next_steps"][0]


def test_a_removal_after_payment_is_explained_as_such_and_agrees_with_the_status(runtime: Runtime) -> None:
    for lang, words in (
        ("id", "sudah disalurkan pada 28 April 2020"),
        ("en", "had been made on 28 April 2020"),
    ):
        answer = explain(runtime, KK_PAID, "WALIKOTA", 1, 1, lang=lang)
        assert answer["outcome"] == "NEVER_RECEIVED"
        assert answer["payments"] == []
        (reason,) = answer["reasons"]
        assert reason["code"] == "REMOVED_BY_AUTHORITY"
        assert (reason["paid_on"], reason["amount_idr"]) == ("2020-04-28", 500_000)
        assert reason["reason"] == "pindah domisili ke Kabupaten Bogor"
        assert words in reason["text"]
        assert '"pindah domisili ke Kabupaten Bogor"' in reason["text"]
        _plain(reason["text"])
    view = household_read(runtime, KK_PAID)
    assert view is not None
    assert [(s.program, s.tahap, s.state) for s in view.programs] == [("WALIKOTA", 1, "REMOVED")]


def test_a_reversed_or_unknown_range_is_bad_input_with_the_same_code_in_the_cli(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidCommand) as reversed_range:
        explain(runtime, KK_DEAD, "WALIKOTA", 2, 1)
    assert (reversed_range.value.field, reversed_range.value.code) == ("from_tahap", "INVALID_REQUEST")
    with pytest.raises(InvalidCommand) as unknown:
        explain(runtime, KK_DEAD, "WALIKOTA", 4, 5)
    assert (unknown.value.field, unknown.value.code) == ("from_tahap", "UNKNOWN_TAHAP")
    assert main(["explain", KK_DEAD, "--program", "WALIKOTA", "--from-tahap", "2", "--to-tahap", "1"]) == 2
    assert "INVALID_REQUEST" in capsys.readouterr().err
    assert main(["explain", "3271019999999999"]) == 2
    assert "INVALID_REQUEST" in capsys.readouterr().err


def _pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_the_letter_reads_back_with_its_reasons_event_ids_and_chain_head(
    runtime: Runtime, tmp_path: Path
) -> None:
    for lang, title in (("id", "Surat Keterangan Status Bantuan Sosial"), ("en", "Social aid status letter")):
        answer = explain(runtime, KK_PAID, "WALIKOTA", 1, 1, lang=lang)
        text = _pdf_text(letter(runtime, KK_PAID, "WALIKOTA", 1, 1, lang=lang))
        assert title in text
        assert "Kelurahan Batutulis, Kecamatan Bogor Selatan" in text
        assert "3271********0004" in text
        assert KK_PAID not in text
        assert "Ujang" not in text
        assert " ".join(answer["reasons"][0]["text"].split()) in text
        assert answer["reasons"][0]["event_id"] in text
        assert " ".join(answer["next_steps"][0].split()) in text
        head = re.search(r"(\d+):([0-9a-f]{64})", text)
        assert head is not None
        assert int(head.group(1)) == runtime.app.recorder.max_notification_id()
    out = tmp_path / "surat.pdf"
    assert main(["letter", KK_PAID, "--program", "WALIKOTA", "--lang", "en", "--out", str(out)]) == 0
    assert "Social aid status letter" in _pdf_text(out.read_bytes())

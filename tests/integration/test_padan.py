"""padan against a loaded Disdukcapil extract, and the near misses suggested to officers."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from salur_cases.domain.actor import Actor
from salur_cases.domain.vocabulary import PadanResult, Role
from salur_cases.intake.importer import import_file
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.reports import padan_suggestions, padan_suggestions_command
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache

DINSOS = Actor("tester", Role.DINSOS)
DUKCAPIL = Actor("tester", Role.DUKCAPIL)
KK1, KK2, KK3, KK4 = "3271010101200001", "3271010101200002", "3271020202200003", "3271030303200004"
NIK1, NIK2, NIK3, NIK4 = "3271011505800001", "3271011010750003", "3271020101800004", "3271031212700005"
NIK1_TYPO = "3271011505800007"


def _url(target: Any) -> str:
    return target.url if target.kind == "sqlite" else f"{target.url}?schema={target.schema}"


@pytest.fixture
def runtime(store_url: Any, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A migrated database; the same settings in the environment for the command handlers."""
    env = {"SALUR_DATABASE_URL": _url(store_url), **env_keys}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    rt = Runtime(load_settings(env))
    upgrade(rt)
    yield rt
    rt.close()
    reset_settings_cache()


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode()


def _register(rt: Runtime) -> None:
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
        [KK1, NIK1_TYPO, "Asep Suryana", "KEPALA KELUARGA", *place, "1980-05-15"],  # a typo in the NIK
        [KK2, NIK2, "Yusup Hidajat", "KEPALA KELUARGA", *place, "1975-10-10"],  # old and Sundanese spelling
        [KK3, NIK3, "Muhamad Ramdani", "KEPALA KELUARGA", *place, "1980-01-01"],  # a short form
        [KK4, NIK4, "Dadang Sudrajat", "KEPALA KELUARGA", *place, "1970-12-12"],  # deceased: no suggestion
    ]
    report = import_file(rt, "registrations", "daftar.csv", _csv(header, rows), DINSOS)
    assert report.accepted == 4


def _load_extract(rt: Runtime) -> None:
    header = ["nik", "no_kk", "nama", "tanggal_lahir", "status", "ektp", "kelurahan"]
    rows = [
        [NIK1, KK1, "Asep Suryana", "1980-05-15", "HIDUP", "Y", "Batutulis"],
        [NIK2, KK2, "Yusuf Hidayat", "1975-10-10", "HIDUP", "Y", "Batutulis"],
        [NIK3, KK3, "Moch. Ramdani", "1980-01-01", "HIDUP", "Y", "Batutulis"],
        [NIK4, KK4, "Dadang Sudrajat", "1970-12-12", "MENINGGAL", "Y", "Batutulis"],
    ]
    report = import_file(rt, "population", "extract.csv", _csv(header, rows), DUKCAPIL)
    assert report.accepted == 4


def test_loading_an_extract_matches_the_households_it_concerns_exactly(runtime: Runtime) -> None:
    _register(runtime)
    assert runtime.app.household(KK1).padan is None
    _load_extract(runtime)
    padan = {k: runtime.app.household(k).padan for k in (KK1, KK2, KK3, KK4)}
    assert padan == {
        KK1: PadanResult.NIK_NOT_FOUND,
        KK2: PadanResult.NAME_MISMATCH,
        KK3: PadanResult.NAME_MISMATCH,
        KK4: PadanResult.DECEASED,
    }


def test_near_misses_are_suggested_with_masked_niks_and_never_applied(
    runtime: Runtime, tmp_path: Path
) -> None:
    _register(runtime)
    _load_extract(runtime)
    catch_up(runtime)
    found = {s.no_kk: s for s in padan_suggestions(runtime)}
    assert {k: s.kind for k, s in found.items()} == {
        KK1: "NIK_ONE_DIGIT",
        KK2: "NAME_SPELLING",
        KK3: "NAME_NICKNAME",
    }
    assert (found[KK1].nik_on_record, found[KK1].nik_in_extract) == ("3271********0007", "3271********0001")
    assert found[KK1].member == 0
    assert runtime.app.household(KK1).padan is PadanResult.NIK_NOT_FOUND  # only a suggestion

    out = tmp_path / "suggestions.json"
    assert padan_suggestions_command(argparse.Namespace(format="json", out=str(out))) == 0
    text = out.read_text()
    assert NIK1 not in text
    assert NIK1_TYPO not in text
    assert len(json.loads(text)["items"]) == 3
    xlsx = tmp_path / "suggestions.xlsx"
    assert padan_suggestions_command(argparse.Namespace(format="xlsx", out=str(xlsx))) == 0
    assert xlsx.read_bytes().startswith(b"PK")

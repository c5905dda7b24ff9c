"""`salur import`: every kind, good and bad rows, XLSX, a file imported twice, an import resumed.

Each test runs on SQLite and on a fresh PostgreSQL schema (the `store_url` fixture).
"""

from __future__ import annotations

import csv
import gc
import io
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import WIB
from salur_cases.domain.commands import DefineProgram, OpenTahap, RecordPayment
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.household import Household
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.intake import importer
from salur_cases.intake.cli import progress_bar
from salur_cases.intake.importer import KIND_ROLES, import_file, may_import
from salur_cases.intake.importlog import ImportLog
from salur_cases.intake.report import ImportReport, RowProblem
from salur_cases.intake.rows import Layout, Row, Sheet
from salur_cases.processes import allocation, disbursement, programs
from salur_cases.projections.migrate import upgrade
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings
from salur_cases.tables import imports, population_extract
from tests.builders import stored_events

DINSOS = Actor("tester", Role.DINSOS)
DUKCAPIL = Actor("tester", Role.DUKCAPIL)

REG_HEADER = [
    "No. KK",
    "NIK",
    "Nama",
    "Hubungan",
    "Kecamatan",
    "Kelurahan",
    "RW",
    "RT",
    "Sumber",
    "Tanggal Lahir",
]
KK1, KK2, KK3, KK4 = "3271010101200001", "3271010101200002", "3271020202200003", "3271030303200004"
NIK1, NIK2, NIK3, NIK4, NIK5 = (
    "3271011505800001",
    "3271015505820002",
    "3271021010750003",
    "3271020101100004",
    "3271031212700005",
)


def _url(target: Any) -> str:
    return target.url if target.kind == "sqlite" else f"{target.url}?schema={target.schema}"


@pytest.fixture
def runtime(store_url: Any, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """A migrated, empty database."""
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": _url(store_url), **env_keys}))
    upgrade(rt)
    yield rt
    rt.close()


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def member(
    no_kk: str,
    nik: str,
    name: str,
    relationship: str,
    *,
    source: str = "KELURAHAN",
    kelurahan: str = "Batutulis",
    kecamatan: str = "Bogor Selatan",
    birth: str = "",
) -> list[str]:
    return [no_kk, nik, name, relationship, kecamatan, kelurahan, "01", "02", source, birth]


GOOD_REGISTRATIONS = [
    member(KK1, NIK1, "Asep Suryana", "KEPALA KELUARGA", birth="1980-05-15"),
    member(KK1, NIK2, "Euis Rohaeti", "ISTRI", birth="15/05/1982"),
    member(KK2, NIK3, "Ujang Permana", "kepala keluarga", kecamatan="32.71.02", kelurahan="Baranangsiang"),
]


def events(rt: Runtime) -> int:
    return rt.app.recorder.max_notification_id() or 0


def register(rt: Runtime, rows: Sequence[Sequence[object]] = GOOD_REGISTRATIONS) -> ImportReport:
    return import_file(rt, "registrations", "daftar.csv", csv_bytes(REG_HEADER, rows), DINSOS)


def paid(no_kk: str) -> RecordPayment:
    """A PAID line of Rp500.000 on 28 April 2020."""
    return RecordPayment(
        no_kk,
        500_000,
        datetime(2020, 4, 28, 10, tzinfo=WIB).isoformat(),
        PaymentStatus.PAID,
        f"BJB-{no_kk[-2:]}",
    )


def codes(problems: Sequence[RowProblem]) -> dict[int, str]:
    return {p.row: p.code for p in problems}


def open_program(rt: Runtime, code: str = "WALIKOTA", tahap: int = 1, amount: int = 500_000) -> None:
    programs.define_program(
        rt.app, DefineProgram(code, "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS), DINSOS
    )
    programs.open_tahap(
        rt.app,
        code,
        OpenTahap(tahap, date(2020, 4, 27), date(2020, 5, 26), 10, amount, 10 * amount, "SK 027.45-312"),
        DINSOS,
    )


# --- registrations ------------------------------------------------------------------------------


def test_registrations_good_file_registers_each_household_once(runtime: Runtime) -> None:
    report = register(runtime)
    assert (report.rows, report.accepted, report.rejected, report.already_imported) == (3, 3, [], False)
    household = runtime.app.household(KK1)
    assert [m.nik for m in household.members] == [NIK1, NIK2]
    assert household.members[1].birth_date == date(1982, 5, 15)
    assert household.sources[0].kind == "KELURAHAN"
    assert report.import_id[:12] in household.sources[0].reference
    assert runtime.app.household(KK2).address is not None
    assert runtime.app.household(KK2).members[0].relationship == "KEPALA KELUARGA"


def test_an_import_leaves_its_rows_to_reference_counting_not_to_the_cycle_collector(runtime: Runtime) -> None:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # whatever a collection finds stays in gc.garbage
    try:
        assert register(runtime).accepted == len(GOOD_REGISTRATIONS)
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, Row | Sheet | Layout)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cyclic == []


def test_a_bad_member_row_rejects_its_whole_household_and_never_stops_the_others(runtime: Runtime) -> None:
    rows = [
        *GOOD_REGISTRATIONS,
        member(KK3, NIK4, "Dede", "KEPALA KELUARGA", kecamatan="Bogor Timur", kelurahan="Sindangsari"),
        member(
            KK3, "32710212127", "Cecep", "ANAK", kecamatan="Bogor Timur", kelurahan="Sindangsari"
        ),  # bad NIK
        member(KK4, NIK5, "Ai", "KEPALA KELUARGA", kelurahan="Atlantis"),  # unknown kelurahan
        member("1234", NIK5, "Ai", "KEPALA KELUARGA"),  # bad No. KK
        member(KK1, NIK1, "Asep Suryana", "KEPALA KELUARGA", birth="1980-05-15"),  # duplicate row
        member(
            "3271040404200005",
            "3271041111900006",
            "",
            "KEPALA KELUARGA",
            kecamatan="Bogor Barat",
            kelurahan="Menteng",
        ),  # missing name
        member(
            "3271050505200006",
            "3271051111900007",
            "Oom",
            "KEPALA KELUARGA",
            kecamatan="Bogor Utara",
            kelurahan="Tegal Gundil",
            birth="31-02-1990",
        ),  # bad date
    ]
    report = register(runtime, rows)
    assert report.accepted == 3
    assert codes(report.rejected) == {
        5: "BAD_NIK",
        6: "BAD_NIK",
        7: "UNKNOWN_KELURAHAN",
        8: "BAD_NO_KK",
        9: "DUPLICATE_ROW",
        10: "MISSING_VALUE",
        11: "BAD_DATE",
    }
    bad_nik = next(p for p in report.rejected if p.row == 6)
    assert bad_nik.column == "NIK"
    assert next(p for p in report.rejected if p.row == 7).column == "Kelurahan"
    for no_kk in (KK3, KK4):
        with pytest.raises(Refusal):
            runtime.app.household(no_kk)
    assert runtime.app.household(KK1).members[0].nik == NIK1


def test_no_message_carries_a_nik_or_a_name(runtime: Runtime) -> None:
    rows = [
        member(KK3, NIK4, "Dede Sukmana", "KEPALA KELUARGA"),
        member(KK3, "327101150580000X", "Cecep", "ANAK"),
    ]
    report = register(runtime, rows)
    text = str(report.to_json())
    assert report.rejected
    for secret in (NIK4, "327101150580000X", "Dede", "Cecep", KK3):
        assert secret not in text


def test_a_nik_of_another_household_is_refused_with_its_household(runtime: Runtime) -> None:
    register(runtime)
    report = register(
        runtime, [member(KK4, NIK5, "Ai", "KEPALA KELUARGA"), member(KK4, NIK1, "Asep", "SUAMI")]
    )
    assert codes(report.rejected) == {2: "NIK_IN_OTHER_HOUSEHOLD", 3: "NIK_IN_OTHER_HOUSEHOLD"}
    assert next(p for p in report.rejected if p.row == 3).column == "nik"
    with pytest.raises(Refusal):
        runtime.app.household(KK4)


def test_a_missing_required_column_is_named_and_nothing_is_written(runtime: Runtime) -> None:
    header = [h for h in REG_HEADER if h != "Kelurahan"]
    rows = [[c for i, c in enumerate(r) if i != 5] for r in GOOD_REGISTRATIONS]
    with pytest.raises(InvalidCommand) as refused:
        import_file(runtime, "registrations", "daftar.csv", csv_bytes(header, rows), DINSOS)
    assert refused.value.field == "kelurahan"
    assert "kelurahan" in str(refused.value)
    assert events(runtime) == 0
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(imports)).scalar() == 0


def test_english_headers_in_any_case_and_a_semicolon_csv(runtime: Runtime) -> None:
    header = [
        "NO_KK",
        "nik",
        "Name",
        "RELATIONSHIP",
        "kecamatan",
        "Kelurahan",
        "rw",
        "rt",
        "Source",
        "birth date",
    ]
    data = csv_bytes(header, GOOD_REGISTRATIONS, delimiter=";")
    report = import_file(runtime, "registrations", "list.csv", data, DINSOS)
    assert (report.accepted, report.rejected) == (3, [])


def test_an_xlsx_file_with_numbers_typed_as_numbers(runtime: Runtime) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(REG_HEADER)
    for row in GOOD_REGISTRATIONS:
        sheet.append([int(row[0]), int(row[1]), *row[2:9], date(1980, 5, 15)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_file(
        runtime, "registrations", "daftar.xlsx", buffer.getvalue(), DINSOS, progress=progress_bar
    )
    assert (report.accepted, report.rejected) == (3, [])
    assert runtime.app.household(KK1).members[0].birth_date == date(1980, 5, 15)


def test_an_unreadable_file_is_bad_usage(runtime: Runtime) -> None:
    with pytest.raises(InvalidCommand):
        import_file(runtime, "registrations", "daftar.xlsx", b"PK\x03\x04not really a workbook", DINSOS)
    with pytest.raises(InvalidCommand):
        import_file(runtime, "nonsense", "daftar.csv", csv_bytes(REG_HEADER, []), DINSOS)
    assert events(runtime) == 0


def test_the_same_file_twice_adds_nothing_and_says_so(runtime: Runtime) -> None:
    first = register(runtime)
    before = events(runtime)
    second = register(runtime)
    assert second.already_imported
    assert not first.already_imported
    assert (second.import_id, second.rows, second.accepted) == (first.import_id, 3, 3)
    assert events(runtime) == before


def test_a_dry_run_checks_every_row_and_writes_nothing(runtime: Runtime) -> None:
    rows = [*GOOD_REGISTRATIONS, member(KK4, "123", "Ai", "KEPALA KELUARGA")]
    report = import_file(runtime, "registrations", "d.csv", csv_bytes(REG_HEADER, rows), DINSOS, dry_run=True)
    assert report.dry_run
    assert report.accepted == 3
    assert codes(report.rejected) == {5: "BAD_NIK"}
    assert events(runtime) == 0
    assert not register(runtime, rows).already_imported


# --- population (padan) -------------------------------------------------------------------------

POP_HEADER = ["NIK", "No KK", "Nama", "Tanggal Lahir", "Status", "eKTP", "Kelurahan"]


def test_population_rows_load_the_extract_and_match_the_households_they_concern(runtime: Runtime) -> None:
    register(runtime)
    rows = [
        [NIK1, KK1, "ASEP  SURYANA", "1980-05-15", "HIDUP", "Y", "Batutulis"],
        [NIK2, KK1, "Euis Rohaeti", "1982-05-15", "hidup", "ya", "32.71.01.1001"],
        [NIK3, KK2, "Ujang Permana Jr", "1975-10-10", "HIDUP", "Y", "Baranangsiang"],
        ["3271010101010", KK1, "X", "1980-01-01", "HIDUP", "Y", "Batutulis"],  # bad NIK
        [NIK4, KK3, "Dede", "2010-01-01", "HIDUP", "Y", "Atlantis"],  # unknown kelurahan
        [NIK5, KK4, "Ai", "1970-12-12", "KAWIN", "Y", ""],  # bad status
        [NIK1, KK1, "Asep Suryana", "1980-05-15", "HIDUP", "Y", "Batutulis"],  # duplicate NIK
    ]
    report = import_file(runtime, "population", "extract.csv", csv_bytes(POP_HEADER, rows), DUKCAPIL)
    assert report.accepted == 3
    assert codes(report.rejected) == {
        5: "BAD_NIK",
        6: "UNKNOWN_KELURAHAN",
        7: "BAD_VALUE",
        8: "DUPLICATE_ROW",
    }
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(population_extract)).scalar() == 3
    assert runtime.app.household(KK1).padan is PadanResult.MATCHED
    assert runtime.app.household(KK2).padan is PadanResult.NAME_MISMATCH
    # registering after the extract is loaded matches at once
    report = register(runtime, [member(KK4, NIK5, "Ai", "KEPALA KELUARGA")])
    assert runtime.app.household(KK4).padan is PadanResult.NIK_NOT_FOUND


# --- verval -------------------------------------------------------------------------------------

VERVAL_HEADER = ["no_kk", "keputusan", "alasan", "petugas", "tanggal", "berlaku"]


def test_verval_rows_decide_and_unknown_households_are_rejected(runtime: Runtime) -> None:
    register(runtime)
    rows = [
        [KK1, "LAYAK", "terdampak", "Petugas A", "2020-04-20", ""],
        [KK2, "tidak layak", "memiliki aset", "Petugas B", "21/04/2020", "2020-05-01"],
        [KK3, "LAYAK", "", "Petugas C", "2020-04-20", ""],  # not registered
        [KK1, "MUNGKIN", "", "Petugas A", "2020-04-20", ""],  # bad decision
        [KK1, "LAYAK", "", "", "2020-04-20", ""],  # no officer
        [KK1, "LAYAK", "", "Petugas A", "kemarin", ""],  # bad date
        [KK1, "LAYAK", "terdampak", "Petugas A", "2020-04-20", ""],  # duplicate row
    ]
    report = import_file(runtime, "verval", "verval.csv", csv_bytes(VERVAL_HEADER, rows), DINSOS)
    assert report.accepted == 2
    assert codes(report.rejected) == {
        4: "UNKNOWN_HOUSEHOLD",
        5: "BAD_VALUE",
        6: "MISSING_VALUE",
        7: "BAD_DATE",
        8: "DUPLICATE_ROW",
    }
    assert runtime.app.household(KK1).verval is VervalDecision.ELIGIBLE
    assert runtime.app.household(KK2).verval is VervalDecision.INELIGIBLE
    assert runtime.app.household(KK2).verval_on == date(2020, 4, 21)


# --- roster -------------------------------------------------------------------------------------

ROSTER_HEADER = ["no_kk", "program", "tahap", "otoritas"]


def test_a_roster_is_a_fact_and_an_unknown_household_on_it_is_created(runtime: Runtime) -> None:
    register(runtime)
    open_program(runtime, "BST_KEMENSOS", 5, 600_000)
    rows = [
        [KK1, "bst_kemensos", "V", "KEMENSOS"],
        [KK4, "BST_KEMENSOS", "5", "KEMENSOS"],  # unknown: created by the roster
        [KK2, "NOPE", "5", "KEMENSOS"],  # unknown program
        [KK2, "BST_KEMENSOS", "7", "KEMENSOS"],  # unknown tahap
        [KK2, "BST_KEMENSOS", "lima", "KEMENSOS"],  # bad tahap
        [KK1, "BST_KEMENSOS", "5", "KEMENSOS"],  # duplicate
    ]
    report = import_file(runtime, "roster", "roster.csv", csv_bytes(ROSTER_HEADER, rows), DINSOS)
    assert report.accepted == 2
    assert codes(report.rejected) == {
        4: "UNKNOWN_PROGRAM",
        5: "UNKNOWN_TAHAP",
        6: "BAD_VALUE",
        7: "DUPLICATE_ROW",
    }
    warnings = {(p.row, p.code) for p in report.warnings}
    assert {(2, "NOT_MATCHED"), (3, "UNKNOWN_HOUSEHOLD"), (3, "NOT_MATCHED")} <= warnings
    created = runtime.app.household(KK4)
    assert created.sources[0].kind == "KEMENSOS"
    assert ("BST_KEMENSOS", 5) in created.seats
    assert ("BST_KEMENSOS", 5) in runtime.app.household(KK1).seats


def test_a_rosters_berlaku_is_recorded_on_its_seats_and_on_whom_it_drops(runtime: Runtime) -> None:
    register(runtime)
    open_program(runtime)
    programs.open_tahap(
        runtime.app,
        "WALIKOTA",
        OpenTahap(2, date(2020, 5, 27), date(2020, 6, 26), 10, 500_000, 5_000_000, "SK 027.45-400"),
        DINSOS,
    )
    allocation.allocate_roster(runtime.app, "WALIKOTA", 1, "KEMENSOS", [KK1, KK2], DINSOS)
    disbursement.record_payments(runtime.app, "WALIKOTA", 1, [paid(KK1), paid(KK2)], DINSOS)
    rows = [
        [KK1, "WALIKOTA", "2", "KEMENSOS", "30/05/2020"],
        [KK3, "WALIKOTA", "2", "KEMENSOS", "2020-06-01"],  # one list takes effect on one date
    ]
    report = import_file(runtime, "roster", "r2.csv", csv_bytes([*ROSTER_HEADER, "berlaku"], rows), DINSOS)
    assert report.accepted == 1
    assert codes(report.rejected) == {3: "BAD_VALUE"}
    assert report.rejected[0].column == "berlaku"

    def of(no_kk: str, topic: str) -> list[Any]:
        hid = runtime.app.household_id(no_kk)
        return [e for e in stored_events(runtime.app, topic) if e.originator_id == hid and e.tahap == 2]

    assert [e.effective_on for e in of(KK1, "salur:household.Assigned")] == [date(2020, 5, 30)]
    assert [(e.code, e.effective_on) for e in of(KK2, "salur:household.LeftOut")] == [
        ("NOT_IN_SOURCE_LIST", date(2020, 5, 30))
    ]
    assert not of(KK3, "salur:household.Assigned")


# --- cleansing ----------------------------------------------------------------------------------

CLEANSING_HEADER = ["no_kk", "program", "tahap", "otoritas", "alasan", "dokumen", "berlaku"]


def test_cleansing_rows_remove_and_report_what_they_cannot(runtime: Runtime) -> None:
    register(runtime)
    open_program(runtime)
    rows = [
        [KK1, "WALIKOTA", "1", "KEMENSOS", "data ganda", "BA 12/2020", "2020-05-01"],
        [KK3, "WALIKOTA", "1", "KEMENSOS", "data ganda", "BA 12/2020", ""],  # not registered
        [KK2, "WALIKOTA", "1", "KEMENSOS", "", "BA 12/2020", ""],  # no reason
    ]
    report = import_file(runtime, "cleansing", "c.csv", csv_bytes(CLEANSING_HEADER, rows), DINSOS)
    assert report.accepted == 1
    assert codes(report.rejected) == {3: "UNKNOWN_HOUSEHOLD", 4: "MISSING_VALUE"}
    removal = runtime.app.household(KK1).withdrawal("WALIKOTA", 1)
    assert removal is not None
    assert removal.decree_ref == "BA 12/2020"
    assert removal.effective_on == date(2020, 5, 1)
    again = import_file(
        runtime,
        "cleansing",
        "c2.csv",
        csv_bytes(CLEANSING_HEADER, [*rows[:1], [*rows[0][:3], "DINSOS", "lagi", "", ""]]),
        DINSOS,
    )
    assert again.accepted == 1
    assert codes(again.warnings) == {2: "REMOVED"}


# --- payments -----------------------------------------------------------------------------------

PAYMENT_HEADER = ["no_kk", "program", "tahap", "jumlah", "tanggal", "status", "referensi"]


def test_a_payers_report_is_recorded_as_facts_with_warnings(runtime: Runtime) -> None:
    register(runtime)
    open_program(runtime)
    allocation.allocate_roster(runtime.app, "WALIKOTA", 1, "DINSOS", [KK1], DINSOS)
    rows = [
        [KK1, "WALIKOTA", "1", "Rp500.000", "2020-04-27 10:00", "PAID", "BJB-1"],
        [KK2, "WALIKOTA", "1", "500000", "27/04/2020", "DIBAYAR", "BJB-2"],  # no seat: a fact with a warning
        [KK3, "WALIKOTA", "1", "500000", "2020-04-27", "PAID", "BJB-3"],  # not registered
        [KK1, "WALIKOTA", "1", "lima ratus ribu", "2020-04-27", "PAID", "BJB-4"],  # not a number
        [KK1, "WALIKOTA", "1", "500000", "27 April", "PAID", "BJB-5"],  # bad date
        [KK1, "WALIKOTA", "1", "500000", "2020-04-27", "HILANG", "BJB-6"],  # bad status
        [KK1, "WALIKOTA", "1", "Rp500.000", "2020-04-27 10:00", "PAID", "BJB-1"],  # duplicate row
    ]
    report = import_file(runtime, "payments", "bjb.csv", csv_bytes(PAYMENT_HEADER, rows), DINSOS)
    assert report.accepted == 2
    assert codes(report.rejected) == {
        4: "UNKNOWN_HOUSEHOLD",
        5: "BAD_AMOUNT",
        6: "BAD_DATE",
        7: "BAD_VALUE",
        8: "DUPLICATE_ROW",
    }
    assert "NOT_ASSIGNED" in {p.code for p in report.warnings if p.row == 3}
    assert runtime.app.household(KK1).paid_in("WALIKOTA", 1)


# --- roles --------------------------------------------------------------------------------------


def test_dinsos_may_import_every_kind_and_disdukcapil_only_population() -> None:
    assert all(may_import(Role.DINSOS, kind) for kind in KIND_ROLES)
    assert [k for k in KIND_ROLES if may_import(Role.DUKCAPIL, k)] == ["population"]
    assert not may_import(Role.KELURAHAN, "registrations")


# --- interrupted imports resume -----------------------------------------------------------------


class Crash(Exception):
    """An import killed between a committed batch and its progress row."""


def _crash_on_advance(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    advance = ImportLog.advance
    count = {"n": 0}

    def crashing(self: ImportLog, *args: Any, **kwargs: Any) -> None:
        count["n"] += 1
        if count["n"] == calls:
            raise Crash
        advance(self, *args, **kwargs)

    monkeypatch.setattr(ImportLog, "advance", crashing)


def _households(n: int) -> list[list[str]]:
    rows = []
    for i in range(1, n + 1):
        no_kk = f"32710101012{i:05d}"
        rows.append(member(no_kk, f"327101150580{i:04d}", f"Kepala {i}", "KEPALA KELUARGA"))
        rows.append(member(no_kk, f"327101550582{i:04d}", f"Istri {i}", "ISTRI"))
    return rows


def test_an_interrupted_registration_import_resumes_without_losing_or_doubling(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH", 3)
    rows = _households(10)  # 4 batches of households
    _crash_on_advance(monkeypatch, calls=2)  # batch 2 is written, its progress is not
    with pytest.raises(Crash):
        register(runtime, rows)
    monkeypatch.undo()
    monkeypatch.setattr(importer, "BATCH", 3)
    report = register(runtime, rows)
    assert (report.rows, report.accepted, report.rejected, report.already_imported) == (20, 20, [], False)
    for i in range(1, 11):
        household = runtime.app.household(f"32710101012{i:05d}")
        assert len(household.sources) == 1
        assert len(household.members) == 2
    assert register(runtime, rows).already_imported


def test_an_interrupted_payments_import_resumes_without_paying_twice(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _households(6)
    register(runtime, rows)
    open_program(runtime)
    no_kks = [f"32710101012{i:05d}" for i in range(1, 7)]
    allocation.allocate_roster(runtime.app, "WALIKOTA", 1, "DINSOS", no_kks, DINSOS)
    payments = [[k, "WALIKOTA", "1", "500000", "2020-04-27", "PAID", f"BJB-{k[-4:]}"] for k in no_kks]
    data = csv_bytes(PAYMENT_HEADER, payments)
    monkeypatch.setattr(importer, "BATCH", 2)
    _crash_on_advance(monkeypatch, calls=2)
    with pytest.raises(Crash):
        import_file(runtime, "payments", "bjb.csv", data, DINSOS)
    monkeypatch.undo()
    monkeypatch.setattr(importer, "BATCH", 2)
    report = import_file(runtime, "payments", "bjb.csv", data, DINSOS)
    assert (report.accepted, report.rejected, report.warnings) == (6, [], [])
    for no_kk in no_kks:
        paid = [
            e
            for e in runtime.app.repository.event_store.get(runtime.app.household_id(no_kk))
            if isinstance(e, Household.PaymentRecorded)
        ]
        assert len(paid) == 1


# --- the command line ---------------------------------------------------------------------------


def test_the_command_line_exit_codes_and_the_written_report(
    runtime: Runtime,
    store_url: Any,
    env_keys: dict[str, str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from salur_cases.cli import main  # noqa: PLC0415
    from salur_cases.settings import reset_settings_cache  # noqa: PLC0415

    for name, value in {"SALUR_DATABASE_URL": _url(store_url), **env_keys}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    good, bad, broken = tmp_path / "good.csv", tmp_path / "bad.csv", tmp_path / "broken.csv"
    good.write_bytes(csv_bytes(REG_HEADER, GOOD_REGISTRATIONS))
    bad.write_bytes(csv_bytes(REG_HEADER, [member(KK4, "123", "Ai", "KEPALA KELUARGA")]))
    broken.write_bytes(csv_bytes(REG_HEADER[:3], [r[:3] for r in GOOD_REGISTRATIONS]))
    report_csv, report_json = tmp_path / "report.csv", tmp_path / "report.json"

    assert main(["import", "registrations", str(good), "--report", str(report_json)]) == 0
    assert json.loads(report_json.read_text())["accepted"] == 3
    assert main(["import", "registrations", str(good)]) == 0
    assert "already imported" in capsys.readouterr().out
    assert main(["import", "registrations", str(bad), "--report", str(report_csv)]) == 1
    assert "BAD_NIK" in capsys.readouterr().out
    assert report_csv.read_text().splitlines()[1].startswith("2,NIK,BAD_NIK,")
    before = events(runtime)
    assert main(["import", "registrations", str(broken)]) == 2
    assert "hubungan" in capsys.readouterr().err
    assert main(["import", "registrations", str(tmp_path / "missing.csv")]) == 2
    assert main(["import", "registrations", str(good), "--report", str(tmp_path / "r.txt")]) == 2
    assert events(runtime) == before
    reset_settings_cache()

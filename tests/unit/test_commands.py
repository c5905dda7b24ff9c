"""Commands: an HTTP body decodes straight into its command, and an import row builds the same command."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import msgspec
import pytest

from salur_cases.domain.commands import (
    DecideVerval,
    RecordPayment,
    RecordPayments,
    RemoveHousehold,
    TransferHousehold,
)
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import PaymentStatus, VervalDecision
from salur_cases.intake.kinds.cleansing import Cleansing
from salur_cases.intake.kinds.payments import Payments
from salur_cases.intake.kinds.verval import Verval
from salur_cases.intake.readers import read_table
from salur_cases.intake.rows import Sheet

NO_KK = "3271031503200001"


def planned(kind: str, planner: Any, csv: str) -> list[Any]:
    """The items the import's first step would write, planned from a CSV file."""
    problems, steps = planner.plan(Sheet.of(kind, read_table(f"{kind}.csv", csv.encode())), "imp-1", 100)
    assert problems == []
    run = steps[0].run
    assert isinstance(run, partial)
    return list(next(iter(run.keywords.values())))


def test_a_transfer_body_decodes_into_the_transfer_command() -> None:
    body = (
        b'{"from_program":"WALIKOTA","from_tahap":2,"to_program":"BST","authority":"DINSOS","reason":"kuota"}'
    )
    command = msgspec.json.decode(body, type=TransferHousehold)
    assert command == TransferHousehold("WALIKOTA", 2, "BST", "DINSOS", "kuota")


def test_a_command_refuses_a_field_it_does_not_have_and_a_blank_reason() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(
            b'{"program":"W","tahap":1,"authority":"A","reason":"r","decree_ref":"","x":1}',
            type=RemoveHousehold,
        )
    with pytest.raises(msgspec.ValidationError, match="reason"):
        msgspec.json.decode(
            b'{"program":"W","tahap":1,"authority":"A","reason":" ","decree_ref":""}', type=RemoveHousehold
        )


def test_a_cleansing_row_builds_the_removal_the_api_decodes() -> None:
    body = (
        b'{"program":"BST","tahap":6,"authority":"KEMENSOS","reason":"pindah","decree_ref":"KEP-1",'
        b'"effective_on":"2020-06-01"}'
    )
    [item] = planned(
        "cleansing",
        Cleansing(),
        f"no_kk,program,tahap,authority,reason,decree_ref,effective_on\n{NO_KK},BST,6,KEMENSOS,pindah,KEP-1,2020-06-01\n",
    )
    assert (item.no_kk, item.removal) == (NO_KK, msgspec.json.decode(body, type=RemoveHousehold))


def test_a_verval_row_builds_the_decision_the_api_decodes() -> None:
    body = b'{"decision":"ELIGIBLE","reason":"terdampak","officer":"petugas-1","decided_on":"2020-04-24"}'
    [item] = planned(
        "verval",
        Verval(),
        f"no_kk,keputusan,alasan,petugas,tanggal\n{NO_KK},LAYAK,terdampak,petugas-1,2020-04-24\n",
    )
    assert item.decision == msgspec.json.decode(body, type=DecideVerval)
    assert item.decision == DecideVerval(VervalDecision.ELIGIBLE, "terdampak", "petugas-1", date(2020, 4, 24))


def test_a_payer_row_builds_the_payment_the_api_decodes_and_parses() -> None:
    item = f'"no_kk":"{NO_KK}","amount_idr":600000,"paid_at":"2020-05-02T10:00","status":"PAID"'
    body = f'{{"items":[{{{item},"reference":"POS-1"}}]}}'
    [from_api] = msgspec.json.decode(body, type=RecordPayments).parsed()
    [payment] = planned(
        "payments",
        Payments(),
        "no_kk,program,tahap,jumlah,tanggal,status,referensi\n"
        f"{NO_KK},BST,1,600000,2020-05-02 10:00,PAID,POS-1\n",
    )
    assert payment.item == from_api
    assert from_api == RecordPayment(NO_KK, 600000, "2020-05-02T10:00:00+07:00", PaymentStatus.PAID, "POS-1")


def test_a_payment_with_a_bad_time_is_refused_naming_its_item() -> None:
    payments = RecordPayments([RecordPayment(NO_KK, 1, "2020-05-02T10:00", PaymentStatus.PAID, "a")] * 2)
    payments.items[1] = RecordPayment(NO_KK, 1, "kemarin", PaymentStatus.PAID, "b")
    with pytest.raises(InvalidCommand) as caught:
        payments.parsed()
    assert caught.value.field == "items[1].paid_at"

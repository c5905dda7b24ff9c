"""Bad input: every identifier rule through the commands, errors that name the field and never echo the
value, and a store left exactly as it was by every refused command."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from salur_cases.domain.commands import (
    CorrectHousehold,
    DecideVerval,
    DefineProgram,
    FileComplaint,
    MoveMember,
    OpenTahap,
    ProposeHousehold,
    RecordPayment,
    RemoveHousehold,
    TransferHousehold,
)
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.domain.parsing import parse_time
from salur_cases.domain.vocabulary import BudgetSource, PaymentStatus, ProgramGroup, VervalDecision
from salur_cases.processes import (
    allocation,
    complaints,
    disbursement,
    programs,
    registration,
    verval,
    withdrawal,
)
from tests.builders import (
    DINSOS,
    KELURAHAN,
    define_program,
    make_nik,
    make_no_kk,
    nik_of,
    no_kk_of,
    open_tahap,
    proposal,
    proposal_data,
    register_eligible,
    runtime_for,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from salur_cases.application import SalurApplication
    from tests.conftest import StoreTarget

GOOD_NIK = make_nik(1)
GOOD_NO_KK = make_no_kk(1)

BAD_NIKS = {
    "fifteen digits": GOOD_NIK[:-1],
    "seventeen digits": GOOD_NIK + "1",
    "a letter": GOOD_NIK[:-1] + "O",
    "non-ASCII digits": "٣٢٧١" + GOOD_NIK[4:],
    "empty": "",
    "blank": "   ",
    "unknown province 99": "99" + GOOD_NIK[2:],
    "unknown province 20": "20" + GOOD_NIK[2:],
    "serial 0000": GOOD_NIK[:12] + "0000",
    "birth day 00": GOOD_NIK[:6] + "00" + GOOD_NIK[8:],
    "birth day 32": GOOD_NIK[:6] + "32" + GOOD_NIK[8:],
    "birth day 40": GOOD_NIK[:6] + "40" + GOOD_NIK[8:],
    "a woman's birth day 72": GOOD_NIK[:6] + "72" + GOOD_NIK[8:],
    "30 February": GOOD_NIK[:6] + "3002" + GOOD_NIK[10:],
    "31 April for a woman": GOOD_NIK[:6] + "7104" + GOOD_NIK[10:],
    "month 00": GOOD_NIK[:8] + "00" + GOOD_NIK[10:],
    "month 13": GOOD_NIK[:8] + "13" + GOOD_NIK[10:],
}

BAD_NO_KKS = {
    "fifteen digits": GOOD_NO_KK[:-1],
    "a dash": GOOD_NO_KK[:8] + "-" + GOOD_NO_KK[9:],
    "empty": "",
    "unknown province": "10" + GOOD_NO_KK[2:],
    "serial 0000": GOOD_NO_KK[:12] + "0000",
    "issue day 00": GOOD_NO_KK[:6] + "00" + GOOD_NO_KK[8:],
    "issue day plus 40": GOOD_NO_KK[:6] + "41" + GOOD_NO_KK[8:],
    "issue month 13": GOOD_NO_KK[:8] + "13" + GOOD_NO_KK[10:],
    "31 June": GOOD_NO_KK[:6] + "3106" + GOOD_NO_KK[10:],
}


def invalid(field: str, action: Callable[[], object], *secrets: str) -> InvalidCommand:
    """``action()`` is refused as invalid input naming ``field``, and the message repeats no secret."""
    with pytest.raises(InvalidCommand) as caught:
        action()
    assert caught.value.field == field
    for secret in secrets:
        if secret.strip():
            assert secret.strip() not in str(caught.value)
            assert secret.strip() not in caught.value.message
    return caught.value


def with_member(n: int, index: int, **changes: Any) -> dict[str, Any]:
    """Household ``n``'s proposal with three members, member ``index`` changed."""
    data = proposal_data(n, members=3)
    data["members"][index].update(changes)
    return data


# --- identifiers through the commands (no store needed) -----------------------------------------


def test_the_good_identifiers_of_the_builders_are_accepted() -> None:
    assert ProposeHousehold.from_data(proposal_data(1)).no_kk == no_kk_of(1)
    assert ProposeHousehold.from_data(with_member(1, 1, nik=GOOD_NIK)).members[1].nik == GOOD_NIK
    assert (
        ProposeHousehold.from_data(with_member(1, 1, nik=f" {GOOD_NIK[:8]} {GOOD_NIK[8:]} ")).members[1].nik
        == GOOD_NIK
    )
    woman = make_nik(7, born=date(1992, 2, 29), female=True)
    assert ProposeHousehold.from_data(with_member(1, 2, nik=woman)).members[2].nik == woman


@pytest.mark.parametrize("nik", BAD_NIKS.values(), ids=BAD_NIKS.keys())
def test_a_bad_member_nik_is_refused_naming_the_member(nik: str) -> None:
    invalid(
        "members[1].nik", lambda: ProposeHousehold.from_data(with_member(1, 1, nik=nik)), nik, name_in(1, 1)
    )


@pytest.mark.parametrize("no_kk", BAD_NO_KKS.values(), ids=BAD_NO_KKS.keys())
def test_a_bad_no_kk_is_refused_naming_the_field(no_kk: str) -> None:
    data = proposal_data(1)
    data["no_kk"] = no_kk
    invalid("no_kk", lambda: ProposeHousehold.from_data(data), no_kk)


def name_in(n: int, member: int) -> str:
    return str(proposal_data(n, members=3)["members"][member]["name"])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (with_member(1, 2, name="  "), "members[2].name"),
        (with_member(1, 1, relationship=""), "members[1].relationship"),
        (with_member(1, 1, birth_date="1980-02-30"), "members[1].birth_date"),
        (with_member(1, 2, nik=nik_of(1, 0)), "members[2].nik"),
        ({**proposal_data(1), "source": {"kind": "LURAH"}}, "source.kind"),
        (
            {**proposal_data(1), "address": {"kecamatan": "Bogor Selatan", "kelurahan": "Menteng"}},
            "address.kelurahan",
        ),
        (
            {**proposal_data(1), "address": {"kecamatan": "Cibinong", "kelurahan": "Pakansari"}},
            "address.kecamatan",
        ),
        ({**proposal_data(1), "address": None}, "address"),
        ({**proposal_data(1), "members": []}, "members"),
    ],
    ids=[
        "blank name",
        "no relationship",
        "impossible birth date",
        "a NIK twice",
        "unknown source",
        "kelurahan of another kecamatan",
        "kecamatan outside the city",
        "no address",
        "no members",
    ],
)
def test_a_malformed_proposal_is_refused_naming_the_field(data: dict[str, Any], field: str) -> None:
    secrets = [m["nik"] for m in data.get("members") or []] + [m["name"] for m in data.get("members") or []]
    invalid(field, lambda: ProposeHousehold.from_data(data), *secrets)


def test_an_outside_authoritys_proposal_needs_neither_address_nor_members() -> None:
    parsed = ProposeHousehold.from_data({"no_kk": no_kk_of(1), "source": {"kind": "KEMENSOS"}})
    assert (parsed.address, parsed.members) == (None, [])


# --- refused commands leave the store unchanged ---------------------------------------------------


@pytest.fixture
def app(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[SalurApplication]:
    """Bantuan Walikota tahap 1 open, household 1 registered ELIGIBLE and assigned, household 2 registered."""
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    application = runtime.app
    define_program(application, "WALIKOTA")
    open_tahap(application, "WALIKOTA", 1)
    register_eligible(application, [1])
    allocation.assign(application, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    registration.register(application, proposal(2), KELURAHAN)
    yield application
    runtime.close()


def store_size(app: SalurApplication) -> tuple[int | None, int]:
    """The last position and the number of stored events."""
    return app.recorder.max_notification_id(), len(app.recorder.select_notifications(1, 1_000_000))


BAD_KK = BAD_NO_KKS["serial 0000"]


def bad_commands(app: SalurApplication) -> dict[str, tuple[str, Callable[[], object]]]:
    """Commands with one bad field each: (the field named, the command)."""
    return {
        "household by a bad No. KK": ("no_kk", lambda: app.household(BAD_KK)),
        "assign a bad No. KK": ("no_kk", lambda: allocation.assign(app, "WALIKOTA", 1, BAD_KK, DINSOS)),
        "verval of a bad No. KK": (
            "no_kk",
            lambda: verval.decide_verval(
                app, BAD_KK, DecideVerval(VervalDecision.ELIGIBLE, "ok", "petugas", date(2020, 5, 3)), DINSOS
            ),
        ),
        "verval without officer": (
            "officer",
            lambda: verval.decide_verval(
                app, no_kk_of(2), DecideVerval(VervalDecision.ELIGIBLE, "ok", " ", date(2020, 5, 3)), DINSOS
            ),
        ),
        "program without code": (
            "code",
            lambda: programs.define_program(
                app, DefineProgram(" ", "x", BudgetSource.APBN, ProgramGroup.DTKS), DINSOS
            ),
        ),
        "program without name": (
            "name",
            lambda: programs.define_program(
                app, DefineProgram("PKH", " ", BudgetSource.APBN, ProgramGroup.DTKS), DINSOS
            ),
        ),
        "tahap 0": ("number", lambda: open_tahap(app, "WALIKOTA", 0)),
        "tahap ending before it starts": (
            "ends_on",
            lambda: programs.open_tahap(
                app, "WALIKOTA", OpenTahap(2, date(2020, 6, 30), date(2020, 6, 1), 1, 1, 1, "SK"), DINSOS
            ),
        ),
        "negative quota": ("quota", lambda: open_tahap(app, "WALIKOTA", 2, quota=-1)),
        "negative amount": ("amount_idr", lambda: open_tahap(app, "WALIKOTA", 2, amount_idr=-1)),
        "roster without authority": (
            "authority",
            lambda: allocation.allocate_roster(app, "WALIKOTA", 1, " ", [no_kk_of(3)], DINSOS),
        ),
        "roster with a bad No. KK": (
            "no_kk[1]",
            lambda: allocation.allocate_roster(app, "WALIKOTA", 1, "KEMENSOS", [no_kk_of(3), BAD_KK], DINSOS),
        ),
        "removal without reason": (
            "reason",
            lambda: withdrawal.remove(
                app, no_kk_of(1), RemoveHousehold("WALIKOTA", 1, "KEMENSOS", "", "SK"), DINSOS
            ),
        ),
        "transfer without authority": (
            "authority",
            lambda: withdrawal.transfer(
                app, no_kk_of(1), TransferHousehold("WALIKOTA", 1, "WALIKOTA", "", "pindah"), DINSOS
            ),
        ),
        "complaint without text": (
            "text",
            lambda: complaints.file_complaint(app, no_kk_of(1), FileComplaint("WA", " "), KELURAHAN),
        ),
        "correction of an unknown field": (
            "field",
            lambda: registration.correct(
                app, no_kk_of(1), CorrectHousehold("members[0].religion", "x", "KK"), DINSOS
            ),
        ),
        "correction of a member that is not there": (
            "field",
            lambda: registration.correct(
                app, no_kk_of(1), CorrectHousehold("members[5].name", "x", "KK"), DINSOS
            ),
        ),
        "correction to a bad NIK": (
            "new_value",
            lambda: registration.correct(
                app, no_kk_of(1), CorrectHousehold("members[0].nik", BAD_NIKS["serial 0000"], "KK"), DINSOS
            ),
        ),
        "correction to a kelurahan outside the city": (
            "new_value.kelurahan",
            lambda: registration.correct(
                app, no_kk_of(1), CorrectHousehold("address.kelurahan", "Pakansari", "KK"), DINSOS
            ),
        ),
        "correction without evidence": (
            "evidence",
            lambda: registration.correct(app, no_kk_of(1), CorrectHousehold("address.rt", "1", " "), DINSOS),
        ),
        "member moved into its own household": (
            "to_no_kk",
            lambda: registration.move_member(
                app, no_kk_of(1), MoveMember(nik_of(1), no_kk_of(1), "pindah", "KK"), DINSOS
            ),
        ),
    }


def test_every_invalid_command_names_its_field_and_writes_nothing(app: SalurApplication) -> None:
    before = store_size(app)
    for what, (field, command) in bad_commands(app).items():
        with pytest.raises(InvalidCommand) as caught:
            command()
        assert caught.value.field == field, what
        for secret in (BAD_KK, nik_of(1), BAD_NIKS["serial 0000"]):
            assert secret not in str(caught.value), what
        assert store_size(app) == before, what


def test_a_bad_line_of_a_payers_report_is_rejected_and_writes_nothing(app: SalurApplication) -> None:
    before = store_size(app)
    paid_at = parse_time("2020-05-20T10:00", "paid_at")
    items = [
        RecordPayment(no_kk_of(1), -500_000, paid_at.isoformat(), PaymentStatus.PAID, "POS-1"),
        RecordPayment(BAD_KK, 500_000, paid_at.isoformat(), PaymentStatus.PAID, "POS-2"),
        RecordPayment(no_kk_of(3), 500_000, paid_at.isoformat(), PaymentStatus.PAID, "POS-3"),
    ]

    for as_fact in (False, True):
        outcome = disbursement.record_payments(app, "WALIKOTA", 1, items, DINSOS, as_fact=as_fact)
        assert [(r.index, r.code) for r in outcome.rejected] == [
            (0, "BAD_AMOUNT"),
            (1, "UNKNOWN_HOUSEHOLD"),
            (2, "UNKNOWN_HOUSEHOLD"),
        ]
        assert outcome.accepted == 0
        assert store_size(app) == before


def test_a_roster_with_a_bad_no_kk_creates_no_household(app: SalurApplication) -> None:
    with pytest.raises(InvalidCommand):
        allocation.allocate_roster(app, "WALIKOTA", 1, "KEMENSOS", ["12345", no_kk_of(3)], DINSOS)
    with pytest.raises(Refusal):
        app.household(no_kk_of(3))

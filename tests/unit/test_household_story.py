"""Kota Bogor's 2020 rules, told as stories about households (the application on a SQLite file).

Every refusal is checked to write no event at all (the store's last position is unchanged).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from salur_cases.application import SalurApplication
from salur_cases.domain.clock import recording_at
from salur_cases.domain.commands import (
    CorrectHousehold,
    DecideVerval,
    FileComplaint,
    MoveMember,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
    ResolveComplaint,
    TransferHousehold,
)
from salur_cases.domain.errors import InvalidCommand, RefusalCode
from salur_cases.domain.padan import PopulationRecord
from salur_cases.domain.vocabulary import BudgetSource, PadanResult, PaymentStatus, VervalDecision
from salur_cases.processes import (
    allocation,
    complaints,
    disbursement,
    padan,
    programs,
    registration,
    unit_of_work,
    verval,
    withdrawal,
)
from salur_cases.projections.schemas import SourceRead
from salur_cases.projections.views import household_view
from salur_cases.settings import load_settings
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
    refused,
    register_eligible,
    stored_events,
    stored_topics,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping
    from pathlib import Path

KEMENSOS = "KEMENSOS"


class Extract:
    """A Disdukcapil extract held in memory."""

    def __init__(self, records: list[PopulationRecord]) -> None:
        self.by_nik = {r.nik: r for r in records}

    def loaded(self) -> bool:
        return bool(self.by_nik)

    def records(self, niks: Collection[str]) -> Mapping[str, PopulationRecord]:
        return {n: self.by_nik[n] for n in niks if n in self.by_nik}


@pytest.fixture
def extract() -> Extract:
    """The population extract; empty until a test loads records."""
    return Extract([])


@pytest.fixture
def app(tmp_path: Path, env_keys: dict[str, str], extract: Extract) -> Iterator[SalurApplication]:
    """The ledger on a fresh SQLite file, with Bantuan Walikota (APBD Kota) tahap 1 = May 2020 open."""
    settings = load_settings({"SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'salur.db'}", **env_keys})
    application = SalurApplication(settings, population=extract)
    define_program(application, "WALIKOTA")
    open_tahap(application, "WALIKOTA", 1, month=5, quota=10)
    yield application
    application.close()


def seats(app: SalurApplication, n: int) -> list[tuple[str, int, str]]:
    """Household ``n``'s programs as (program, tahap, state)."""
    view = household_view(app.household(no_kk_of(n)))
    return [(p.program, p.tahap, p.state) for p in view.programs]


def left_out(app: SalurApplication, n: int) -> list[tuple[str, int, str]]:
    """The LeftOut decisions recorded on household ``n``: (program, tahap, code)."""
    hid = app.household_id(no_kk_of(n))
    return [
        (e.program, e.tahap, e.code)
        for e in stored_events(app, "salur:household.LeftOut")
        if e.originator_id == hid
    ]


# --- proposals and people ---------------------------------------------------------------------


def test_a_household_proposed_by_its_kelurahan_and_by_dinas_pertanian_is_one_household_with_two_proposals(
    app: SalurApplication,
) -> None:
    first = registration.register(app, proposal(1, source="KELURAHAN"), KELURAHAN)
    second = registration.register(app, proposal(1, source="DINAS:Pertanian"), DINSOS)

    assert first.created
    assert not second.created
    household = app.household(no_kk_of(1))
    assert household_view(household).sources == [
        SourceRead("KELURAHAN", ""),
        SourceRead("DINAS", "Pertanian"),
    ]
    assert len(stored_events(app, "salur:household.Proposed")) == 1
    assert len(stored_events(app, "salur:household.Reproposed")) == 1
    assert app.household_by_nik(nik_of(1, 1)) is not None


def test_a_nik_belongs_to_one_household_at_a_time(app: SalurApplication) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    registration.register(app, proposal(2), KELURAHAN)
    wife_of_1 = nik_of(1, 1)
    data_with_wife = proposal(2)
    moved_wife = app.household(no_kk_of(1)).member(wife_of_1)
    with_wife = type(data_with_wife)(
        data_with_wife.no_kk,
        data_with_wife.source,
        data_with_wife.address,
        [*data_with_wife.members, moved_wife],
    )

    refusal = refused(
        app, RefusalCode.NIK_IN_OTHER_HOUSEHOLD, lambda: registration.register(app, with_wife, KELURAHAN)
    )
    assert wife_of_1 not in refusal.message

    registration.move_member(
        app, no_kk_of(1), MoveMember(wife_of_1, no_kk_of(2), "menikah lagi", "KK baru"), DINSOS
    )
    moved_to = app.household_by_nik(wife_of_1)
    assert moved_to is not None
    assert moved_to.no_kk == no_kk_of(2)
    assert wife_of_1 not in app.household(no_kk_of(1)).niks

    assert not registration.register(app, with_wife, KELURAHAN).created
    refused(
        app, RefusalCode.NIK_IN_OTHER_HOUSEHOLD, lambda: registration.register(app, proposal(1), KELURAHAN)
    )


def test_a_nik_claimed_twice_in_one_batch_goes_to_the_first_household_only(app: SalurApplication) -> None:
    first, second = proposal(1), proposal(2)
    clash = type(second)(second.no_kk, second.source, second.address, [*second.members, first.members[0]])

    outcome = registration.register_many(app, [first, clash], KELURAHAN)

    assert outcome.accepted == 1
    assert [(r.index, r.code, r.field) for r in outcome.rejected] == [
        (1, RefusalCode.NIK_IN_OTHER_HOUSEHOLD, "members[2].nik")
    ]
    refused(app, RefusalCode.UNKNOWN_HOUSEHOLD, lambda: app.household(no_kk_of(2)))


def test_a_corrected_nik_moves_its_claim_to_the_new_number(app: SalurApplication) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    registration.register(app, proposal(2), KELURAHAN)
    refused(
        app,
        RefusalCode.NIK_IN_OTHER_HOUSEHOLD,
        lambda: registration.correct(
            app, no_kk_of(1), CorrectHousehold("members[0].nik", nik_of(2), "salah ketik"), DINSOS
        ),
    )

    registration.correct(
        app, no_kk_of(1), CorrectHousehold("members[0].nik", nik_of(40), "salah ketik"), DINSOS
    )

    assert app.household_by_nik(nik_of(1)) is None
    corrected = app.household_by_nik(nik_of(40))
    assert corrected is not None
    assert corrected.no_kk == no_kk_of(1)
    newcomer = proposal(3)
    with_freed_nik = type(newcomer)(
        newcomer.no_kk, newcomer.source, newcomer.address, proposal(1).members[:1]
    )
    assert registration.register(app, with_freed_nik, KELURAHAN).created


# --- padan and verval ---------------------------------------------------------------------------


def test_a_household_whose_head_has_no_ektp_cannot_be_assigned_by_the_city(
    app: SalurApplication, extract: Extract
) -> None:
    members = proposal(1).members
    extract.by_nik.update(
        (m.nik, PopulationRecord(m.nik, no_kk_of(1), m.name, None, "HIDUP", ektp=i != 0, in_city=True))
        for i, m in enumerate(members)
    )
    registration.register(app, proposal(1), KELURAHAN)
    verval.decide_verval(
        app, no_kk_of(1), DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)), DINSOS
    )

    assert app.household(no_kk_of(1)).padan is PadanResult.NOT_EKTP
    refused(app, RefusalCode.NOT_MATCHED, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS))


def test_a_household_matched_by_the_extract_and_found_eligible_is_assigned(
    app: SalurApplication, extract: Extract
) -> None:
    extract.by_nik.update(
        (m.nik, PopulationRecord(m.nik, no_kk_of(1), m.name.upper(), None, "HIDUP", ektp=True, in_city=True))
        for m in proposal(1).members
    )
    registration.register(app, proposal(1), KELURAHAN)
    verval.decide_verval(
        app, no_kk_of(1), DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)), DINSOS
    )

    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)

    assert seats(app, 1) == [("WALIKOTA", 1, "ASSIGNED")]


def test_the_city_assigns_only_matched_households_whose_latest_verval_is_eligible(
    app: SalurApplication,
) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    refused(app, RefusalCode.NOT_MATCHED, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS))
    padan.record_padan(
        app, no_kk_of(1), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
    )
    refused(app, RefusalCode.NOT_ELIGIBLE, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS))
    verval.decide_verval(
        app, no_kk_of(1), DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)), DINSOS
    )
    verval.decide_verval(
        app,
        no_kk_of(1),
        DecideVerval(VervalDecision.INELIGIBLE, "punya mobil", "petugas", date(2020, 5, 4)),
        DINSOS,
    )
    refused(app, RefusalCode.NOT_ELIGIBLE, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS))
    verval.decide_verval(
        app,
        no_kk_of(1),
        DecideVerval(VervalDecision.ELIGIBLE, "mobil dijual", "petugas", date(2020, 5, 5)),
        DINSOS,
    )

    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)

    assert seats(app, 1) == [("WALIKOTA", 1, "ASSIGNED")]


def test_a_household_only_an_outside_authority_proposed_is_not_the_citys_to_assign(
    app: SalurApplication,
) -> None:
    register_eligible(app, [1], source="KEMENSOS")
    refused(app, RefusalCode.NOT_ELIGIBLE, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS))


# --- one household, one program per period ------------------------------------------------------


def test_a_household_paid_by_bantuan_gubernur_for_may_cannot_be_assigned_bantuan_walikota_for_may(
    app: SalurApplication,
) -> None:
    define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
    open_tahap(app, "GUBERNUR", 1, month=5)
    open_tahap(app, "WALIKOTA", 2, month=6)
    register_eligible(app, [1, 2])
    allocation.assign(app, "GUBERNUR", 1, no_kk_of(1), DINSOS)
    assert not disbursement.record_payments(app, "GUBERNUR", 1, [payment(1)], DINSOS).rejected

    refusal = refused(
        app, RefusalCode.ALREADY_RECEIVING, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    )
    assert "GUBERNUR" in refusal.message

    outcome = allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    assert (outcome.assigned, outcome.left_out) == (1, 1)
    assert left_out(app, 1) == [("WALIKOTA", 1, "ALREADY_RECEIVING")]
    assert stored_events(app, "salur:household.LeftOut")[0].other_program == "GUBERNUR"

    allocation.assign(app, "WALIKOTA", 2, no_kk_of(1), DINSOS)
    assert seats(app, 1) == [("GUBERNUR", 1, "PAID"), ("WALIKOTA", 2, "ASSIGNED")]


def test_a_household_holds_one_seat_per_tahap(app: SalurApplication) -> None:
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    refused(
        app, RefusalCode.ALREADY_RECEIVING, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    )
    assert app.program("WALIKOTA").tahap[1].assigned == 1


# --- quota and ceiling ------------------------------------------------------------------------


def test_a_tahap_never_holds_more_households_than_its_quota(app: SalurApplication) -> None:
    open_tahap(app, "WALIKOTA", 2, month=6, quota=2)
    register_eligible(app, [1, 2, 3])
    allocation.assign(app, "WALIKOTA", 2, no_kk_of(1), DINSOS)
    allocation.assign(app, "WALIKOTA", 2, no_kk_of(2), DINSOS)

    refused(app, RefusalCode.QUOTA_FULL, lambda: allocation.assign(app, "WALIKOTA", 2, no_kk_of(3), DINSOS))

    assert app.program("WALIKOTA").tahap[2].assigned == 2
    assert seats(app, 3) == []


def test_a_tahap_never_commits_more_than_its_budget_ceiling(app: SalurApplication) -> None:
    open_tahap(app, "WALIKOTA", 2, month=6, quota=5, amount_idr=500_000, ceiling_idr=1_200_000)
    register_eligible(app, [1, 2, 3])
    allocation.assign(app, "WALIKOTA", 2, no_kk_of(1), DINSOS)
    allocation.assign(app, "WALIKOTA", 2, no_kk_of(2), DINSOS)

    refused(
        app, RefusalCode.CEILING_REACHED, lambda: allocation.assign(app, "WALIKOTA", 2, no_kk_of(3), DINSOS)
    )

    assert app.program("WALIKOTA").tahap[2].committed_idr == 1_000_000
    outcome = allocation.allocate(app, "WALIKOTA", 2, DINSOS)  # no seat left: it says why, once
    assert (outcome.assigned, outcome.left_out) == (0, 1)
    assert left_out(app, 3) == [("WALIKOTA", 2, "QUOTA_EXHAUSTED")]
    again = allocation.allocate(app, "WALIKOTA", 2, DINSOS)
    assert (again.assigned, again.left_out, again.position) == (0, 0, None)
    assert left_out(app, 3) == [("WALIKOTA", 2, "QUOTA_EXHAUSTED")]


# --- the city's allocation ------------------------------------------------------------------


def test_the_city_ranks_paid_last_tahap_first_then_verval_date_then_registration_time(
    app: SalurApplication,
) -> None:
    open_tahap(app, "WALIKOTA", 2, month=6, quota=2)
    may = datetime(2020, 5, 1, 9, tzinfo=UTC)
    for n, verval_on in (
        (1, date(2020, 5, 20)),
        (2, date(2020, 5, 4)),
        (3, date(2020, 5, 4)),
        (4, date(2020, 5, 6)),
    ):
        with recording_at(may + timedelta(hours=n)):
            register_eligible(app, [n], verval_on=verval_on)
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS)

    outcome = allocation.allocate(app, "WALIKOTA", 2, DINSOS)

    assert (outcome.assigned, outcome.left_out, outcome.cutoff) == (2, 2, 2)
    assigned = {
        e.originator_id: e.rank for e in stored_events(app, "salur:household.Assigned") if e.tahap == 2
    }
    assert assigned == {app.household_id(no_kk_of(1)): 1, app.household_id(no_kk_of(2)): 2}
    quota_exhausted = [
        (e.originator_id, e.code, e.rank, e.cutoff) for e in stored_events(app, "salur:household.LeftOut")
    ]
    assert quota_exhausted == [
        (app.household_id(no_kk_of(3)), "QUOTA_EXHAUSTED", 3, 2),
        (app.household_id(no_kk_of(4)), "QUOTA_EXHAUSTED", 4, 2),
    ]
    assert app.program("WALIKOTA").tahap[2].assigned == 2


def test_ranks_and_cutoff_run_on_across_the_transactions_of_a_large_allocation(
    app: SalurApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_of_work, "CHUNK", 3)
    open_tahap(app, "WALIKOTA", 2, month=6, quota=4)
    register_eligible(app, range(1, 9))

    outcome = allocation.allocate(app, "WALIKOTA", 2, DINSOS)

    assert (outcome.assigned, outcome.left_out, outcome.cutoff) == (4, 4, 4)
    assert [e.rank for e in stored_events(app, "salur:household.Assigned")] == [1, 2, 3, 4]
    assert [(e.rank, e.cutoff) for e in stored_events(app, "salur:household.LeftOut")] == [
        (5, 4),
        (6, 4),
        (7, 4),
        (8, 4),
    ]


def test_an_allocation_records_why_each_considered_household_was_left_out(app: SalurApplication) -> None:
    register_eligible(app, [1])
    registration.register(app, proposal(2), KELURAHAN)
    registration.register(app, proposal(3), KELURAHAN)
    padan.record_padan(
        app, no_kk_of(3), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
    )
    register_eligible(app, [4])
    withdrawal.remove(
        app, no_kk_of(4), RemoveHousehold("WALIKOTA", 1, "DINSOS", "pindah domisili", "SK 1"), DINSOS
    )

    outcome = allocation.allocate(app, "WALIKOTA", 1, DINSOS)

    assert (outcome.assigned, outcome.left_out) == (1, 3)
    assert left_out(app, 2) == [("WALIKOTA", 1, "NOT_MATCHED")]
    assert left_out(app, 3) == [("WALIKOTA", 1, "NOT_ELIGIBLE")]
    assert left_out(app, 4) == [("WALIKOTA", 1, "REMOVED")]


def test_a_second_allocation_of_a_tahap_fills_only_what_is_left(app: SalurApplication) -> None:
    open_tahap(app, "WALIKOTA", 2, month=6, quota=3)
    register_eligible(app, [1, 2])
    assert allocation.allocate(app, "WALIKOTA", 2, DINSOS).assigned == 2
    register_eligible(app, [3, 4])

    outcome = allocation.allocate(app, "WALIKOTA", 2, DINSOS)

    assert (outcome.assigned, outcome.left_out, outcome.cutoff) == (1, 1, 3)
    assert app.program("WALIKOTA").tahap[2].assigned == 3
    assert [e.rank for e in stored_events(app, "salur:household.LeftOut")] == [4]


# --- payments ---------------------------------------------------------------------------------


def test_no_payment_without_an_assignment(app: SalurApplication) -> None:
    register_eligible(app, [1])
    before = app.recorder.max_notification_id()

    outcome = disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS)

    assert [(r.index, r.code) for r in outcome.rejected] == [(0, RefusalCode.NOT_ASSIGNED)]
    assert outcome.accepted == 0
    assert app.recorder.max_notification_id() == before


def test_no_payment_above_the_tahaps_amount(app: SalurApplication) -> None:
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    before = app.recorder.max_notification_id()

    outcome = disbursement.record_payments(app, "WALIKOTA", 1, [payment(1, amount_idr=500_001)], DINSOS)

    assert [r.code for r in outcome.rejected] == [RefusalCode.AMOUNT_ABOVE_TAHAP]
    assert app.recorder.max_notification_id() == before


def test_a_household_is_paid_at_most_once_per_tahap(app: SalurApplication) -> None:
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    assert disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS).accepted == 1
    before = app.recorder.max_notification_id()

    outcome = disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS)

    assert [r.code for r in outcome.rejected] == [RefusalCode.ALREADY_PAID]
    assert app.recorder.max_notification_id() == before


def test_a_failed_payment_may_be_tried_again(app: SalurApplication) -> None:
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    failed = payment(1, status=PaymentStatus.FAILED)

    outcome = disbursement.record_payments(app, "WALIKOTA", 1, [failed, failed, payment(1)], DINSOS)

    assert (outcome.accepted, outcome.rejected) == (3, [])
    assert seats(app, 1) == [("WALIKOTA", 1, "PAID")]


def test_a_returned_payment_allows_another_paid_one(app: SalurApplication) -> None:
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    returned = payment(1, status=PaymentStatus.RETURNED)
    refused_return = disbursement.record_payments(app, "WALIKOTA", 1, [returned], DINSOS)
    assert [r.code for r in refused_return.rejected] == [RefusalCode.NOT_PAID]

    outcome = disbursement.record_payments(app, "WALIKOTA", 1, [payment(1), returned, payment(1)], DINSOS)

    assert (outcome.accepted, outcome.rejected) == (3, [])
    assert app.household(no_kk_of(1)).paid_in("WALIKOTA", 1)
    assert [
        r.code for r in disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS).rejected
    ] == [RefusalCode.ALREADY_PAID]


def test_a_payers_report_is_a_fact_recorded_with_warnings(app: SalurApplication) -> None:
    register_eligible(app, [1])

    outcome = disbursement.record_payments(
        app, "WALIKOTA", 1, [payment(1, amount_idr=600_000)], DINSOS, as_fact=True
    )

    assert outcome.accepted == 1
    assert [w.code for w in outcome.warnings] == ["NOT_ASSIGNED"]
    [recorded] = stored_events(app, "salur:household.PaymentRecorded")
    assert recorded.warnings == ["NOT_ASSIGNED"]


# --- outside authorities' rosters -------------------------------------------------------------


def test_an_outside_roster_is_recorded_even_where_it_breaks_a_city_rule(app: SalurApplication) -> None:
    define_program(app, "BST", BudgetSource.APBN)
    open_tahap(app, "BST", 1, month=5, quota=1)
    registration.register(app, proposal(1), KELURAHAN)
    register_eligible(app, [2])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(2), DINSOS)

    outcome = allocation.allocate_roster(app, "BST", 1, KEMENSOS, [no_kk_of(1), no_kk_of(2)], DINSOS)

    assert outcome.assigned == 2
    assert [(w.index, w.code) for w in outcome.warnings] == [
        (0, "NOT_MATCHED"),
        (1, "ALREADY_RECEIVING"),
        (0, "QUOTA_FULL"),
    ]
    assert seats(app, 1) == [("BST", 1, "ASSIGNED")]
    assert app.program("BST").tahap[1].assigned == 2
    assigned = [e for e in stored_events(app, "salur:household.Assigned") if e.program == "BST"]
    assert [(e.authority, e.warnings) for e in assigned] == [
        (KEMENSOS, ["NOT_MATCHED"]),
        (KEMENSOS, ["ALREADY_RECEIVING"]),
    ]


def test_an_unknown_no_kk_on_a_roster_creates_a_household_whose_source_is_the_authority(
    app: SalurApplication,
) -> None:
    define_program(app, "BST", BudgetSource.APBN)
    open_tahap(app, "BST", 5, month=5)

    outcome = allocation.allocate_roster(app, "BST", 5, KEMENSOS, [no_kk_of(7)], DINSOS)

    assert (outcome.assigned, outcome.created) == (1, 1)
    household = app.household(no_kk_of(7))
    assert household_view(household).sources == [SourceRead("KEMENSOS", "")]
    assert not household.city_proposed
    assert seats(app, 7) == [("BST", 5, "ASSIGNED")]


def test_a_roster_leaves_out_households_paid_in_the_previous_tahap_and_absent_from_it(
    app: SalurApplication,
) -> None:
    define_program(app, "BST", BudgetSource.APBN)
    open_tahap(app, "BST", 5, month=5)
    open_tahap(app, "BST", 6, month=6)
    allocation.allocate_roster(app, "BST", 5, KEMENSOS, [no_kk_of(1), no_kk_of(2), no_kk_of(3)], DINSOS)
    disbursement.record_payments(app, "BST", 5, [payment(1), payment(2)], DINSOS, as_fact=True)

    outcome = allocation.allocate_roster(app, "BST", 6, KEMENSOS, [no_kk_of(1)], DINSOS)

    assert (outcome.assigned, outcome.left_out) == (1, 1)
    assert left_out(app, 2) == [("BST", 6, "NOT_IN_SOURCE_LIST")]
    assert left_out(app, 3) == []
    [dropped] = stored_events(app, "salur:household.LeftOut")
    assert dropped.authority == KEMENSOS


# --- removals, reinstatements, transfers ------------------------------------------------------


@pytest.mark.parametrize(
    ("authority", "reason", "field"), [("", "data ganda", "authority"), ("KEMENSOS", " ", "reason")]
)
def test_a_removal_names_an_authority_and_a_reason(
    app: SalurApplication, authority: str, reason: str, field: str
) -> None:
    register_eligible(app, [1])
    before = app.recorder.max_notification_id()

    with pytest.raises(InvalidCommand) as caught:
        withdrawal.remove(app, no_kk_of(1), RemoveHousehold("WALIKOTA", 1, authority, reason, "SK 9"), DINSOS)

    assert caught.value.field == field
    assert app.recorder.max_notification_id() == before


def test_a_household_removed_from_a_tahap_is_refused_it_and_every_later_one_until_reinstated(
    app: SalurApplication,
) -> None:
    open_tahap(app, "WALIKOTA", 2, month=6)
    register_eligible(app, [1])
    withdrawal.remove(
        app,
        no_kk_of(1),
        RemoveHousehold("WALIKOTA", 1, KEMENSOS, "data ganda", "SK 9", effective_on=date(2020, 5, 1)),
        DINSOS,
    )

    refused(app, RefusalCode.REMOVED, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS))
    refused(app, RefusalCode.REMOVED, lambda: allocation.assign(app, "WALIKOTA", 2, no_kk_of(1), DINSOS))
    [removal] = household_view(app.household(no_kk_of(1))).removals
    assert (removal.authority, removal.reason, removal.effective_on) == (
        KEMENSOS,
        "data ganda",
        date(2020, 5, 1),
    )

    withdrawal.reinstate(
        app, no_kk_of(1), ReinstateHousehold("WALIKOTA", 2, "DINSOS", "aduan diterima"), DINSOS
    )
    allocation.assign(app, "WALIKOTA", 2, no_kk_of(1), DINSOS)
    assert seats(app, 1) == [("WALIKOTA", 2, "ASSIGNED")]


def test_a_reinstatement_that_would_give_a_household_two_programs_in_one_month_is_refused(
    app: SalurApplication,
) -> None:
    define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
    open_tahap(app, "GUBERNUR", 1, month=5)
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    withdrawal.remove(
        app, no_kk_of(1), RemoveHousehold("WALIKOTA", 1, KEMENSOS, "data ganda", "SK 9"), DINSOS
    )
    allocation.assign(app, "GUBERNUR", 1, no_kk_of(1), DINSOS)

    refusal = refused(
        app,
        RefusalCode.ALREADY_RECEIVING,
        lambda: withdrawal.reinstate(
            app, no_kk_of(1), ReinstateHousehold("WALIKOTA", 1, "DINSOS", "aduan diterima"), DINSOS
        ),
    )

    assert "GUBERNUR" in refusal.message
    assert seats(app, 1) == [("GUBERNUR", 1, "ASSIGNED"), ("WALIKOTA", 1, "REMOVED")]


def test_reinstating_a_household_that_was_not_removed_is_refused(app: SalurApplication) -> None:
    register_eligible(app, [1])
    refused(
        app,
        RefusalCode.NOT_REMOVED,
        lambda: withdrawal.reinstate(
            app, no_kk_of(1), ReinstateHousehold("WALIKOTA", 1, "DINSOS", "salah input"), DINSOS
        ),
    )


def test_a_transfer_takes_a_household_out_of_one_program_without_assigning_it_to_the_other(
    app: SalurApplication,
) -> None:
    define_program(app, "BST", BudgetSource.APBN)
    open_tahap(app, "BST", 1, month=6)
    open_tahap(app, "WALIKOTA", 2, month=6)
    register_eligible(app, [1])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)

    withdrawal.transfer(
        app, no_kk_of(1), TransferHousehold("WALIKOTA", 2, "BST", "DINSOS", "kuota kota habis"), DINSOS
    )

    refused(app, RefusalCode.REMOVED, lambda: allocation.assign(app, "WALIKOTA", 2, no_kk_of(1), DINSOS))
    assert seats(app, 1) == [("WALIKOTA", 1, "ASSIGNED")]
    [transfer] = household_view(app.household(no_kk_of(1))).removals
    assert (transfer.kind, transfer.to_program) == ("TRANSFERRED", "BST")


# --- programs and tahap -------------------------------------------------------------------------


def test_a_program_code_and_a_tahap_number_are_taken_once(app: SalurApplication) -> None:
    refused(app, RefusalCode.PROGRAM_EXISTS, lambda: define_program(app, "walikota"))
    refused(app, RefusalCode.TAHAP_EXISTS, lambda: open_tahap(app, "WALIKOTA", 1, month=7))


def test_commands_about_unknown_programs_tahap_and_households_are_refused(app: SalurApplication) -> None:
    register_eligible(app, [1])
    refused(
        app, RefusalCode.UNKNOWN_PROGRAM, lambda: allocation.assign(app, "BANSOS", 1, no_kk_of(1), DINSOS)
    )
    refused(app, RefusalCode.UNKNOWN_PROGRAM, lambda: open_tahap(app, "BANSOS", 1))
    refused(
        app, RefusalCode.UNKNOWN_TAHAP, lambda: allocation.assign(app, "WALIKOTA", 9, no_kk_of(1), DINSOS)
    )
    refused(app, RefusalCode.UNKNOWN_TAHAP, lambda: allocation.allocate(app, "WALIKOTA", 9, DINSOS))
    refused(
        app, RefusalCode.UNKNOWN_HOUSEHOLD, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(2), DINSOS)
    )
    refused(
        app,
        RefusalCode.UNKNOWN_HOUSEHOLD,
        lambda: verval.decide_verval(
            app,
            no_kk_of(2),
            DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)),
            DINSOS,
        ),
    )


def test_a_certified_tahap_takes_no_more_allocations(app: SalurApplication) -> None:
    register_eligible(app, [1, 2])
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    digest, households, head, _ = programs.certify(app, "WALIKOTA", 1, DINSOS)
    assert households == 1
    assert head["position"] > 0

    refused(app, RefusalCode.TAHAP_CERTIFIED, lambda: allocation.allocate(app, "WALIKOTA", 1, DINSOS))
    refused(
        app, RefusalCode.TAHAP_CERTIFIED, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(2), DINSOS)
    )
    refused(
        app,
        RefusalCode.TAHAP_CERTIFIED,
        lambda: allocation.allocate_roster(app, "WALIKOTA", 1, KEMENSOS, [], DINSOS),
    )
    refused(app, RefusalCode.TAHAP_CERTIFIED, lambda: programs.certify(app, "WALIKOTA", 1, DINSOS))
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS)
    [paid] = stored_events(app, "salur:household.PaymentRecorded")
    assert paid.roster_hash == digest


# --- the record itself --------------------------------------------------------------------------


def life_of_a_household(app: SalurApplication) -> None:
    """Every kind of command, once."""
    define_program(app, "BST", BudgetSource.APBN)
    open_tahap(app, "BST", 1, month=6)
    register_eligible(app, [1, 2])
    registration.register(app, proposal(4), KELURAHAN)
    registration.register(app, proposal(1, source="DINAS:Pertanian"), DINSOS)
    registration.register(app, proposal(2, members=3, source="DPRD:Komisi IV"), DINSOS)
    allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS)
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    allocation.allocate_roster(app, "BST", 1, KEMENSOS, [no_kk_of(2), no_kk_of(3)], DINSOS)
    withdrawal.remove(app, no_kk_of(2), RemoveHousehold("BST", 1, KEMENSOS, "cleansing", "SK 5"), DINSOS)
    withdrawal.reinstate(app, no_kk_of(2), ReinstateHousehold("BST", 1, KEMENSOS, "aduan"), DINSOS)
    withdrawal.transfer(
        app, no_kk_of(2), TransferHousehold("BST", 1, "WALIKOTA", "DINSOS", "pindah program"), DINSOS
    )
    complaint, _ = complaints.file_complaint(app, no_kk_of(2), FileComplaint("WA", "belum terima"), KELURAHAN)
    complaints.resolve_complaint(
        app, no_kk_of(2), complaint, ResolveComplaint("DIJAWAB", "sudah dicek"), DINSOS
    )
    registration.correct(app, no_kk_of(2), CorrectHousehold("address.rt", "08", "surat RT"), DINSOS)
    registration.correct(
        app, no_kk_of(4), CorrectHousehold("members[0].nik", nik_of(40), "salah ketik NIK"), DINSOS
    )
    registration.move_member(
        app, no_kk_of(1), MoveMember(nik_of(1, 1), no_kk_of(2), "pindah KK", "KK baru"), DINSOS
    )
    programs.certify(app, "WALIKOTA", 1, DINSOS)


def test_every_event_records_actor_role_and_recorded_time(app: SalurApplication) -> None:
    started = datetime.now(tz=UTC)
    life_of_a_household(app)
    finished = datetime.now(tz=UTC)

    events = stored_events(app)
    assert len(events) > 20
    for e in events:
        assert (e.actor, e.role) in {
            (DINSOS.name, DINSOS.role),
            (KELURAHAN.name, KELURAHAN.role),
            (DUKCAPIL.name, DUKCAPIL.role),
            ("notary", "system"),  # the signed chain head after the certification
        }, type(e)
    household_events = [e for e in events if e.originator_id == app.household_id(no_kk_of(1))]
    assert all(started <= e.timestamp <= finished for e in household_events)


def test_a_story_replayed_at_its_own_dates_records_those_dates(app: SalurApplication) -> None:
    moment = datetime(2020, 4, 28, 9, 30, tzinfo=UTC)
    with recording_at(moment):
        registration.register(app, proposal(1), KELURAHAN)
    [proposed] = stored_events(app, "salur:household.Proposed")
    assert proposed.timestamp == moment
    assert app.household(no_kk_of(1)).registered_at == moment


def test_events_are_stored_under_explicit_stable_topics(app: SalurApplication) -> None:
    life_of_a_household(app)

    assert set(stored_topics(app)) == {
        "salur:notary.HeadSigned",
        "salur:program.Defined",
        "salur:program.TahapOpened",
        "salur:program.SeatsCommitted",
        "salur:program.TahapCertified",
        "salur:household.Proposed",
        "salur:household.Reproposed",
        "salur:household.MembersRecorded",
        "salur:household.PopulationMatched",
        "salur:household.VervalDecided",
        "salur:household.Assigned",
        "salur:household.LeftOut",
        "salur:household.PaymentRecorded",
        "salur:household.Removed",
        "salur:household.Reinstated",
        "salur:household.Transferred",
        "salur:household.ComplaintFiled",
        "salur:household.ComplaintResolved",
        "salur:household.Corrected",
        "salur:household.MemberMovedOut",
        "salur:household.MemberMovedIn",
        "salur:person.Claimed",
        "salur:person.Moved",
        "salur:person.Released",
    }


def test_no_refusal_message_repeats_a_nik_or_a_name(app: SalurApplication) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    clash = proposal(2)
    clash = type(clash)(clash.no_kk, clash.source, clash.address, proposal(1).members)
    refusal = refused(
        app, RefusalCode.NIK_IN_OTHER_HOUSEHOLD, lambda: registration.register(app, clash, KELURAHAN)
    )
    for secret in (nik_of(1, 0), nik_of(1, 1), name_of(1, 0), no_kk_of(1), no_kk_of(2)):
        assert secret not in str(refusal)

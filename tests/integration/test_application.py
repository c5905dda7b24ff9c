"""The application service on SQLite and on PostgreSQL (a fresh schema per test), through `Runtime`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

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
from salur_cases.domain.errors import InvalidCommand, RefusalCode, StaleVersion
from salur_cases.domain.vocabulary import BudgetSource, PadanResult, PaymentStatus, VervalDecision
from salur_cases.processes import (
    allocation,
    complaints,
    disbursement,
    padan,
    programs,
    registration,
    verval,
    withdrawal,
)
from salur_cases.projections.views import household_view
from tests.builders import (
    DINSOS,
    DUKCAPIL,
    KELURAHAN,
    define_program,
    nik_of,
    no_kk_of,
    open_tahap,
    payment,
    proposal,
    refused,
    register_eligible,
    runtime_for,
    stored_events,
    stored_topics,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salur_cases.application import SalurApplication
    from salur_cases.runtime import Runtime
    from tests.conftest import StoreTarget

KEMENSOS = "KEMENSOS"


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """The runtime on this test's store (SQLite file or fresh PostgreSQL schema)."""
    built = runtime_for(store_url.url, store_url.schema, env_keys)
    yield built
    built.close()


@pytest.fixture
def app(runtime: Runtime) -> SalurApplication:
    """The application, with Bantuan Walikota tahap 1 (May) and 2 (June) and BST (APBN) tahap 5 (May) open."""
    application = runtime.app
    define_program(application, "WALIKOTA")
    open_tahap(application, "WALIKOTA", 1, month=5, quota=3)
    open_tahap(application, "WALIKOTA", 2, month=6, quota=3)
    define_program(application, "BST", BudgetSource.APBN)
    open_tahap(application, "BST", 5, month=5, quota=3)
    return application


def row_count(app: SalurApplication) -> int:
    """How many events the store holds."""
    return len(app.recorder.select_notifications(1, 1_000_000))


def a_season(app: SalurApplication) -> None:
    """May and June 2020 for seven households: every kind of command."""
    register_eligible(app, range(1, 6))
    registration.register(app, proposal(1, source="DINAS:Pertanian"), DINSOS)
    registration.register(app, proposal(6), KELURAHAN)
    padan.record_padan(
        app, no_kk_of(6), RecordPopulationMatch(PadanResult.NOT_EKTP, date(2020, 5, 2)), DUKCAPIL
    )
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    disbursement.record_payments(
        app,
        "WALIKOTA",
        1,
        [payment(1), payment(2, status=PaymentStatus.FAILED), payment(2), payment(3)],
        DINSOS,
    )
    disbursement.record_payments(
        app, "WALIKOTA", 1, [payment(3, status=PaymentStatus.RETURNED)], DINSOS, as_fact=True
    )
    allocation.allocate_roster(app, "BST", 5, KEMENSOS, [no_kk_of(4), no_kk_of(7)], DINSOS)
    withdrawal.remove(
        app,
        no_kk_of(2),
        RemoveHousehold("WALIKOTA", 2, KEMENSOS, "cleansing", "SK 12", effective_on=date(2020, 6, 1)),
        DINSOS,
    )
    withdrawal.reinstate(
        app, no_kk_of(2), ReinstateHousehold("WALIKOTA", 2, "DINSOS", "aduan diterima"), DINSOS
    )
    withdrawal.transfer(
        app, no_kk_of(3), TransferHousehold("WALIKOTA", 2, "BST", "DINSOS", "kuota kota habis"), DINSOS
    )
    complaint, _ = complaints.file_complaint(app, no_kk_of(5), FileComplaint("WA", "belum terima"), KELURAHAN)
    complaints.resolve_complaint(
        app, no_kk_of(5), complaint, ResolveComplaint("DIJAWAB", "kuota habis"), DINSOS
    )
    registration.correct(app, no_kk_of(5), CorrectHousehold("address.rt", "09", "surat RT"), DINSOS)
    registration.move_member(
        app, no_kk_of(4), MoveMember(nik_of(4, 1), no_kk_of(5), "pindah KK", "KK baru"), DINSOS
    )
    programs.certify(app, "WALIKOTA", 1, DINSOS)
    allocation.allocate(app, "WALIKOTA", 2, DINSOS)


def state(app: SalurApplication) -> dict[str, Any]:
    """Every household's view and every program's tahap, as a fresh load sees them."""
    return {
        "households": [household_view(app.household(no_kk_of(n))) for n in range(1, 8)],
        "programs": {code: app.program(code).tahap for code in ("WALIKOTA", "BST")},
    }


def test_a_season_is_told_back_the_same_by_a_fresh_application_on_the_same_store(
    app: SalurApplication, store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    a_season(app)
    told = state(app)

    again = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        assert state(again.app) == told
    finally:
        again.close()

    walikota = told["programs"]["WALIKOTA"]
    assert walikota[1].assigned == 3
    assert walikota[1].roster_hash is not None
    assert walikota[2].assigned == 3
    seats = {h.no_kk: [(p.program, p.tahap, p.state) for p in h.programs] for h in told["households"]}
    assert seats[no_kk_of(1)] == [("WALIKOTA", 1, "PAID"), ("WALIKOTA", 2, "ASSIGNED")]
    assert seats[no_kk_of(2)] == [("WALIKOTA", 1, "PAID"), ("WALIKOTA", 2, "ASSIGNED")]
    assert seats[no_kk_of(3)] == [("WALIKOTA", 1, "RETURNED")]
    assert seats[no_kk_of(4)] == [("BST", 5, "ASSIGNED"), ("WALIKOTA", 2, "ASSIGNED")]
    assert seats[no_kk_of(5)] == []
    assert seats[no_kk_of(7)] == [("BST", 5, "ASSIGNED")]
    assert [m.nik for m in told["households"][4].members] == [nik_of(5), nik_of(5, 1), nik_of(4, 1)]


def test_every_command_reports_the_position_of_its_last_event(app: SalurApplication) -> None:
    registered = registration.register(app, proposal(1), KELURAHAN)
    assert registered.position == app.recorder.max_notification_id()
    matched = padan.record_padan(
        app, no_kk_of(1), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
    )
    assert matched.position == app.recorder.max_notification_id() == (registered.position or 0) + 1
    verval.decide_verval(
        app, no_kk_of(1), DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)), DINSOS
    )
    assigned = allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    assert assigned.position == app.recorder.max_notification_id()
    paid = disbursement.record_payments(app, "WALIKOTA", 1, [payment(1)], DINSOS)
    assert paid.position == app.recorder.max_notification_id()


def test_a_refused_command_leaves_the_store_as_it_was(app: SalurApplication) -> None:
    register_eligible(app, [1, 2, 3, 4])
    registration.register(app, proposal(5), KELURAHAN)
    for n in (1, 2, 3):
        allocation.assign(app, "WALIKOTA", 1, no_kk_of(n), DINSOS)
    rows = row_count(app)
    taken = proposal(6)
    taken = type(taken)(taken.no_kk, taken.source, taken.address, proposal(1).members)

    refused(app, RefusalCode.QUOTA_FULL, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(4), DINSOS))
    refused(
        app, RefusalCode.ALREADY_RECEIVING, lambda: allocation.assign(app, "WALIKOTA", 1, no_kk_of(1), DINSOS)
    )
    refused(app, RefusalCode.NOT_MATCHED, lambda: allocation.assign(app, "WALIKOTA", 2, no_kk_of(5), DINSOS))
    refused(app, RefusalCode.NIK_IN_OTHER_HOUSEHOLD, lambda: registration.register(app, taken, KELURAHAN))
    refused(app, RefusalCode.UNKNOWN_HOUSEHOLD, lambda: app.household(no_kk_of(6)))
    refused(
        app,
        RefusalCode.NOT_REMOVED,
        lambda: withdrawal.reinstate(
            app, no_kk_of(1), ReinstateHousehold("WALIKOTA", 1, "DINSOS", "?"), DINSOS
        ),
    )
    refused(app, RefusalCode.PROGRAM_EXISTS, lambda: define_program(app, "BST"))
    refused(app, RefusalCode.TAHAP_EXISTS, lambda: open_tahap(app, "BST", 5))
    refused(
        app,
        RefusalCode.UNKNOWN_TAHAP,
        lambda: allocation.allocate_roster(app, "BST", 6, KEMENSOS, [], DINSOS),
    )
    refused(app, RefusalCode.UNKNOWN_PROGRAM, lambda: programs.certify(app, "PKH", 1, DINSOS))
    rejected = disbursement.record_payments(
        app, "WALIKOTA", 2, [payment(1), payment(4, amount_idr=1)], DINSOS
    ).rejected
    assert [r.code for r in rejected] == [RefusalCode.NOT_ASSIGNED, RefusalCode.NOT_ASSIGNED]

    assert row_count(app) == rows


def test_a_write_at_a_stale_version_is_refused_and_writes_nothing(app: SalurApplication) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    version = app.household(no_kk_of(1)).version
    padan.record_padan(
        app,
        no_kk_of(1),
        RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)),
        DUKCAPIL,
        expected_version=version,
    )
    before = app.recorder.max_notification_id()

    with pytest.raises(StaleVersion):
        verval.decide_verval(
            app,
            no_kk_of(1),
            DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)),
            DINSOS,
            expected_version=version,
        )

    assert app.recorder.max_notification_id() == before


def test_a_bulk_registration_reports_the_refused_households_and_keeps_the_others(
    app: SalurApplication,
) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    batch = [proposal(n) for n in range(2, 12)]
    clash = batch[4]
    batch[4] = type(clash)(clash.no_kk, clash.source, clash.address, proposal(1).members)

    outcome = registration.register_many(app, batch, KELURAHAN)

    assert (outcome.accepted, outcome.created) == (9, 9)
    assert [(r.index, r.code, r.field) for r in outcome.rejected] == [
        (4, RefusalCode.NIK_IN_OTHER_HOUSEHOLD, "members[0].nik")
    ]
    refused(app, RefusalCode.UNKNOWN_HOUSEHOLD, lambda: app.household(no_kk_of(6)))
    assert app.household(no_kk_of(7)).no_kk == no_kk_of(7)


def test_households_and_people_are_found_by_keyed_ids_that_hide_their_numbers(
    app: SalurApplication, runtime: Runtime
) -> None:
    registration.register(app, proposal(1), KELURAHAN)

    found = app.household_by_nik(nik_of(1, 1))
    assert found is not None
    assert found.id == app.household_id(no_kk_of(1))
    assert app.household_by_nik(nik_of(2)) is None
    ids = {str(e.originator_id) for e in stored_events(app)}
    for number in (no_kk_of(1), nik_of(1), nik_of(1, 1)):
        assert not any(number in i.replace("-", "") for i in ids)
    assert app.household_id(no_kk_of(1)) != app.claim_id(no_kk_of(1))
    assert runtime.settings.id_key


def test_stored_topics_are_the_explicit_ones(app: SalurApplication) -> None:
    a_season(app)
    topics = set(stored_topics(app))
    assert "salur:household.Assigned" in topics
    assert "salur:program.SeatsCommitted" in topics
    assert all(
        t.startswith(("salur:household.", "salur:program.", "salur:person.", "salur:notary.")) for t in topics
    )


def test_a_population_table_that_is_not_there_yet_means_no_extract_is_loaded(runtime: Runtime) -> None:
    app = runtime.app
    registration.register(app, proposal(1), KELURAHAN)
    assert app.household(no_kk_of(1)).padan is None


def test_a_bulk_command_decides_on_what_another_application_wrote_since_it_held_the_households(
    app: SalurApplication, store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    register_eligible(app, [1, 2])
    decide = [(no_kk_of(2), DecideVerval(VervalDecision.INELIGIBLE, "mampu", "petugas", date(2020, 5, 4)))]
    verval.decide_verval_many(app, decide, DINSOS)
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    assert app.household(no_kk_of(2)).left_out[("WALIKOTA", 1)] == "NOT_ELIGIBLE"

    other = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        verval.decide_verval(
            other.app,
            no_kk_of(2),
            DecideVerval(VervalDecision.ELIGIBLE, "aduan diterima", "petugas", date(2020, 5, 6)),
            DINSOS,
        )
    finally:
        other.close()
    outcome = allocation.allocate(app, "WALIKOTA", 1, DINSOS)

    assert outcome.assigned == 1
    assert ("WALIKOTA", 1) in app.household(no_kk_of(2)).seats


def test_a_correction_to_the_current_value_is_refused_and_writes_nothing(app: SalurApplication) -> None:
    registration.register(app, proposal(1), KELURAHAN)
    before = app.recorder.max_notification_id()

    with pytest.raises(InvalidCommand):
        registration.correct(
            app, no_kk_of(1), CorrectHousehold("members[1].nik", nik_of(1, 1), "KK scan"), DINSOS
        )

    assert app.recorder.max_notification_id() == before

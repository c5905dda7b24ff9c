"""The Household's rules without a store: given its history, a command (its Struct, as the API decodes
it) adds new events or is refused.

Each test reads as a moment of Kota Bogor's 2020 story: a household proposed by its kelurahan, matched
with Disdukcapil, found ELIGIBLE, seated in the city's Bantuan Walikota, and then what happened next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import uuid4

import pytest

from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import WIB
from salur_cases.domain.commands import (
    DecideVerval,
    FileComplaint,
    MoveMember,
    ProposedAddress,
    ProposedMember,
    ProposedSource,
    ProposeHousehold,
    RecordPayment,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
    ResolveComplaint,
    TransferHousehold,
)
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.household import Household, Member
from salur_cases.domain.program import Tahap
from salur_cases.domain.vocabulary import PadanResult, PaymentStatus, Role, VervalDecision

DINSOS = Actor("dinsos.bogor", Role.DINSOS)
KELURAHAN = Actor("kel.tegallega", Role.KELURAHAN)
NO_KK = "3271031503200001"
KEPALA = Member("3271031507750001", "Budi Santoso", "KEPALA KELUARGA", date(1975, 7, 15))
MAY = (date(2020, 5, 1), date(2020, 5, 31))
JUNE = (date(2020, 6, 1), date(2020, 6, 30))


def tahap_of(number: int, period: tuple[date, date], amount_idr: int, decree_ref: str) -> Tahap:
    """A program's tahap: its period, its amount per household and its decree."""
    return Tahap(
        number, *period, quota=100, amount_idr=amount_idr, budget_ceiling_idr=10**9, decree_ref=decree_ref
    )


WALIKOTA_MAY = tahap_of(1, MAY, 500_000, "SK-WK1")


def paid(status: PaymentStatus, reference: str) -> RecordPayment:
    """The POS's report of a full payment in May (a parsed command)."""
    return RecordPayment(NO_KK, 500_000, datetime(2020, 5, 20, 10, tzinfo=WIB).isoformat(), status, reference)


def proposed_by_kelurahan() -> Household:
    """Proposed by its kelurahan in April 2020."""
    proposal = ProposeHousehold(
        NO_KK,
        ProposedSource("KELURAHAN", "Tegallega"),
        ProposedAddress("32.71.03", "32.71.03.1005", "02", "03"),
        [ProposedMember(KEPALA.nik, KEPALA.name, KEPALA.relationship, KEPALA.birth_date)],
    )
    return Household.propose(uuid4(), proposal, KELURAHAN)


def eligible() -> Household:
    """Proposed, padan MATCHED with Disdukcapil, and found ELIGIBLE at verval."""
    household = proposed_by_kelurahan()
    household.record_padan(RecordPopulationMatch(PadanResult.MATCHED, date(2020, 4, 21)), "EXTRACT", DINSOS)
    household.decide_verval(
        DecideVerval(VervalDecision.ELIGIBLE, "terdampak", "petugas-1", date(2020, 4, 24)), DINSOS
    )
    return household


def seated_in_walikota(tahap: int = 1, period: tuple[date, date] = MAY) -> Household:
    """ELIGIBLE, and given a seat in Bantuan Walikota by the city's rule."""
    household = eligible()
    household.assign("WALIKOTA", "APBD_KOTA", tahap_of(tahap, period, 500_000, "SK-WK1"), DINSOS, rank=1)
    return household


def given(history: Household) -> Household:
    """The household with its history saved: only what a command adds is new."""
    history.collect_events()
    return history


def new_events(household: Household) -> list[str]:
    """The names of the events the command added."""
    return [type(e).__name__ for e in household.collect_events()]


def refused(household: Household, code: RefusalCode, command: Callable[[], object]) -> None:
    """The command is refused with `code` and adds nothing."""
    with pytest.raises(Refusal) as caught:
        command()
    assert caught.value.code == code
    assert new_events(household) == []


def test_an_eligible_household_gets_a_walikota_seat_by_the_citys_rule() -> None:
    household = given(eligible())
    warnings = household.assign("WALIKOTA", "APBD_KOTA", WALIKOTA_MAY, DINSOS, rank=7)
    assert warnings == []
    assert new_events(household) == ["Assigned"]
    assert household.seats["WALIKOTA", 1].amount_idr == 500_000


def test_a_household_not_matched_with_disdukcapil_is_refused_a_seat() -> None:
    household = given(proposed_by_kelurahan())
    refused(
        household,
        RefusalCode.NOT_MATCHED,
        lambda: household.assign("WALIKOTA", "APBD_KOTA", WALIKOTA_MAY, DINSOS),
    )


def test_a_household_receiving_walikota_in_may_is_refused_gubernur_in_may() -> None:
    household = given(seated_in_walikota())
    refused(
        household,
        RefusalCode.ALREADY_RECEIVING,
        lambda: household.assign("GUBERNUR", "APBD_PROVINSI", tahap_of(1, MAY, 600_000, "SK-GB1"), DINSOS),
    )


def test_kemensos_roster_naming_a_walikota_household_is_recorded_with_a_warning() -> None:
    household = given(seated_in_walikota())
    warnings = household.assign(
        "BST", "APBN", tahap_of(1, MAY, 600_000, "KEP-BST1"), DINSOS, authority="KEMENSOS"
    )
    assert warnings == ["ALREADY_RECEIVING"]
    assert new_events(household) == ["Assigned"]


def test_household_removed_by_kemensos_is_dropped_from_next_tahap() -> None:
    household = given(seated_in_walikota())
    household.remove(
        RemoveHousehold("WALIKOTA", 2, "KEMENSOS", "ganda dengan DTKS", "KEP-146", date(2020, 6, 1)), DINSOS
    )
    assert new_events(household) == ["Removed"]
    assert household.city_rule_problem("WALIKOTA", 2, *JUNE) == (RefusalCode.REMOVED, None)
    assert household.city_rule_problem("WALIKOTA", 1, *MAY) == (RefusalCode.ALREADY_RECEIVING, "WALIKOTA")


def test_a_household_already_removed_cannot_be_removed_again() -> None:
    household = seated_in_walikota()
    household.remove(RemoveHousehold("WALIKOTA", 2, "KEMENSOS", "ganda", "KEP-146"), DINSOS)
    given(household)
    refused(
        household,
        RefusalCode.REMOVED,
        lambda: household.remove(RemoveHousehold("WALIKOTA", 3, "DINSOS", "ganda", "KEP-2"), DINSOS),
    )


def test_a_sanggahan_accepted_reinstates_the_household_from_that_tahap_on() -> None:
    household = seated_in_walikota()
    household.remove(RemoveHousehold("WALIKOTA", 2, "KEMENSOS", "ganda", "KEP-146"), DINSOS)
    given(household)
    household.reinstate(
        ReinstateHousehold("WALIKOTA", 2, "DINSOS", "sanggahan diterima", date(2020, 6, 10)), DINSOS
    )
    assert new_events(household) == ["Reinstated"]
    assert household.city_rule_problem("WALIKOTA", 2, *JUNE) is None


def test_a_household_never_removed_cannot_be_reinstated() -> None:
    household = given(seated_in_walikota())
    refused(
        household,
        RefusalCode.NOT_REMOVED,
        lambda: household.reinstate(ReinstateHousehold("WALIKOTA", 2, "DINSOS", "sanggahan"), DINSOS),
    )


def test_a_transfer_to_kemensos_takes_the_household_out_of_walikota() -> None:
    household = given(seated_in_walikota())
    household.transfer(TransferHousehold("WALIKOTA", 2, "BST", "DINSOS", "kuota kota habis"), DINSOS)
    assert new_events(household) == ["Transferred"]
    withdrawal = household.withdrawal("WALIKOTA", 2)
    assert withdrawal is not None
    assert (withdrawal.kind, withdrawal.to_program) == ("TRANSFERRED", "BST")


def test_the_city_is_refused_a_second_payment_in_the_same_tahap() -> None:
    household = seated_in_walikota()
    household.record_payment("WALIKOTA", WALIKOTA_MAY, paid(PaymentStatus.PAID, "POS-1"), DINSOS)
    given(household)
    refused(
        household,
        RefusalCode.ALREADY_PAID,
        lambda: household.record_payment("WALIKOTA", WALIKOTA_MAY, paid(PaymentStatus.PAID, "POS-2"), DINSOS),
    )


def test_pos_report_of_a_payment_without_a_seat_is_recorded_as_a_fact_with_its_warning() -> None:
    household = given(eligible())
    warnings = household.record_payment(
        "WALIKOTA", WALIKOTA_MAY, paid(PaymentStatus.PAID, "POS-9"), DINSOS, as_fact=True
    )
    assert warnings == ["NOT_ASSIGNED"]
    assert new_events(household) == ["PaymentRecorded"]


def test_an_aduan_is_answered_only_when_it_was_filed() -> None:
    household = given(seated_in_walikota())
    refused(
        household,
        RefusalCode.UNKNOWN_COMPLAINT,
        lambda: household.resolve_complaint("c-1", ResolveComplaint("RESOLVED", "sudah dibayar"), DINSOS),
    )
    household.file_complaint("c-1", FileComplaint("WHATSAPP", "bantuan belum diterima"), DINSOS)
    household.resolve_complaint("c-1", ResolveComplaint("RESOLVED", "sudah dibayar"), DINSOS)
    assert new_events(household) == ["ComplaintFiled", "ComplaintResolved"]


def test_a_removal_names_its_authority() -> None:
    household = given(seated_in_walikota())
    with pytest.raises(InvalidCommand) as caught:
        household.remove(RemoveHousehold("WALIKOTA", 2, " ", "ganda", "KEP-146"), DINSOS)
    assert caught.value.field == "authority"
    assert new_events(household) == []


def test_a_member_who_moves_out_leaves_the_family_card() -> None:
    household = given(eligible())
    member = household.move_out(MoveMember(KEPALA.nik, "3271031503200002", "menikah", "KK baru"), DINSOS)
    assert member == KEPALA
    assert new_events(household) == ["MemberMovedOut"]
    assert household.members == []


def test_replaying_the_events_gives_the_same_household() -> None:
    household = seated_in_walikota()
    household.remove(RemoveHousehold("WALIKOTA", 2, "KEMENSOS", "ganda", "KEP-146"), DINSOS)
    events = household.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Household)
    assert replayed.seats == household.seats
    assert replayed.withdrawals == household.withdrawals
    assert (replayed.padan, replayed.verval) == (household.padan, household.verval)

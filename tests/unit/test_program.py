"""The Program aggregate on its own (no database): tahap, quota, ceiling, certification."""

from __future__ import annotations

from datetime import date

import pytest

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import DefineProgram, OpenTahap
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.program import Program, roster_hash
from salur_cases.domain.vocabulary import BudgetSource, ProgramGroup, Role

OFFICER = Actor("petugas-dinsos", Role.DINSOS)
KEMENSOS = "KEMENSOS"


def walikota(quota: int = 2, amount_idr: int = 500_000, ceiling_idr: int | None = None) -> Program:
    """Bantuan Walikota with tahap 1 (May 2020) open."""
    definition = DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS)
    program = Program.define(definition, OFFICER)
    ceiling = quota * amount_idr if ceiling_idr is None else ceiling_idr
    opening = OpenTahap(1, date(2020, 5, 1), date(2020, 5, 31), quota, amount_idr, ceiling, "027.45-312")
    program.open_tahap(opening, OFFICER)
    return program


def refused(code: RefusalCode, program: Program, action: object) -> None:
    """`action()` is refused with `code` and adds no event to the program."""
    before = len(program.pending_events)
    with pytest.raises(Refusal) as caught:
        action()  # type: ignore[operator]
    assert caught.value.code is code
    assert len(program.pending_events) == before


def test_a_program_is_identified_by_its_code() -> None:
    program = walikota()
    assert program.id == Program.create_id("WALIKOTA")
    assert program.budget_source is BudgetSource.APBD_KOTA
    assert program.group is ProgramGroup.NON_DTKS


def test_a_tahap_cannot_be_opened_twice() -> None:
    program = walikota()
    refused(
        RefusalCode.TAHAP_EXISTS,
        program,
        lambda: program.open_tahap(OpenTahap(1, date(2020, 6, 1), date(2020, 6, 30), 1, 1, 1, ""), OFFICER),
    )


def test_an_unopened_tahap_is_unknown() -> None:
    refused(RefusalCode.UNKNOWN_TAHAP, walikota(), lambda: walikota().get_tahap(2))


def test_a_tahap_never_holds_more_than_its_quota() -> None:
    program = walikota(quota=2)
    program.commit_seats(1, ["h1", "h2"], OFFICER)
    refused(RefusalCode.QUOTA_FULL, program, lambda: program.commit_seats(1, ["h3"], OFFICER))
    assert program.tahap[1].assigned == 2
    assert program.tahap[1].seats_left == 0


def test_a_tahap_never_commits_more_than_its_ceiling() -> None:
    program = walikota(quota=10, amount_idr=500_000, ceiling_idr=1_200_000)
    assert program.tahap[1].seats_left == 2
    program.commit_seats(1, ["h1", "h2"], OFFICER)
    refused(RefusalCode.CEILING_REACHED, program, lambda: program.commit_seats(1, ["h3"], OFFICER))
    assert program.tahap[1].committed_idr == 1_000_000


def test_a_batch_that_would_overfill_the_quota_commits_nothing() -> None:
    program = walikota(quota=2)
    program.commit_seats(1, ["h1"], OFFICER)
    refused(RefusalCode.QUOTA_FULL, program, lambda: program.commit_seats(1, ["h2", "h3"], OFFICER))
    assert program.tahap[1].assigned == 1


def test_an_outside_roster_is_a_fact_and_commits_past_the_quota() -> None:
    program = walikota(quota=1)
    program.commit_seats(1, ["h1", "h2", "h3"], OFFICER, authority=KEMENSOS)
    assert program.tahap[1].assigned == 3
    assert program.tahap[1].committed_idr == 1_500_000
    assert program.tahap[1].seats_left == 0


def test_a_certified_tahap_is_fixed() -> None:
    program = walikota()
    program.commit_seats(1, ["h2", "h1"], OFFICER)
    digest = program.certify(1, ["h2", "h1"], {"position": 7, "hash": "ab"}, OFFICER)
    assert digest == roster_hash(["h1", "h2"]) == program.tahap[1].roster_hash
    refused(RefusalCode.TAHAP_CERTIFIED, program, lambda: program.commit_seats(1, ["h3"], OFFICER))
    refused(RefusalCode.TAHAP_CERTIFIED, program, lambda: program.certify(1, ["h1", "h2"], {}, OFFICER))
    refused(
        RefusalCode.TAHAP_CERTIFIED,
        program,
        lambda: program.commit_seats(1, ["h3"], OFFICER, authority=KEMENSOS),
    )


def test_the_roster_hash_does_not_depend_on_the_order_of_assignment() -> None:
    assert roster_hash(["b", "a"]) == roster_hash(["a", "b"]) != roster_hash(["a"])


def test_the_previous_tahap_is_the_one_opened_before() -> None:
    program = walikota()
    program.open_tahap(OpenTahap(3, date(2020, 7, 1), date(2020, 7, 31), 1, 1, 1, ""), OFFICER)
    previous = program.previous_tahap(3)
    assert previous is not None
    assert previous.number == 1
    assert program.previous_tahap(1) is None


def test_every_program_event_records_actor_role_time_and_a_stable_topic() -> None:
    program = walikota()
    program.commit_seats(1, ["h1"], OFFICER)
    program.certify(1, ["h1"], {}, OFFICER)
    events = program.collect_events()
    assert [type(e).TOPIC for e in events] == [  # type: ignore[attr-defined]
        "salur:program.Defined",
        "salur:program.TahapOpened",
        "salur:program.SeatsCommitted",
        "salur:program.TahapCertified",
    ]
    for e in events:
        assert (e.actor, e.role) == (OFFICER.name, OFFICER.role)  # type: ignore[attr-defined]
        assert e.timestamp.tzinfo is not None


def test_replaying_a_programs_events_rebuilds_it() -> None:
    program = walikota(quota=3)
    program.commit_seats(1, ["h1", "h2"], OFFICER)
    events = program.collect_events()
    rebuilt: Program | None = None
    for e in events:
        rebuilt = e.mutate(rebuilt)
    assert rebuilt is not None
    assert rebuilt.tahap == program.tahap
    assert rebuilt.version == program.version

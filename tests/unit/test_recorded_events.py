"""Events made straight from their fields (`PayloadAggregate`) are the events eventsourcing's own
`_create` and `trigger_event` make: the same fields in the same order, the same stored bytes, and
aggregates in the same state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given
from hypothesis import strategies as st

from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import recording_at
from salur_cases.domain.commands import (
    DecideVerval,
    DefineProgram,
    OpenTahap,
    ProposedAddress,
    ProposedMember,
    ProposedSource,
    ProposeHousehold,
    RecordPopulationMatch,
)
from salur_cases.domain.events import PayloadAggregate, PayloadEvent
from salur_cases.domain.household import Household
from salur_cases.domain.person import PersonClaim
from salur_cases.domain.program import Program
from salur_cases.domain.vocabulary import (
    KEPALA_KELUARGA,
    BudgetSource,
    PadanResult,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.store.transcoder import EventMapper, MsgspecTranscoder

OFFICER = Actor("petugas-dinsos", Role.DINSOS)
HOUSEHOLD = UUID("3f2b8c4e-1d2a-4b6c-8e9f-0a1b2c3d4e5f")
CLAIM = UUID("0a1b2c3d-4e5f-4b6c-8e9f-3f2b8c4e1d2a")
NO_KK = "3271010101200001"


def _story() -> tuple[list[Aggregate], list[Any]]:
    """A household proposed, proposed again with another member, matched and decided; its head's
    claim taken, released and taken again; a program defined with a tahap. Every event at one moment."""
    head = ProposedMember("3271010101800001", "BUDI SANTOSO", KEPALA_KELUARGA, date(1980, 1, 1))
    child = ProposedMember("3271014101100002", "SITI", "ANAK")
    address = ProposedAddress("32.71.01", "32.71.01.1001", "01", "02")
    with recording_at(datetime(2020, 4, 20, 8, 0)):
        household = Household.propose(
            HOUSEHOLD,
            ProposeHousehold(NO_KK, ProposedSource("KELURAHAN", "Babakan"), address, [head]),
            OFFICER,
        )
        household.repropose(
            ProposeHousehold(NO_KK, ProposedSource("KEMENSOS"), address, [head, child]), OFFICER
        )
        household.record_padan(RecordPopulationMatch(PadanResult.MATCHED), "EXTRACT", OFFICER)
        household.decide_verval(
            DecideVerval(VervalDecision.ELIGIBLE, "layak", "p-1", date(2020, 4, 24)), OFFICER
        )
        claim = PersonClaim.claim(CLAIM, str(HOUSEHOLD), OFFICER)
        claim.release(OFFICER)
        claim.claim_for(str(HOUSEHOLD), OFFICER)
        program = Program.define(
            DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
            OFFICER,
        )
        program.open_tahap(
            OpenTahap(1, date(2020, 4, 27), date(2020, 5, 26), 10, 600_000, 6_000_000, "SK 460/12"), OFFICER
        )
    aggregates: list[Aggregate] = [household, claim, program]
    return aggregates, [e for a in aggregates for e in a.collect_events()]


def _libraries_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PayloadAggregate, "_create", classmethod(Aggregate._create.__func__))  # type: ignore[attr-defined]
    monkeypatch.setattr(PayloadAggregate, "trigger_event", Aggregate.trigger_event)


def test_events_made_from_their_fields_are_the_events_eventsourcing_makes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, our_events = _story()
    _libraries_way(monkeypatch)
    theirs, their_events = _story()
    assert [type(e) for e in our_events] == [type(e) for e in their_events]
    assert [list(vars(e).items()) for e in our_events] == [list(vars(e).items()) for e in their_events]
    mapper = EventMapper(MsgspecTranscoder())
    assert [mapper.to_stored_event(e) for e in our_events] == [
        mapper.to_stored_event(e) for e in their_events
    ]
    assert [vars(a) for a in ours] == [vars(a) for a in theirs]


def _replayed(events: list[Any]) -> list[Aggregate]:
    aggregates: dict[UUID, Aggregate] = {}
    for event in events:
        aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
    return list(aggregates.values())


def test_a_replayed_aggregate_is_the_one_eventsourcing_replays_and_the_one_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded, events = _story()
    ours = _replayed(events)
    monkeypatch.delattr(PayloadEvent, "mutate")
    theirs = _replayed(events)
    assert [vars(a) for a in ours] == [vars(a) for a in theirs] == [vars(a) for a in recorded]


def test_an_event_missing_a_field_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match="household_id"):
        PersonClaim.Claimed.recorded(
            originator_id=CLAIM, originator_version=1, timestamp=datetime.now(tz=UTC), originator_topic="x"
        )


def test_an_event_with_an_unknown_field_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match="colour"):
        PersonClaim.Released.recorded(
            originator_id=CLAIM, originator_version=2, timestamp=datetime.now(tz=UTC), colour="red"
        )


OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=7), "WIB"), timezone(timedelta(hours=-3, minutes=-30))]
)


@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS))
def test_a_datetime_is_stored_as_its_isoformat_text(moment: datetime) -> None:
    stored = MsgspecTranscoder().encode({"at": moment})
    assert stored == b'{"at":{"_type_":"datetime_iso","_data_":"' + moment.isoformat().encode() + b'"}}'


def test_equal_instants_at_other_offsets_keep_their_own_text() -> None:
    wib = datetime(2020, 5, 1, 7, tzinfo=timezone(timedelta(hours=7), "WIB"))
    wita = datetime(2020, 5, 1, 8, tzinfo=timezone(timedelta(hours=8), "WITA"))
    transcoder = MsgspecTranscoder()
    assert transcoder.encode({"at": wib}) != transcoder.encode({"at": wita})
    assert b"08:00:00+08:00" in transcoder.encode({"at": wita})

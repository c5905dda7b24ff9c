"""The project's event mapper stores exactly what eventsourcing's mapper stores, and reads it back alike."""

from __future__ import annotations

import base64
import os
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing import domain
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import Environment

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import (
    DecideVerval,
    ProposedAddress,
    ProposedMember,
    ProposedSource,
    ProposeHousehold,
    RecordPopulationMatch,
)
from salur_cases.domain.household import Household
from salur_cases.domain.vocabulary import KEPALA_KELUARGA, PadanResult, Role, VervalDecision
from salur_cases.store.keys import EventCipher
from salur_cases.store.transcoder import EventMapper, MsgspecTranscoder

ACTOR = Actor("dinsos.test", Role.DINSOS)


class Ticket(Aggregate):
    """An aggregate whose event is at class version 2, with an upcast from version 1."""

    class Opened(Aggregate.Created):
        class_version = 2
        due: date
        ref: UUID

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["ref"] = UUID(int=0)

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    @domain.event(Opened)
    def __init__(self, due: date, ref: UUID) -> None:
        self.due, self.ref = due, ref


def _events() -> list[Any]:
    proposal = ProposeHousehold(
        "3271010101200001",
        ProposedSource("KELURAHAN", "test"),
        ProposedAddress("32.71.01", "32.71.01.1001", "01", "02"),
        [ProposedMember("3271014101800001", "WARGA SATU", KEPALA_KELUARGA)],
    )
    household = Household.propose(uuid4(), proposal, ACTOR)
    household.record_padan(RecordPopulationMatch(PadanResult.MATCHED, date(2020, 4, 20)), "EXTRACT", ACTOR)
    household.decide_verval(
        DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 4, 24)), ACTOR
    )
    ticket = Ticket(due=date(2020, 5, 1), ref=uuid4())
    return [*household.collect_events(), *ticket.collect_events()]


def _cipher() -> EventCipher:
    key = base64.b64encode(os.urandom(32)).decode()
    return EventCipher(Environment(env={"CIPHER_KEY": key}))


def test_the_mapper_stores_the_bytes_eventsourcings_mapper_stores() -> None:
    ours, theirs = EventMapper(MsgspecTranscoder()), Mapper[UUID](MsgspecTranscoder())
    for each in _events():
        assert ours.to_stored_event(each) == theirs.to_stored_event(each)
    assert b'"class_version":2' in ours.to_stored_event(_events()[-1]).state


def test_a_stored_event_reads_back_as_eventsourcings_mapper_reads_it() -> None:
    cipher = _cipher()
    ours = EventMapper(MsgspecTranscoder(), cipher=cipher)
    theirs = Mapper[UUID](MsgspecTranscoder(), cipher=cipher)
    for each in _events():
        stored = ours.to_stored_event(each)
        assert theirs.to_domain_event(stored).__dict__ == vars(each)
        text_id = StoredEvent(
            str(stored.originator_id), stored.originator_version, stored.topic, stored.state
        )
        assert ours.to_domain_event(text_id).__dict__ == vars(each)


def test_an_older_class_version_is_upcast_on_reading() -> None:
    mapper = EventMapper(MsgspecTranscoder())
    state = (
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2020-05-01T00:00:00+00:00"},'
        b'"originator_topic":"tests.unit.test_event_mapper:Ticket",'
        b'"due":{"_type_":"date_iso","_data_":"2020-05-01"}}'
    )
    topic = "tests.unit.test_event_mapper:Ticket.Opened"
    opened: Any = mapper.to_domain_event(StoredEvent(uuid4(), 1, topic, state))
    assert (opened.due, opened.ref) == (date(2020, 5, 1), UUID(int=0))
    assert opened.timestamp == datetime(2020, 5, 1, tzinfo=UTC)


def test_a_state_sealed_with_another_key_is_a_deserialisation_error() -> None:
    stored = EventMapper(MsgspecTranscoder(), cipher=_cipher()).to_stored_event(_events()[0])
    with pytest.raises(MapperDeserialisationError, match=r"household\.Proposed"):
        EventMapper(MsgspecTranscoder(), cipher=_cipher()).to_domain_event(stored)

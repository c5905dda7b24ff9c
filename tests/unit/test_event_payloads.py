"""Event payloads: one per event type; each event class is built from its payload, new events encode as
stored events always have, and stored events decode into their payloads."""

from __future__ import annotations

import dataclasses
import json
import zlib
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import msgspec
import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import Mapper, Notification

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import recording_at
from salur_cases.domain.commands import DecideVerval, ProposedSource, ProposeHousehold, RecordPopulationMatch
from salur_cases.domain.household import Household
from salur_cases.domain.person import PersonClaim
from salur_cases.domain.program import Program, Tahap
from salur_cases.domain.vocabulary import PadanResult, Role, VervalDecision
from salur_cases.projections.projector import decode
from salur_cases.store.signing import Notary
from salur_cases.store.transcoder import MsgspecTranscoder

ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
EVENT_CLASSES = [
    value
    for aggregate in (Household, Program, PersonClaim, Notary)
    for value in vars(aggregate).values()
    if isinstance(value, type) and hasattr(value, "TOPIC")
]
HOUSEHOLD = UUID("3f2b8c4e-1d2a-4b6c-8e9f-0a1b2c3d4e5f")
NO_KK = "3271010101200001"

ASSIGNED_AS_STORED = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2020-04-27T09:00:00+07:00"},'
    b'"program":"WALIKOTA","tahap":1,'
    b'"starts_on":{"_type_":"date_iso","_data_":"2020-04-01"},'
    b'"ends_on":{"_type_":"date_iso","_data_":"2020-04-30"},'
    b'"amount_idr":600000,"budget_source":"APBD_KOTA","authority":null,"rank":3,'
    b'"warnings":[],"decree_ref":"SK 460/12","actor":"petugas-dinsos","role":"dinsos"}'
)
"""An Assigned event exactly as the store holds it (written by the aggregate before payload types)."""

PROPOSED_AS_STORED = (
    b'{"originator_topic":"salur_cases.domain.household:Household",'
    b'"timestamp":{"_type_":"datetime_iso","_data_":"2020-04-20T08:00:00+07:00"},'
    b'"no_kk":"3271010101200001","source_kind":"KELURAHAN","source_ref":"Babakan",'
    b'"address":{"kecamatan":"Bogor Tengah","kelurahan":"Babakan","rw":"01","rt":"02"},'
    b'"members":[{"nik":"3271010101800001","name":"BUDI SANTOSO","relationship":"KEPALA KELUARGA",'
    b'"birth_date":"1980-01-01"}],"actor":"kelurahan-babakan","role":"kelurahan"}'
)


def _fields_of_event(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.name not in ENVELOPE]


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda c: c.TOPIC)
def test_every_event_class_is_built_from_its_payload_in_the_stored_order(event_class: type) -> None:
    payload = payloads.payload_type(event_class.TOPIC)  # type: ignore[attr-defined]
    assert event_class.PAYLOAD is payload  # type: ignore[attr-defined]
    fields = msgspec.structs.fields(payload)
    own = [f.name for f in fields if f.required and f.name not in {"actor", "role"}]
    later = [f.name for f in fields if not f.required and f.name not in {"actor", "role"}]
    assert _fields_of_event(event_class) == [*own, "actor", "role", *later]


def test_a_new_assigned_event_is_stored_byte_for_byte_as_before() -> None:
    officer = Actor("petugas-dinsos", Role.DINSOS)
    household = Household.propose(HOUSEHOLD, ProposeHousehold(NO_KK, ProposedSource("KEMENSOS")), officer)
    household.record_padan(RecordPopulationMatch(PadanResult.MATCHED), "MANUAL", officer)
    household.decide_verval(DecideVerval(VervalDecision.ELIGIBLE, "layak", "p-1", date(2020, 4, 24)), officer)
    tahap = Tahap(1, date(2020, 4, 1), date(2020, 4, 30), 10, 600000, 6_000_000, "SK 460/12")
    with recording_at(datetime(2020, 4, 27, 9, 0)):
        household.assign("WALIKOTA", "APBD_KOTA", tahap, officer, rank=3)
    stored = _plain_mapper().to_stored_event(household.collect_events()[-1])
    # written since the berlaku was recorded: the same bytes, and the (empty) berlaku last
    as_stored_now = ASSIGNED_AS_STORED[:-1] + b',"effective_on":null}'
    assert (stored.topic, stored.state) == (payloads.Assigned.TOPIC, as_stored_now)


def test_the_registry_holds_exactly_the_events_of_the_domain() -> None:
    assert set(payloads.PAYLOADS) == {c.TOPIC for c in EVENT_CLASSES}  # type: ignore[attr-defined]


def test_event_type_is_the_topic_without_its_prefix() -> None:
    assert payloads.Assigned.EVENT_TYPE == "household.Assigned"
    assert payloads.SeatsCommitted.EVENT_TYPE == "program.SeatsCommitted"


def _notification(topic: str, state: bytes) -> Notification:
    return Notification(id=7, originator_id=HOUSEHOLD, originator_version=2, topic=topic, state=state)


def _assert_assigned(payload: payloads.Payload) -> None:
    assert payload == payloads.Assigned(
        program="WALIKOTA",
        tahap=1,
        starts_on=date(2020, 4, 1),
        ends_on=date(2020, 4, 30),
        amount_idr=600000,
        budget_source="APBD_KOTA",
        authority=None,
        rank=3,
        warnings=[],
        decree_ref="SK 460/12",
        actor="petugas-dinsos",
        role="dinsos",
    )


def test_a_stored_assigned_event_decodes_into_its_payload_and_the_timeline_shape() -> None:
    [record] = decode([_notification(payloads.Assigned.TOPIC, ASSIGNED_AS_STORED)], _plain_mapper())
    _assert_assigned(record.payload)
    assert record.recorded_at == datetime(2020, 4, 27, 2, 0, tzinfo=UTC)
    assert (record.actor, record.role, record.type) == ("petugas-dinsos", "dinsos", "household.Assigned")
    assert record.effective_on is None
    stored = json.loads(ASSIGNED_AS_STORED)
    expected = {k: v for k, v in stored.items() if k not in {"timestamp", "actor", "role"}}
    expected["starts_on"], expected["ends_on"] = "2020-04-01", "2020-04-30"
    assert record.shown == expected


def test_a_stored_proposed_event_decodes_members_and_address() -> None:
    [record] = decode([_notification(payloads.Proposed.TOPIC, PROPOSED_AS_STORED)], _plain_mapper())
    payload = record.payload
    assert isinstance(payload, payloads.Proposed)
    assert payload.address == payloads.AddressData("Bogor Tengah", "Babakan", "01", "02")
    assert payload.members == [
        payloads.MemberData("3271010101800001", "BUDI SANTOSO", "KEPALA KELUARGA", "1980-01-01")
    ]
    assert "originator_topic" not in record.shown


def test_a_compressed_stored_event_decodes_through_the_mapper_into_the_same_payload() -> None:
    mapper = Mapper(transcoder=MsgspecTranscoder(), compressor=ZlibCompressor())
    compressed = zlib.compress(ASSIGNED_AS_STORED)
    [record] = decode([_notification(payloads.Assigned.TOPIC, compressed)], mapper)
    _assert_assigned(record.payload)
    assert record.shown["starts_on"] == "2020-04-01"


def _plain_mapper() -> Mapper[UUID]:
    return Mapper(transcoder=MsgspecTranscoder())


def test_a_stored_payment_keeps_its_time_as_stored_in_the_timeline_and_as_a_datetime_in_the_payload() -> None:
    stored = (
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2020-05-02T10:00:00+07:00"},'
        b'"program":"WALIKOTA","tahap":1,"amount_idr":600000,'
        b'"paid_at":{"_type_":"datetime_iso","_data_":"2020-05-02T09:30:00.250000+07:00"},'
        b'"status":"PAID","reference":"POS-1","roster_hash":null,"warnings":["REMOVED"],'
        b'"actor":"pos","role":"dinsos"}'
    )
    [record] = decode([_notification(payloads.PaymentRecorded.TOPIC, stored)], _plain_mapper())
    payload = record.payload
    assert isinstance(payload, payloads.PaymentRecorded)
    assert payload.paid_at == datetime(2020, 5, 2, 2, 30, 0, 250000, tzinfo=UTC)
    assert payload.paid_at.utcoffset() == timedelta(hours=7)
    assert payload.warnings == ["REMOVED"]
    assert record.shown["paid_at"] == "2020-05-02T09:30:00.250000+07:00"

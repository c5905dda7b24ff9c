"""The application: Kota Bogor's event store, as eventsourcing's Application over our recorder.

It wires the store (the msgspec transcoder, the hash-chained recorder, optional encryption at rest),
derives the keyed ids of households and person claims, keeps the households last saved for the next
bulk command (`salur_cases.held`), and reads aggregates as they stand. The commands themselves live
in `salur_cases.processes`, one module per process of the domain.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Transcoder

from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.household import Household
from salur_cases.domain.padan import PopulationRecord
from salur_cases.domain.parsing import parse_no_kk
from salur_cases.domain.person import PersonClaim
from salur_cases.domain.program import Program
from salur_cases.held import HeldAggregates
from salur_cases.identifiers import keyed_uuid
from salur_cases.settings import Settings
from salur_cases.store import ChainedRecorder, eventsourcing_env
from salur_cases.store.keys import EVENT_CIPHER_TOPIC, event_store_key
from salur_cases.store.signing import HeadSigner
from salur_cases.store.transcoder import MsgspecTranscoder

HELD = 250_000
"""Households a process keeps as it last saved them in a bulk command (see `salur_cases.held`)."""
HOUSEHOLD_IDS = 1 << 19
"""Household ids a process remembers (`SalurApplication.remember_household_ids`): every command on a
household derives its id again from the No. KK, a keyed HMAC each time unless remembered. An entry is
a validated No. KK and its UUID, about 300 bytes: 524,288 of them take about 150 MB."""


class PopulationLookup(Protocol):
    """The Disdukcapil extract loaded so far, the reference for padan."""

    def loaded(self) -> bool:
        """Whether any extract has been loaded."""

    def records(self, niks: Collection[str]) -> Mapping[str, PopulationRecord]:
        """The extract's records for these NIKs (missing NIKs are absent)."""


class NoPopulation:
    """No extract loaded: registrations are not matched until one is."""

    def loaded(self) -> bool:
        """Never loaded."""
        return False

    def records(self, niks: Collection[str]) -> Mapping[str, PopulationRecord]:  # noqa: ARG002 - none loaded
        """Nothing."""
        return {}


class SalurApplication(Application[UUID]):
    """Kota Bogor's social-aid ledger."""

    name = "salur"
    is_snapshotting_enabled = False

    def __init__(
        self, settings: Settings, *, schema: str | None = None, population: PopulationLookup | None = None
    ) -> None:
        env = eventsourcing_env(settings.database_url, schema)
        env["AGGREGATE_CACHE_MAXSIZE"] = "256"  # programs are read by every command; fast-forwarded each get
        # (a program of 120 events takes about 45 KB: 256 aggregates stay within some 12 MB)
        if settings.encryption_key:
            env["CIPHER_TOPIC"] = EVENT_CIPHER_TOPIC  # eventsourcing's AES-GCM format, faster
            env["CIPHER_KEY"] = event_store_key(settings.encryption_key)  # HKDF of the secret
        self.settings = settings
        self.schema = schema
        self.population: PopulationLookup = population or NoPopulation()
        self.held = HeldAggregates(HELD)
        self.remember_household_ids(HOUSEHOLD_IDS)
        self.cores_taken = 0
        """Cores left to other work beside this process (`leaving_cores`)."""
        super().__init__(env)
        if settings.signing_key:  # signed chain heads after certifications and every checkpoint
            signer = HeadSigner(self.mapper, settings.signing_key, [Program.TahapCertified.TOPIC])
            self.recorder.head_signer = signer  # type: ignore[attr-defined]

    def construct_transcoder(self) -> Transcoder:
        """Event state as JSON through msgspec (the library's tagged format, faster)."""
        return MsgspecTranscoder()

    @property
    def chained(self) -> ChainedRecorder:
        """The recorder's bulk reads and the hash chain."""
        return cast("ChainedRecorder", self.recorder)

    # --- ids ------------------------------------------------------------------------------------

    def household_id(self, no_kk: str) -> UUID:
        """A household's id: a keyed HMAC of its No. KK (nobody can recompute it by enumeration)."""
        return self._household_uuid(no_kk)

    def remember_household_ids(self, maxsize: int) -> None:
        """Remember at most ``maxsize`` household ids from now on, the least recently used going first
        (about 300 bytes each: a No. KK is validated before its id is derived, so entries are alike)."""
        derive = functools.partial(keyed_uuid, self.settings.id_key, "kk")
        self._household_uuid: functools._lru_cache_wrapper[UUID] = functools.lru_cache(maxsize)(derive)

    @property
    def remembered_household_ids(self) -> int:
        """How many household ids are remembered now."""
        return self._household_uuid.cache_info().currsize

    def claim_id(self, nik: str) -> UUID:
        """A person claim's id: a keyed HMAC of the NIK."""
        return keyed_uuid(self.settings.id_key, "nik", nik)

    # --- reads ----------------------------------------------------------------------------------

    def household(self, no_kk: str) -> Household:
        """The household as it stands, or UNKNOWN_HOUSEHOLD."""
        try:
            return cast("Household", self.repository.get(self.household_id(parse_no_kk(no_kk))))
        except AggregateNotFoundError:
            raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK") from None

    def program(self, code: str) -> Program:
        """The program, or UNKNOWN_PROGRAM."""
        try:
            return cast("Program", self.repository.get(Program.create_id(code)))
        except AggregateNotFoundError:
            raise Refusal(RefusalCode.UNKNOWN_PROGRAM, f"no program {code}") from None

    def tahap_households(self, code: str, number: int, up_to_version: int | None = None) -> list[str]:
        """Ids of the households holding a seat in a tahap, from the program's SeatsCommitted events."""
        households: list[str] = []
        for stored in self.recorder.select_events(Program.create_id(code), lte=up_to_version):
            if stored.topic == Program.SeatsCommitted.TOPIC:
                event = cast("Program.SeatsCommitted", self.mapper.to_domain_event(stored))
                if event.tahap == number:
                    households.extend(event.households)
        return households

    def household_by_nik(self, nik: str) -> Household | None:
        """The household a NIK currently belongs to, if any (by its claim)."""
        try:
            claim = cast("PersonClaim", self.repository.get(self.claim_id(nik)))
        except AggregateNotFoundError:
            return None
        if claim.household_id is None:
            return None
        return cast("Household", self.repository.get(UUID(claim.household_id)))

    @contextmanager
    def leaving_cores(self, count: int) -> Iterator[None]:
        """While the block runs, `count` cores belong to other work beside this process (a projection
        follower): bulk commands do not fork workers for them (`salur_cases.processes.bulk.worker_count`)."""
        self.cores_taken += count
        try:
            yield
        finally:
            self.cores_taken -= count


__all__ = ["PopulationLookup", "SalurApplication"]

"""The application service: the commands behind CONTRACT.md's API, over eventsourcing.

Each command loads the aggregates it concerns, lets them decide, and saves every new event of the
command in one transaction (`Application.save` across aggregates, with optimistic concurrency on
(id, version)). Invariants that span aggregates ride on that: a tahap's seats live on its Program,
a NIK's membership on its PersonClaim, a household's overlapping programs on the Household itself.
When a concurrent writer got there first the save conflicts, and the command runs again on fresh
state (`_retrying`), where the rule now refuses it. A refusal raises before anything is saved.

Bulk commands (register many, allocate a tahap, record many payments) work through chunks of
households, one transaction per chunk, and report refused items instead of raising.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import random
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ParamSpec, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Transcoder

from salur_cases import bulk
from salur_cases.commands import Actor, PaymentItem, Proposal, RemovalItem, parse_no_kk
from salur_cases.domain.clock import today
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode, StaleVersion
from salur_cases.domain.household import Household, current_value, parse_field_path
from salur_cases.domain.padan import PopulationRecord, match_household
from salur_cases.domain.person import PersonClaim
from salur_cases.domain.program import Program, Tahap
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    ProgramGroup,
    VervalDecision,
)
from salur_cases.held import HeldAggregates
from salur_cases.identifiers import keyed_uuid
from salur_cases.logging import get_logger
from salur_cases.settings import Settings
from salur_cases.store import ChainedRecorder, eventsourcing_env
from salur_cases.store.transcoder import MsgspecTranscoder

log = get_logger(__name__)

CHUNK = 1000
"""Households per transaction in bulk commands."""
HELD = 250_000
"""Households a process keeps as it last saved them in a bulk command (see `salur_cases.held`)."""
_household_uuid = functools.lru_cache(maxsize=1 << 19)(keyed_uuid)
"""Every command on a household derives its id again from the No. KK: a keyed HMAC each time, unless
remembered (at most 524,288 ids, about 150 MB)."""

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)


class PopulationLookup(Protocol):
    """The Disdukcapil extract loaded so far (issue: intake), the reference for padan."""

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


@dataclass
class Written:
    """What a command wrote: the last position (notification id) of its events, if any."""

    position: int | None = None

    def add(self, recordings: Sequence[Any]) -> None:
        """Remember the highest position of these recordings."""
        positions = [r.notification.id for r in recordings if r.notification.id is not None]
        if positions:
            self.position = max(self.position or 0, *positions)


@dataclass
class HouseholdOutcome(Written):
    """A household command's result: the household as it now stands, and whether it is new."""

    household: Household | None = None
    created: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass
class Rejection:
    """A refused item of a bulk command: its index in the input, a code, and a message without PII."""

    index: int
    code: str
    message: str
    field: str | None = None


@dataclass
class BulkOutcome(Written):
    """A bulk command's result."""

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    created: int = 0

    def merge(self, part: BulkOutcome) -> None:
        """Add a chunk's result."""
        self.accepted += part.accepted
        self.created += part.created
        self.rejected.extend(part.rejected)
        self.warnings.extend(part.warnings)
        if part.position is not None:
            self.position = max(self.position or 0, part.position)


@dataclass
class AllocationOutcome(Written):
    """An allocation's result: how many were assigned and left out, and the last rank that got a seat."""

    assigned: int = 0
    left_out: int = 0
    cutoff: int | None = None
    warnings: list[Rejection] = field(default_factory=list)
    created: int = 0


def _retrying(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command again when a concurrent writer changed an aggregate it read."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(50):
            try:
                return func(*args, **kwargs)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter, not secrecy
        return func(*args, **kwargs)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _chunks(items: Sequence[R], size: int | None = None) -> Iterator[tuple[int, Sequence[R]]]:
    size = size or CHUNK  # read at call time, so a test can make chunks small
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


class SalurApplication(Application[UUID]):
    """Kota Bogor's social-aid ledger."""

    name = "salur"
    is_snapshotting_enabled = False

    def __init__(
        self, settings: Settings, *, schema: str | None = None, population: PopulationLookup | None = None
    ) -> None:
        env = eventsourcing_env(settings.database_url, schema)
        env["AGGREGATE_CACHE_MAXSIZE"] = "256"  # programs are read by every command; fast-forwarded each get
        if settings.encryption_key:
            key = hashlib.sha256(settings.encryption_key.encode()).digest()
            env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"  # AES-GCM from `cryptography`
            env["CIPHER_KEY"] = base64.b64encode(key).decode()
        self.settings = settings
        self.schema = schema
        self.population: PopulationLookup = population or NoPopulation()
        self.held = HeldAggregates(HELD)
        super().__init__(env)

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
        return _household_uuid(self.settings.id_key, "kk", no_kk)

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

    def _load_many(self, ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """Load the aggregates among `ids` that exist, in order: those held at their stored version as
        they are, the others by reading all their events in one query."""
        wanted = list(dict.fromkeys(ids))
        loaded = self.held.take(wanted)
        if loaded:
            stored_versions = self.chained.max_originator_versions(list(loaded))
            loaded = {i: a for i, a in loaded.items() if stored_versions.get(i) == a.version}
        for stored in self.chained.select_events_many([i for i in wanted if i not in loaded]):
            event = self.mapper.to_domain_event(stored)
            key = UUID(str(stored.originator_id))
            loaded[key] = cast("Aggregate", event.mutate(loaded.get(key)))  # type: ignore[attr-defined]
        return {i: loaded[i] for i in wanted if i in loaded}

    def _save(self, written: Written, *aggregates: Aggregate | None, hold: bool = False) -> None:
        """Save the aggregates' new events in one transaction; remember the last position written.

        `hold` keeps the saved households for the next bulk command: only for aggregates that are
        not handed back to a caller (who might read them while another command changes them).
        """
        events = [e for a in aggregates if a is not None for e in a.collect_events()]
        if events:
            positions = self.recorder.insert_events([self.mapper.to_stored_event(e) for e in events])
            if positions:
                written.position = max(written.position or 0, positions[-1])
        if hold:
            self.held.hold(a for a in aggregates if isinstance(a, Household))

    # --- programs -------------------------------------------------------------------------------

    def define_program(
        self, code: str, name: str, budget_source: BudgetSource, group: ProgramGroup, actor: Actor
    ) -> tuple[Program, Written]:
        """Define an aid program; PROGRAM_EXISTS when its code is taken."""
        code = code.strip().upper()
        if not code:
            raise InvalidCommand("code", "is required")
        if not name.strip():
            raise InvalidCommand("name", "is required")
        if Program.create_id(code) in self.chained.existing_originator_ids([Program.create_id(code)]):
            raise Refusal(RefusalCode.PROGRAM_EXISTS, f"program {code} exists")
        program = Program.define(code, name.strip(), budget_source, group, actor.name, actor.role)
        written = Written()
        try:
            self._save(written, program)
        except IntegrityError:
            raise Refusal(RefusalCode.PROGRAM_EXISTS, f"program {code} exists") from None
        return program, written

    @_retrying
    def open_tahap(
        self,
        code: str,
        number: int,
        starts_on: date,
        ends_on: date,
        quota: int,
        amount_idr: int,
        budget_ceiling_idr: int,
        decree_ref: str,
        actor: Actor,
    ) -> tuple[Tahap, Written]:
        """Open a tahap of a program."""
        if number < 1:
            raise InvalidCommand("number", "must be 1 or more")
        if ends_on < starts_on:
            raise InvalidCommand("ends_on", "must not be before starts_on")
        for name, value in (
            ("quota", quota),
            ("amount_idr", amount_idr),
            ("budget_ceiling_idr", budget_ceiling_idr),
        ):
            if value < 0:
                raise InvalidCommand(name, "must be 0 or more")
        program = self.program(code)
        program.open_tahap(
            number,
            starts_on,
            ends_on,
            quota,
            amount_idr,
            budget_ceiling_idr,
            decree_ref,
            actor.name,
            actor.role,
        )
        written = Written()
        self._save(written, program)
        return program.tahap[number], written

    # --- registration ---------------------------------------------------------------------------

    def register(self, proposal: Proposal, actor: Actor) -> HouseholdOutcome:
        """Record a proposal: a new household, or a new proposal event on the existing one."""
        outcome = self.register_many([proposal], actor)
        if outcome.rejected:
            rejection = outcome.rejected[0]
            raise Refusal(RefusalCode(rejection.code), rejection.message)
        household = self.household(proposal.no_kk)
        return HouseholdOutcome(outcome.position, household, created=outcome.created == 1)

    def register_many(self, proposals: Sequence[Proposal], actor: Actor) -> BulkOutcome:
        """Record many proposals, a chunk of households per transaction; refused ones are reported."""
        outcome = BulkOutcome()
        size = bulk.chunk_size(len(proposals), CHUNK, bulk.worker_count(self))
        bulk.run_chunks(self, "_register_chunk", list(_chunks(proposals, size)), actor, outcome)
        return outcome

    def _register_chunk(
        self, start: int, chunk: Sequence[Proposal], actor: Actor, outcome: BulkOutcome
    ) -> None:
        for attempt in range(50):
            trial = BulkOutcome()
            try:
                aggregates = self._propose_all(start, chunk, actor, trial)
                self._save(trial, *aggregates, hold=True)
                break
            except IntegrityError:
                if len(chunk) > 1 and attempt >= 1:
                    for i, single in enumerate(chunk):
                        self._register_chunk(start + i, [single], actor, outcome)
                    return
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311
        outcome.merge(trial)

    def _propose_all(
        self, start: int, chunk: Sequence[Proposal], actor: Actor, outcome: BulkOutcome
    ) -> list[Aggregate]:
        household_ids = {p.no_kk: self.household_id(p.no_kk) for p in chunk}
        claim_ids = {m.nik: self.claim_id(m.nik) for p in chunk for m in p.members}
        loaded = self._load_many([*household_ids.values(), *claim_ids.values()])
        households = {k: v for k, v in loaded.items() if isinstance(v, Household)}
        claims = {k: v for k, v in loaded.items() if isinstance(v, PersonClaim)}
        changed: dict[UUID, Aggregate] = {}
        extract = self.population.records(list(claim_ids)) if self.population.loaded() else None
        for offset, proposal in enumerate(chunk):
            hid = household_ids[proposal.no_kk]
            holder = str(hid)
            taken = [
                i
                for i, m in enumerate(proposal.members)
                if (c := claims.get(claim_ids[m.nik])) is not None and c.household_id not in (None, holder)
            ]
            if taken:
                outcome.rejected.append(
                    Rejection(
                        start + offset,
                        RefusalCode.NIK_IN_OTHER_HOUSEHOLD,
                        f"the NIK of members[{taken[0]}] belongs to another household",
                        f"members[{taken[0]}].nik",
                    )
                )
                continue
            household = households.get(hid)
            if household is None:
                household = Household.propose(
                    hid,
                    proposal.no_kk,
                    proposal.source,
                    proposal.address,
                    proposal.members,
                    actor.name,
                    actor.role,
                )
                households[hid] = household
                outcome.created += 1
            else:
                before = household.niks
                household.repropose(
                    proposal.source, proposal.address, proposal.members, actor.name, actor.role
                )
                for nik in before - household.niks:
                    self._release(claims, changed, nik, actor)
            for member in household.members:
                cid = claim_ids.get(member.nik) or self.claim_id(member.nik)
                claim = claims.get(cid)
                if claim is None:
                    claim = PersonClaim.claim(cid, holder, actor.name, actor.role)
                    claims[cid] = claim
                else:
                    claim.claim_for(holder, actor.name, actor.role)
                changed[cid] = claim
            if extract is not None:
                self._match(household, extract, "EXTRACT", actor)
            changed[hid] = household
            outcome.accepted += 1
        return list(changed.values())

    def _release(
        self, claims: dict[UUID, PersonClaim], changed: dict[UUID, Aggregate], nik: str, actor: Actor
    ) -> None:
        cid = self.claim_id(nik)
        claim = claims.get(cid) or cast("PersonClaim", self.repository.get(cid))
        claim.release(actor.name, actor.role)
        claims[cid] = changed[cid] = claim

    def _match(
        self, household: Household, extract: Mapping[str, PopulationRecord], basis: str, actor: Actor
    ) -> None:
        result = match_household(household.no_kk, household.members, extract)
        if result is not household.padan:
            household.record_padan(result, today(), basis, actor.name, actor.role)

    # --- padan and verval -----------------------------------------------------------------------

    @_retrying
    def record_padan(
        self,
        no_kk: str,
        result: PadanResult,
        checked_on: date | None,
        actor: Actor,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Record a padan result decided elsewhere (Disdukcapil's own check)."""
        household = self._household_at(no_kk, expected_version)
        household.record_padan(result, checked_on or today(), "MANUAL", actor.name, actor.role)
        return self._saved(household)

    def match_population(self, no_kks: Sequence[str], actor: Actor) -> BulkOutcome:
        """Match registered households against the loaded extract (after a population import).

        Only the ids with events are loaded (one cheap existence query per 5,000 first): an extract
        loaded before the lists, as in 2020, names hundreds of thousands of families not registered yet.
        """
        outcome = BulkOutcome()
        ids = [self.household_id(k) for k in no_kks]
        registered: set[UUID] = set()
        for _, part in _chunks(ids, 5000):
            registered |= self.chained.existing_originator_ids(part)
        for _, chunk in _chunks([i for i in ids if i in registered]):
            self._match_chunk(chunk, actor, outcome)
        return outcome

    @_retrying
    def _match_chunk(self, chunk: Sequence[UUID], actor: Actor, outcome: BulkOutcome) -> None:
        households = [cast("Household", h) for h in self._load_many(chunk).values()]
        extract = self.population.records([m.nik for h in households for m in h.members])
        for household in households:
            self._match(household, extract, "EXTRACT", actor)
        trial = Written()
        self._save(trial, *households, hold=True)
        outcome.accepted += len(households)
        outcome.position = trial.position or outcome.position

    @_retrying
    def decide_verval(
        self,
        no_kk: str,
        decision: VervalDecision,
        reason: str,
        officer: str,
        decided_on: date,
        actor: Actor,
        effective_on: date | None = None,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Record a verval decision."""
        household = self._household_at(no_kk, expected_version)
        household.decide_verval(decision, reason, officer, decided_on, effective_on, actor.name, actor.role)
        return self._saved(household)

    def decide_verval_many(
        self, items: Sequence[tuple[str, VervalDecision, str, str, date, date | None]], actor: Actor
    ) -> BulkOutcome:
        """Record many verval decisions: (no_kk, decision, reason, officer, decided_on, effective_on)."""
        outcome = BulkOutcome()
        for start, chunk in _chunks(items):
            self._verval_chunk(start, chunk, actor, outcome)
        return outcome

    @_retrying
    def _verval_chunk(
        self,
        start: int,
        chunk: Sequence[tuple[str, VervalDecision, str, str, date, date | None]],
        actor: Actor,
        outcome: BulkOutcome,
    ) -> None:
        loaded = self._load_many([self.household_id(item[0]) for item in chunk])
        trial = BulkOutcome()
        for offset, (no_kk, decision, reason, officer, decided_on, effective_on) in enumerate(chunk):
            household = cast("Household | None", loaded.get(self.household_id(no_kk)))
            if household is None:
                trial.rejected.append(
                    Rejection(start + offset, RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
                )
                continue
            household.decide_verval(
                decision, reason, officer, decided_on, effective_on, actor.name, actor.role
            )
            trial.accepted += 1
        self._save(trial, *loaded.values(), hold=True)
        outcome.merge(trial)

    # --- allocation -----------------------------------------------------------------------------

    @_retrying
    def assign(self, code: str, number: int, no_kk: str, actor: Actor) -> HouseholdOutcome:
        """Give one household a seat by the city's rule (refused when a rule or the quota says no)."""
        program = self.program(code)
        tahap = program.get_tahap(number)
        household = self.household(no_kk)
        if not household.city_proposed:
            raise Refusal(RefusalCode.NOT_ELIGIBLE, "the household has no proposal by the city")
        _seat(household, program, tahap, actor)
        program.commit_seats(number, [str(household.id)], actor.name, actor.role)
        outcome = HouseholdOutcome(household=household)
        self._save(outcome, household, program)
        return outcome

    def city_candidates(self) -> list[UUID]:
        """Every household's id, in registration order (read from the store's creation events)."""
        ids: list[UUID] = []
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 10_000, topics=[Household.Proposed.TOPIC])
            if not batch:
                return ids
            ids.extend(UUID(str(n.originator_id)) for n in batch)
            start = batch[-1].id + 1

    @_retrying
    def allocate(
        self, code: str, number: int, actor: Actor, candidates: Sequence[UUID] | None = None
    ) -> AllocationOutcome:
        """Allocate a tahap's seats by the city's rule, recording why each considered household is left out.

        Candidates are households with a city proposal, padan MATCHED, latest verval ELIGIBLE, not
        removed from the program and not receiving any program in an overlapping period. They rank:
        paid in this program's previous tahap first, then by the date of the ELIGIBLE verval, then
        registration time, then household id. The seats are what remains of the quota and the ceiling.
        A household already left out of this tahap for the same rule is not recorded again, so an
        allocation run again (or retried after a concurrent writer) adds only what is new.
        """
        program = self.program(code)
        tahap = program.get_tahap(number)
        if tahap.certified:
            raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {program.code} is certified")
        ids = list(candidates) if candidates is not None else self.city_candidates()
        previous = program.previous_tahap(number)
        eligible: list[Household] = []
        failing: list[tuple[Household, RefusalCode, str | None]] = []
        for _, chunk in _chunks(ids, 5000):
            for aggregate in self._load_many(chunk).values():
                household = cast("Household", aggregate)
                if not household.city_proposed or (program.code, number) in household.seats:
                    continue
                problem = household.city_rule_problem(program.code, number, tahap.starts_on, tahap.ends_on)
                if problem is None:
                    eligible.append(household)
                elif household.left_out.get((program.code, number)) != problem[0]:
                    failing.append((household, *problem))

        def rank_key(h: Household) -> tuple[int, date, datetime, str]:
            paid_before = previous is not None and h.paid_in(program.code, previous.number)
            return (0 if paid_before else 1, h.verval_on or date.max, h.registered_at, str(h.id))

        eligible.sort(key=rank_key)
        outcome = AllocationOutcome()
        self._commit_allocation(program.code, number, eligible, failing, actor, outcome)
        return outcome

    def _commit_allocation(
        self,
        code: str,
        number: int,
        ranked: list[Household],
        failing: list[tuple[Household, RefusalCode, str | None]],
        actor: Actor,
        outcome: AllocationOutcome,
    ) -> None:
        """Write the allocation chunk by chunk; each chunk commits its seats with its households."""
        program = self.program(code)
        tahap = program.get_tahap(number)
        seats = tahap.seats_left
        already = tahap.assigned  # before this allocation: committing a chunk raises tahap.assigned
        cutoff = already + seats
        outcome.cutoff = cutoff if ranked else None
        for start, chunk in _chunks(ranked):
            winners = []
            for offset, household in enumerate(chunk):
                rank = already + start + offset + 1
                if start + offset < seats:
                    _seat(household, program, tahap, actor, rank=rank)
                    winners.append(str(household.id))
                else:
                    household.leave_out(
                        code, number, "QUOTA_EXHAUSTED", actor.name, actor.role, rank=rank, cutoff=cutoff
                    )
            program.commit_seats(number, winners, actor.name, actor.role)
            self._save(outcome, program, *chunk, hold=True)
            outcome.assigned += len(winners)
            outcome.left_out += len(chunk) - len(winners)
        for _, failing_chunk in _chunks(failing):
            for household, code_failed, other in failing_chunk:
                household.leave_out(
                    code, number, str(code_failed), actor.name, actor.role, other_program=other
                )
            self._save(outcome, *(h for h, _, _ in failing_chunk), hold=True)
            outcome.left_out += len(failing_chunk)

    def allocate_roster(
        self, code: str, number: int, authority: str, no_kks: Sequence[str], actor: Actor
    ) -> AllocationOutcome:
        """Record an outside authority's complete list for a tahap: facts, with warnings for broken rules.

        An unknown No. KK creates a household whose source is the authority. Households paid in the
        program's previous tahap and absent from the list are left out with NOT_IN_SOURCE_LIST.
        """
        authority = authority.strip()
        if not authority:
            raise InvalidCommand("authority", "is required")
        listed_no_kks = [parse_no_kk(k, f"no_kk[{i}]") for i, k in enumerate(no_kks)]
        program = self.program(code)
        tahap = program.get_tahap(number)
        if tahap.certified:
            raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {program.code} is certified")
        outcome = AllocationOutcome()
        listed: set[UUID] = set()
        for start, chunk in _chunks(listed_no_kks):
            self._roster_chunk(program.code, number, authority, start, chunk, actor, outcome, listed)
        previous = program.previous_tahap(number)
        if previous is not None:
            earlier = self.tahap_households(program.code, previous.number)
            dropped = [UUID(h) for h in earlier if UUID(h) not in listed]
            for _, chunk_ids in _chunks(dropped):
                self._left_out_of_roster(
                    program.code, previous.number, number, authority, chunk_ids, actor, outcome
                )
        return outcome

    @_retrying
    def _roster_chunk(
        self,
        code: str,
        number: int,
        authority: str,
        start: int,
        no_kks: Sequence[str],
        actor: Actor,
        outcome: AllocationOutcome,
        listed: set[UUID],
    ) -> None:
        program = self.program(code)
        tahap = program.get_tahap(number)
        ids = {k: self.household_id(k) for k in no_kks}
        loaded = {k: cast("Household", v) for k, v in self._load_many(list(ids.values())).items()}
        trial = AllocationOutcome()
        winners: list[str] = []
        seen: set[UUID] = set()
        for offset, no_kk in enumerate(no_kks):
            hid = ids[no_kk]
            if hid in seen:
                continue
            seen.add(hid)
            household = loaded.get(hid)
            if household is None:
                household = Household.propose(
                    hid, no_kk, _authority_source(authority), None, [], actor.name, actor.role
                )
                loaded[hid] = household
                trial.created += 1
            if (code, number) in household.seats:
                continue
            warnings = _seat(household, program, tahap, actor, authority=authority)
            trial.warnings.extend(Rejection(start + offset, w, _WARNING_TEXT.get(w, w)) for w in warnings)
            winners.append(str(hid))
        if tahap.assigned + len(winners) > tahap.quota:
            trial.warnings.append(Rejection(start, "QUOTA_FULL", "the roster exceeds the tahap's quota"))
        program.commit_seats(number, winners, actor.name, actor.role, authority=authority)
        self._save(trial, program, *loaded.values(), hold=True)
        listed.update(seen)
        outcome.assigned += len(winners)
        outcome.created += trial.created
        outcome.warnings.extend(trial.warnings)
        outcome.position = trial.position or outcome.position

    @_retrying
    def _left_out_of_roster(
        self,
        code: str,
        previous: int,
        number: int,
        authority: str,
        ids: Sequence[UUID],
        actor: Actor,
        outcome: AllocationOutcome,
    ) -> None:
        households = [cast("Household", h) for h in self._load_many(ids).values()]
        dropped = [
            h
            for h in households
            if h.paid_in(code, previous)
            and (code, number) not in h.seats
            and h.left_out.get((code, number)) != "NOT_IN_SOURCE_LIST"  # a roster recorded again adds nothing
        ]
        for household in dropped:
            household.leave_out(
                code, number, "NOT_IN_SOURCE_LIST", actor.name, actor.role, authority=authority
            )
        trial = Written()
        self._save(trial, *dropped, hold=True)
        outcome.left_out += len(dropped)
        outcome.position = trial.position or outcome.position

    # --- payments -------------------------------------------------------------------------------

    def record_payments(
        self, code: str, number: int, items: Sequence[PaymentItem], actor: Actor, *, as_fact: bool = False
    ) -> BulkOutcome:
        """Record payment attempts for a tahap.

        The city's own records are refused item by item when a rule says no; a payer's report
        (`as_fact`) is recorded with the broken rules as warnings.
        """
        program = self.program(code)
        program.get_tahap(number)
        outcome = BulkOutcome()
        for start, chunk in _chunks(items):
            self._payments_chunk(program.code, number, start, chunk, actor, outcome, as_fact)
        return outcome

    @_retrying
    def _payments_chunk(
        self,
        code: str,
        number: int,
        start: int,
        items: Sequence[PaymentItem],
        actor: Actor,
        outcome: BulkOutcome,
        as_fact: bool,
    ) -> None:
        tahap = self.program(code).get_tahap(number)
        loaded = {
            k: cast("Household", v)
            for k, v in self._load_many([self.household_id(i.no_kk) for i in items]).items()
        }
        trial = BulkOutcome()
        for offset, item in enumerate(items):
            if item.amount_idr < 0:
                trial.rejected.append(
                    Rejection(start + offset, "BAD_AMOUNT", "amount must not be negative", "amount_idr")
                )
                continue
            household = loaded.get(self.household_id(item.no_kk))
            if household is None:
                trial.rejected.append(
                    Rejection(start + offset, RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
                )
                continue
            try:
                warnings = household.record_payment(
                    code,
                    number,
                    item.amount_idr,
                    item.paid_at,
                    item.status,
                    item.reference,
                    tahap.amount_idr,
                    actor.name,
                    actor.role,
                    as_fact=as_fact,
                    roster_hash=tahap.roster_hash,
                )
            except Refusal as refusal:
                trial.rejected.append(Rejection(start + offset, refusal.code, refusal.message))
                continue
            trial.warnings.extend(Rejection(start + offset, w, _WARNING_TEXT.get(w, w)) for w in warnings)
            trial.accepted += 1
        self._save(trial, *loaded.values(), hold=True)
        outcome.accepted += trial.accepted
        outcome.rejected.extend(trial.rejected)
        outcome.warnings.extend(trial.warnings)
        outcome.position = trial.position or outcome.position

    # --- removals, reinstatements, transfers ----------------------------------------------------

    @_retrying
    def remove(
        self,
        no_kk: str,
        program: str,
        tahap: int,
        authority: str,
        reason: str,
        decree_ref: str,
        actor: Actor,
        effective_on: date | None = None,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Remove a household from a program from a tahap on."""
        self.program(program).get_tahap(tahap)
        household = self._household_at(no_kk, expected_version)
        household.remove(program, tahap, authority, reason, decree_ref, effective_on, actor.name, actor.role)
        return self._saved(household)

    def remove_many(self, items: Sequence[RemovalItem], actor: Actor) -> BulkOutcome:
        """Record many removals (an authority's cleansing list), a chunk of households per transaction.

        Each refused item (unknown household, program or tahap; already removed) is reported by its
        index and changes nothing.
        """
        outcome = BulkOutcome()
        for start, chunk in _chunks(items):
            self._remove_chunk(start, chunk, actor, outcome)
        return outcome

    @_retrying
    def _remove_chunk(
        self, start: int, chunk: Sequence[RemovalItem], actor: Actor, outcome: BulkOutcome
    ) -> None:
        programs: dict[str, Program | Refusal] = {}
        for code in {item.program for item in chunk}:
            try:
                programs[code] = self.program(code)
            except Refusal as refusal:
                programs[code] = refusal
        loaded = self._load_many([self.household_id(item.no_kk) for item in chunk])
        trial = BulkOutcome()
        for offset, item in enumerate(chunk):
            try:
                program = programs[item.program]
                if isinstance(program, Refusal):
                    raise program
                program.get_tahap(item.tahap)
                household = loaded.get(self.household_id(item.no_kk))
                if not isinstance(household, Household):
                    raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
                household.remove(
                    item.program,
                    item.tahap,
                    item.authority,
                    item.reason,
                    item.decree_ref,
                    item.effective_on,
                    actor.name,
                    actor.role,
                )
            except Refusal as refusal:
                trial.rejected.append(Rejection(start + offset, refusal.code, refusal.message))
                continue
            trial.accepted += 1
        self._save(trial, *loaded.values(), hold=True)
        outcome.merge(trial)

    @_retrying
    def reinstate(
        self,
        no_kk: str,
        program: str,
        tahap: int,
        authority: str,
        reason: str,
        actor: Actor,
        effective_on: date | None = None,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Undo a removal from a tahap on."""
        self.program(program).get_tahap(tahap)
        household = self._household_at(no_kk, expected_version)
        household.reinstate(program, tahap, authority, reason, effective_on, actor.name, actor.role)
        return self._saved(household)

    @_retrying
    def transfer(
        self,
        no_kk: str,
        from_program: str,
        from_tahap: int,
        to_program: str,
        authority: str,
        reason: str,
        actor: Actor,
        effective_on: date | None = None,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Take a household out of one program from a tahap on, naming the program it goes to."""
        self.program(from_program).get_tahap(from_tahap)
        self.program(to_program)
        household = self._household_at(no_kk, expected_version)
        household.transfer(
            from_program, from_tahap, to_program, authority, reason, effective_on, actor.name, actor.role
        )
        return self._saved(household)

    # --- complaints, corrections, member moves --------------------------------------------------

    @_retrying
    def file_complaint(
        self, no_kk: str, channel: str, text: str, actor: Actor, expected_version: int | None = None
    ) -> tuple[str, HouseholdOutcome]:
        """Record an aduan; returns its id."""
        household = self._household_at(no_kk, expected_version)
        complaint_id = uuid.uuid4().hex
        household.file_complaint(complaint_id, channel, text, actor.name, actor.role)
        return complaint_id, self._saved(household)

    @_retrying
    def resolve_complaint(
        self,
        no_kk: str,
        complaint_id: str,
        outcome: str,
        note: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Answer an aduan."""
        household = self._household_at(no_kk, expected_version)
        household.resolve_complaint(complaint_id, outcome, note, actor.name, actor.role)
        return self._saved(household)

    @_retrying
    def correct(
        self,
        no_kk: str,
        field_path: str,
        new_value: str,
        evidence: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Correct one field, keeping the old value and the evidence; a NIK correction moves its claim."""
        from salur_cases.commands import parse_address, parse_date, parse_nik  # noqa: PLC0415

        household = self._household_at(no_kk, expected_version)
        section, _, attribute = parse_field_path(field_path)
        old = current_value(household, field_path)
        value = new_value.strip()
        if not value:
            raise InvalidCommand("new_value", "is required")
        claims: list[PersonClaim] = []
        if section == "members" and attribute == "nik":
            value = parse_nik(value, "new_value")
            claims = self._move_claim(household, old, value, actor)
        elif section == "members" and attribute == "birth_date":
            value = parse_date(value, "new_value").isoformat()
        elif section == "address" and attribute in {"kecamatan", "kelurahan"}:
            current = household.address.to_data() if household.address else {}
            resolved = parse_address({**current, attribute: value}, "new_value")
            value = getattr(resolved, attribute)
        if value == old:
            raise InvalidCommand("new_value", "is the current value: nothing to correct")
        household.correct(field_path, old, value, evidence, actor.name, actor.role)
        return self._saved(household, *claims)

    def _move_claim(self, household: Household, old: str | None, new: str, actor: Actor) -> list[PersonClaim]:
        holder = str(household.id)
        loaded = self._load_many([self.claim_id(new)])
        new_claim = cast("PersonClaim | None", loaded.get(self.claim_id(new)))
        if new_claim is None:
            new_claim = PersonClaim.claim(self.claim_id(new), holder, actor.name, actor.role)
        else:
            new_claim.claim_for(holder, actor.name, actor.role)
        claims = [new_claim]
        if old:
            old_claim = cast("PersonClaim", self.repository.get(self.claim_id(old)))
            old_claim.release(actor.name, actor.role)
            claims.append(old_claim)
        return claims

    @_retrying
    def move_member(
        self,
        no_kk: str,
        nik: str,
        to_no_kk: str,
        reason: str,
        evidence: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> HouseholdOutcome:
        """Move a person to another household: out of one, into the other, and the claim with them."""
        household = self._household_at(no_kk, expected_version)
        target = self.household(to_no_kk)
        if target.id == household.id:
            raise InvalidCommand("to_no_kk", "is the same household")
        member = household.move_out(nik, target.no_kk, reason, evidence, actor.name, actor.role)
        target.move_in(member, household.no_kk, reason, evidence, actor.name, actor.role)
        claim = cast("PersonClaim", self.repository.get(self.claim_id(nik)))
        claim.move_to(str(target.id), actor.name, actor.role)
        return self._saved(household, target, claim)

    # --- certification --------------------------------------------------------------------------

    @_retrying
    def certify(self, code: str, number: int, actor: Actor) -> tuple[str, int, dict[str, Any], Written]:
        """Fix a tahap's roster: its hash, the number of households, and the chain head it was fixed at."""
        program = self.program(code)
        households = self.tahap_households(program.code, number, up_to_version=program.version)
        rows = self.chained.select_chain(max(1, (self.recorder.max_notification_id() or 0)), 1)
        head = (
            {"position": rows[-1].notification_id, "hash": rows[-1].chain_hash.hex()}
            if rows
            else {"position": 0, "hash": ""}
        )
        digest = program.certify(number, households, head, actor.name, actor.role)
        written = Written()
        self._save(written, program)
        return digest, program.tahap[number].assigned, head, written

    # --- helpers --------------------------------------------------------------------------------

    def _household_at(self, no_kk: str, expected_version: int | None) -> Household:
        household = self.household(no_kk)
        if expected_version is not None and household.version != expected_version:
            raise StaleVersion(expected_version, household.version)
        return household

    def _saved(self, household: Household, *others: Aggregate) -> HouseholdOutcome:
        outcome = HouseholdOutcome(household=household)
        self._save(outcome, household, *others)
        return outcome


def _seat(
    household: Household,
    program: Program,
    tahap: Tahap,
    actor: Actor,
    *,
    authority: str | None = None,
    rank: int | None = None,
) -> list[str]:
    """Give the household a seat in this tahap of the program (see `Household.assign`)."""
    return household.assign(
        program.code,
        tahap.number,
        tahap.starts_on,
        tahap.ends_on,
        tahap.amount_idr,
        str(program.budget_source),
        tahap.decree_ref,
        actor.name,
        actor.role,
        authority=authority,
        rank=rank,
    )


def _authority_source(authority: str) -> Any:
    from salur_cases.commands import parse_source  # noqa: PLC0415
    from salur_cases.domain.household import Source  # noqa: PLC0415

    try:
        return parse_source(authority)
    except InvalidCommand:
        return Source("KEMENSOS" if "KEMENSOS" in authority.upper() else "PROVINSI", authority)


_WARNING_TEXT = {
    "NOT_MATCHED": "recorded as a fact although the household's padan is not MATCHED",
    "NOT_ELIGIBLE": "recorded as a fact although the household's latest verval is not ELIGIBLE",
    "ALREADY_RECEIVING": "recorded as a fact although the household receives another program in that period",
    "REMOVED": "recorded as a fact although the household is removed from this program",
    "NOT_ASSIGNED": "recorded as a fact although the household holds no seat in this tahap",
    "AMOUNT_ABOVE_TAHAP": "recorded as a fact although the amount is above the tahap's",
    "ALREADY_PAID": "recorded as a fact although the household is already paid in this tahap",
    "NOT_PAID": "recorded as a fact although there is no standing PAID payment to return",
}


__all__ = [
    "Actor",
    "AllocationOutcome",
    "BulkOutcome",
    "HouseholdOutcome",
    "PaymentItem",
    "PopulationLookup",
    "Proposal",
    "Rejection",
    "SalurApplication",
    "Written",
]

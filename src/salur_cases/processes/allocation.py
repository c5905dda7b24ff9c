"""Allocation: seats in a tahap, by the city's rule or from an outside authority's roster.

Every seat is committed on the Program in the same transaction as the household's `Assigned` event,
so two writers racing for the last seat conflict on the program's version and the loser is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, cast
from uuid import UUID

import msgspec

from salur_cases.domain import payloads
from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import AllocateTahap, ProposedSource, ProposeHousehold
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.household import Household, Seat
from salur_cases.domain.household.candidate import Candidate
from salur_cases.domain.parsing import parse_no_kk, parse_source
from salur_cases.domain.program import Program, Tahap
from salur_cases.processes.unit_of_work import (
    AllocationOutcome,
    HouseholdOutcome,
    Rejection,
    Written,
    chunks,
    load_households,
    retrying,
    save,
    warned,
)

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate
    from eventsourcing.persistence import StoredEvent

    from salur_cases.application import SalurApplication

LOAD_BATCH = 5000
"""Candidates loaded at once while ranking."""


@retrying
def assign(app: SalurApplication, code: str, number: int, no_kk: str, actor: Actor) -> HouseholdOutcome:
    """Give one household a seat by the city's rule (refused when a rule or the quota says no)."""
    program = app.program(code)
    tahap = program.get_tahap(number)
    household = app.household(no_kk)
    if not household.city_proposed:
        raise Refusal(RefusalCode.NOT_ELIGIBLE, "the household has no proposal by the city")
    seat(household, program, tahap, actor)
    program.commit_seats(number, [str(household.id)], actor)
    outcome = HouseholdOutcome(household=household)
    save(app, outcome, household, program)
    return outcome


def city_candidates(app: SalurApplication) -> list[UUID]:
    """Every household's id, in registration order (read from the store's creation events)."""
    ids: list[UUID] = []
    start = 1
    while True:
        batch = app.recorder.select_notifications(start, 10_000, topics=[Household.Proposed.TOPIC])
        if not batch:
            return ids
        ids.extend(UUID(str(n.originator_id)) for n in batch)
        start = batch[-1].id + 1


def allocate(
    app: SalurApplication, code: str, number: int, actor: Actor, candidates: Sequence[UUID] | None = None
) -> AllocationOutcome:
    """Allocate a tahap's seats by the city's rule, recording why each considered household is left out.

    Candidates are households with a city proposal, padan MATCHED, latest verval ELIGIBLE, not
    removed from the program and not receiving any program in an overlapping period. They rank:
    paid in this program's previous tahap first, then by the date of the ELIGIBLE verval, then
    registration time, then household id. The seats are what remains of the quota and the ceiling.
    A household already left out of this tahap for the same rule is not recorded again, so an
    allocation run again adds only what is new.

    Allocations of one program run one at a time (`serialised`, across processes on PostgreSQL), each
    reading the program after the one before it committed. When no seat is left and nothing that
    could bring a new candidate (a proposal, a padan result, a verval decision, a reinstatement) was
    recorded since the last allocation read its candidates, the allocation answers at once, nothing
    assigned and nothing recorded; with no seat left, a household already left out with
    QUOTA_EXHAUSTED is not recorded again. The whole allocation is one transaction,
    checked against the program's and every household's version (a concurrent single assignment or
    roster makes it run again on fresh state).
    """
    with app.chained.serialised(f"allocation {Program.create_id(code)}"):
        return _allocate(app, code, number, actor, candidates)


@retrying
def _allocate(
    app: SalurApplication, code: str, number: int, actor: Actor, candidates: Sequence[UUID] | None
) -> AllocationOutcome:
    program = app.program(code)
    tahap = program.get_tahap(number)
    if tahap.certified:
        raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {program.code} is certified")
    outcome = AllocationOutcome()
    if tahap.seats_left == 0 and not _new_candidates_since(app, tahap.weighed_through):
        return outcome
    weighed_through = app.recorder.max_notification_id()
    previous = program.previous_tahap(number)
    eligible: list[Candidate] = []
    failing: list[tuple[Candidate, RefusalCode, str | None]] = []
    ids = list(candidates) if candidates is not None else city_candidates(app)
    for candidate in load_candidates(app, ids).values():
        if not candidate.city_proposed or (program.code, number) in candidate.seats:
            continue
        problem = candidate.city_rule_problem(program.code, number, tahap.starts_on, tahap.ends_on)
        if problem is None:
            eligible.append(candidate)
        elif candidate.left_out.get((program.code, number)) != problem[0]:
            failing.append((candidate, *problem))

    def rank_key(c: Candidate) -> tuple[int, date, datetime, str]:
        paid_before = previous is not None and c.paid_in(program.code, previous.number)
        return (0 if paid_before else 1, c.verval_on or date.max, c.registered_at or NEVER, str(c.id))

    eligible.sort(key=rank_key)
    _decide(program, tahap, eligible, failing, actor, outcome, weighed_through)
    events = [*program.collect_events(), *(e for c in eligible for e in c.collect_events())]
    events.extend(e for c, _, _ in failing for e in c.collect_events())
    positions = app.recorder.insert_events([app.mapper.to_stored_event(e) for e in events])
    outcome.position = positions[-1] if positions else None
    return outcome


def _decide(
    program: Program,
    tahap: Tahap,
    ranked: list[Candidate],
    failing: list[tuple[Candidate, RefusalCode, str | None]],
    actor: Actor,
    outcome: AllocationOutcome,
    weighed_through: int | None,
) -> None:
    """Seat the first of the ranked, commit their seats on the program, leave out the others and why."""
    seats = tahap.seats_left
    if seats == 0:  # they still wait behind the same full tahap: record only who is new to it
        ranked = [c for c in ranked if c.left_out.get((program.code, tahap.number)) != "QUOTA_EXHAUSTED"]
    already = tahap.assigned  # before this allocation: committing seats raises tahap.assigned
    cutoff = already + seats
    outcome.cutoff = cutoff if ranked else None
    for index, candidate in enumerate(ranked):
        rank = already + index + 1
        if index < seats:
            seat = Seat(
                program.code,
                tahap.number,
                tahap.starts_on,
                tahap.ends_on,
                tahap.amount_idr,
                str(program.budget_source),
                None,
            )
            candidate.assign(seat, tahap.decree_ref, actor, rank=rank)
        else:
            candidate.leave_out(
                program.code, tahap.number, "QUOTA_EXHAUSTED", actor, rank=rank, cutoff=cutoff
            )
    winners = [str(c.id) for c in ranked[:seats]]
    for _, chunk in chunks(winners):
        program.commit_seats(tahap.number, list(chunk), actor, weighed_through=weighed_through)
    for candidate, code_failed, other in failing:
        candidate.leave_out(program.code, tahap.number, str(code_failed), actor, other_program=other)
    outcome.assigned = len(winners)
    outcome.left_out = len(ranked) - len(winners) + len(failing)


NEW_CANDIDATE_TOPICS = (
    payloads.Proposed.TOPIC,
    payloads.Reproposed.TOPIC,
    payloads.PopulationMatched.TOPIC,
    payloads.VervalDecided.TOPIC,
    payloads.Reinstated.TOPIC,
)
"""The household events that can make a household a candidate it was not (an allocation writes none)."""


def _new_candidates_since(app: SalurApplication, position: int | None) -> bool:
    """Whether a household may have become a candidate after `position` (None: never weighed)."""
    if position is None:
        return True
    return bool(app.recorder.select_notifications(position + 1, 1, topics=NEW_CANDIDATE_TOPICS))


def load_candidates(app: SalurApplication, ids: Sequence[UUID]) -> dict[UUID, Candidate]:
    """The households among `ids` as the city's rule sees them, folded from their events in bulk."""
    found: dict[UUID, Candidate] = {}
    stored_events = (e for _, chunk in chunks(ids, LOAD_BATCH) for e in app.chained.select_events_many(chunk))
    for stored in stored_events:
        key = stored.originator_id
        if not isinstance(key, UUID):
            key = UUID(str(key))
        candidate = found.get(key)
        if candidate is None:
            candidate = found[key] = Candidate(key)
        if stored.topic in FOLDED:
            candidate.apply(stored.originator_version, *_decoded(app, stored))
        else:
            candidate.apply(stored.originator_version, None, None)
    return found


NEVER = datetime.max.replace(tzinfo=UTC)
"""Ranks after every registration time."""
FOLDED = frozenset(t for t in payloads.PAYLOADS if t.startswith("salur:household.")) - {
    payloads.MembersRecorded.TOPIC,
    payloads.ComplaintFiled.TOPIC,
    payloads.ComplaintResolved.TOPIC,
    payloads.Corrected.TOPIC,
    payloads.MemberMovedOut.TOPIC,
    payloads.MemberMovedIn.TOPIC,
}
"""The household events a candidate's standing is folded from (the others only count its version)."""
_STATE = msgspec.json.Decoder()


def _decoded(app: SalurApplication, stored: StoredEvent) -> tuple[datetime, payloads.Payload]:
    """A stored event's recorded time and payload, decoded straight from its (decrypted) msgspec JSON;
    through the application's mapper when it is compressed or due an upcast."""
    state = app.mapper.cipher.decrypt(stored.state) if app.mapper.cipher else stored.state
    data = None if app.mapper.compressor else _STATE.decode(state)
    if data is None or "class_version" in data:
        event = cast("Aggregate.Event", app.mapper.to_domain_event(stored))
        return event.timestamp, msgspec.convert(vars(event), payloads.payload_type(stored.topic))
    recorded_at = datetime.fromisoformat(data.pop("timestamp")["_data_"])
    for key, value in data.items():
        if type(value) is dict and "_type_" in value:  # a tagged date, time or id: msgspec parses its text
            data[key] = value["_data_"]
    return recorded_at, msgspec.convert(data, payloads.payload_type(stored.topic))


def allocate_tahap(
    app: SalurApplication, code: str, number: int, command: AllocateTahap, actor: Actor
) -> AllocationOutcome:
    """Allocate by the city's rule (`{}`), or record the outside list the command names with its
    authority and its berlaku."""
    if command.authority is None and command.no_kk is None:
        if command.effective_on is not None:
            raise InvalidCommand("effective_on", "applies to an outside list only")
        return allocate(app, code, number, actor)
    if command.authority is None or command.no_kk is None:
        missing = "authority" if command.authority is None else "no_kk"
        raise InvalidCommand(missing, "an outside list needs both authority and no_kk")
    return allocate_roster(app, code, number, command.authority, command.no_kk, actor, command.effective_on)


def allocate_roster(
    app: SalurApplication,
    code: str,
    number: int,
    authority: str,
    no_kks: Sequence[str],
    actor: Actor,
    effective_on: date | None = None,
) -> AllocationOutcome:
    """Record an outside authority's complete list for a tahap: facts, with warnings for broken rules.

    An unknown No. KK creates a household whose source is the authority. Households paid in the
    program's previous tahap and absent from the list are left out with NOT_IN_SOURCE_LIST. The
    date the list takes effect (its `berlaku`), when given, is recorded on every seat and every
    NOT_IN_SOURCE_LIST, so an explanation can say from when.
    """
    authority = authority.strip()
    if not authority:
        raise InvalidCommand("authority", "is required")
    listed_no_kks = [parse_no_kk(k, f"no_kk[{i}]") for i, k in enumerate(no_kks)]
    program = app.program(code)
    tahap = program.get_tahap(number)
    if tahap.certified:
        raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {program.code} is certified")
    outcome = AllocationOutcome()
    listed: set[UUID] = set()
    for start, chunk in chunks(listed_no_kks):
        _roster_chunk(
            app, program.code, number, authority, start, chunk, actor, outcome, listed, effective_on
        )
    previous = program.previous_tahap(number)
    if previous is not None:
        earlier = app.tahap_households(program.code, previous.number)
        dropped = [UUID(h) for h in earlier if UUID(h) not in listed]
        for _, chunk_ids in chunks(dropped):
            _left_out_of_roster(
                app, program.code, previous.number, number, authority, chunk_ids, actor, outcome, effective_on
            )
    return outcome


@retrying
def _roster_chunk(
    app: SalurApplication,
    code: str,
    number: int,
    authority: str,
    start: int,
    no_kks: Sequence[str],
    actor: Actor,
    outcome: AllocationOutcome,
    listed: set[UUID],
    effective_on: date | None,
) -> None:
    program = app.program(code)
    tahap = program.get_tahap(number)
    ids = {k: app.household_id(k) for k in no_kks}
    loaded = load_households(app, list(ids.values()))
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
            household = Household.propose(hid, ProposeHousehold(no_kk, _authority_source(authority)), actor)
            loaded[hid] = household
            trial.created += 1
        if (code, number) in household.seats:
            continue
        warnings = seat(household, program, tahap, actor, authority=authority, effective_on=effective_on)
        trial.warnings.extend(warned(start + offset, warnings))
        winners.append(str(hid))
    if tahap.assigned + len(winners) > tahap.quota:
        trial.warnings.append(Rejection(start, "QUOTA_FULL", "the roster exceeds the tahap's quota"))
    program.commit_seats(number, winners, actor, authority=authority)
    save(app, trial, program, *loaded.values(), hold=True)
    listed.update(seen)
    outcome.assigned += len(winners)
    outcome.created += trial.created
    outcome.warnings.extend(trial.warnings)
    outcome.position = trial.position or outcome.position


@retrying
def _left_out_of_roster(
    app: SalurApplication,
    code: str,
    previous: int,
    number: int,
    authority: str,
    ids: Sequence[UUID],
    actor: Actor,
    outcome: AllocationOutcome,
    effective_on: date | None,
) -> None:
    households = load_households(app, ids).values()
    dropped = [
        h
        for h in households
        if h.paid_in(code, previous)
        and (code, number) not in h.seats
        and h.left_out.get((code, number)) != "NOT_IN_SOURCE_LIST"  # a roster recorded again adds nothing
    ]
    for household in dropped:
        household.leave_out(
            code, number, "NOT_IN_SOURCE_LIST", actor, authority=authority, effective_on=effective_on
        )
    trial = Written()
    save(app, trial, *dropped, hold=True)
    outcome.left_out += len(dropped)
    outcome.position = trial.position or outcome.position


def seat(
    household: Household,
    program: Program,
    tahap: Tahap,
    actor: Actor,
    *,
    authority: str | None = None,
    rank: int | None = None,
    effective_on: date | None = None,
) -> list[str]:
    """Give the household a seat in this tahap of the program (see `Household.assign`)."""
    return household.assign(
        program.code,
        str(program.budget_source),
        tahap,
        actor,
        authority=authority,
        rank=rank,
        effective_on=effective_on,
    )


def _authority_source(authority: str) -> ProposedSource:
    """The source of a household first named by an outside roster: the authority, as a source kind."""
    try:
        source = parse_source(authority)
    except InvalidCommand:
        return ProposedSource("KEMENSOS" if "KEMENSOS" in authority.upper() else "PROVINSI", authority)
    return ProposedSource(source.kind, source.reference)

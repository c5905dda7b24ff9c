"""Allocation: seats in a tahap, by the city's rule or from an outside authority's roster.

Every seat is committed on the Program in the same transaction as the household's `Assigned` event,
so two writers racing for the last seat conflict on the program's version and the loser is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from salur_cases.commands import parse_no_kk, parse_source
from salur_cases.domain.actor import Actor
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.household import Household, Source
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


@retrying
def allocate(
    app: SalurApplication, code: str, number: int, actor: Actor, candidates: Sequence[UUID] | None = None
) -> AllocationOutcome:
    """Allocate a tahap's seats by the city's rule, recording why each considered household is left out.

    Candidates are households with a city proposal, padan MATCHED, latest verval ELIGIBLE, not
    removed from the program and not receiving any program in an overlapping period. They rank:
    paid in this program's previous tahap first, then by the date of the ELIGIBLE verval, then
    registration time, then household id. The seats are what remains of the quota and the ceiling.
    A household already left out of this tahap for the same rule is not recorded again, so an
    allocation run again (or retried after a concurrent writer) adds only what is new.
    """
    program = app.program(code)
    tahap = program.get_tahap(number)
    if tahap.certified:
        raise Refusal(RefusalCode.TAHAP_CERTIFIED, f"tahap {number} of {program.code} is certified")
    ids = list(candidates) if candidates is not None else city_candidates(app)
    previous = program.previous_tahap(number)
    eligible: list[Household] = []
    failing: list[tuple[Household, RefusalCode, str | None]] = []
    for _, chunk in chunks(ids, LOAD_BATCH):
        for household in load_households(app, chunk).values():
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
    _commit_allocation(app, program.code, number, eligible, failing, actor, outcome)
    return outcome


def _commit_allocation(
    app: SalurApplication,
    code: str,
    number: int,
    ranked: list[Household],
    failing: list[tuple[Household, RefusalCode, str | None]],
    actor: Actor,
    outcome: AllocationOutcome,
) -> None:
    """Write the allocation chunk by chunk; each chunk commits its seats with its households."""
    program = app.program(code)
    tahap = program.get_tahap(number)
    seats = tahap.seats_left
    already = tahap.assigned  # before this allocation: committing a chunk raises tahap.assigned
    cutoff = already + seats
    outcome.cutoff = cutoff if ranked else None
    for start, chunk in chunks(ranked):
        winners = []
        for offset, household in enumerate(chunk):
            rank = already + start + offset + 1
            if start + offset < seats:
                seat(household, program, tahap, actor, rank=rank)
                winners.append(str(household.id))
            else:
                household.leave_out(code, number, "QUOTA_EXHAUSTED", actor, rank=rank, cutoff=cutoff)
        program.commit_seats(number, winners, actor)
        save(app, outcome, program, *chunk, hold=True)
        outcome.assigned += len(winners)
        outcome.left_out += len(chunk) - len(winners)
    for _, failing_chunk in chunks(failing):
        for household, code_failed, other in failing_chunk:
            household.leave_out(code, number, str(code_failed), actor, other_program=other)
        save(app, outcome, *(h for h, _, _ in failing_chunk), hold=True)
        outcome.left_out += len(failing_chunk)


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
            household = Household.propose(hid, no_kk, _authority_source(authority), None, [], actor)
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
        tahap.number,
        tahap.starts_on,
        tahap.ends_on,
        tahap.amount_idr,
        str(program.budget_source),
        tahap.decree_ref,
        actor,
        authority=authority,
        rank=rank,
        effective_on=effective_on,
    )


def _authority_source(authority: str) -> Source:
    """The source of a household first named by an outside roster: the authority, as a source kind."""
    try:
        return parse_source(authority)
    except InvalidCommand:
        return Source("KEMENSOS" if "KEMENSOS" in authority.upper() else "PROVINSI", authority)

"""Registration: households proposed by their sources, their members' claims, corrections, member moves.

A registration writes the household and its members' PersonClaims together, so two households racing
for a NIK conflict on the claim and the loser is refused (NIK_IN_OTHER_HOUSEHOLD). With a population
extract loaded, each registered household is matched against it at once (padan).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import CorrectHousehold, MoveMember, ProposeHousehold
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.household import Household, current_value, parse_field_path
from salur_cases.domain.parsing import parse_address, parse_date, parse_nik
from salur_cases.domain.person import PersonClaim
from salur_cases.processes import bulk, padan, unit_of_work
from salur_cases.processes.unit_of_work import (
    ATTEMPTS,
    BulkOutcome,
    HouseholdOutcome,
    Rejection,
    backoff,
    chunks,
    household_at,
    load_many,
    retrying,
    save,
    saved,
)

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication


def register(app: SalurApplication, proposal: ProposeHousehold, actor: Actor) -> HouseholdOutcome:
    """Record a proposal: a new household, or a new proposal event on the existing one."""
    outcome = register_many(app, [proposal], actor)
    if outcome.rejected:
        rejection = outcome.rejected[0]
        raise Refusal(RefusalCode(rejection.code), rejection.message)
    household = app.household(proposal.no_kk)
    return HouseholdOutcome(outcome.position, household, created=outcome.created == 1)


def register_many(app: SalurApplication, proposals: Sequence[ProposeHousehold], actor: Actor) -> BulkOutcome:
    """Record many proposals, a chunk of households per transaction; refused ones are reported."""
    outcome = BulkOutcome()
    size = bulk.chunk_size(len(proposals), unit_of_work.CHUNK, bulk.worker_count(app))
    bulk.run_chunks(app, register_chunk, list(chunks(proposals, size)), actor, outcome)
    return outcome


def register_chunk(
    app: SalurApplication, start: int, chunk: Sequence[ProposeHousehold], actor: Actor, outcome: BulkOutcome
) -> None:
    """One transaction of `register_many`; after repeated conflicts, one transaction per proposal."""
    for attempt in range(ATTEMPTS):
        trial = BulkOutcome()
        try:
            aggregates = _propose_all(app, start, chunk, actor, trial)
            save(app, trial, *aggregates, hold=True)
            break
        except IntegrityError:
            if len(chunk) > 1 and attempt >= 1:
                for i, single in enumerate(chunk):
                    register_chunk(app, start + i, [single], actor, outcome)
                return
            backoff(attempt)
    outcome.merge(trial)


def _propose_all(
    app: SalurApplication, start: int, chunk: Sequence[ProposeHousehold], actor: Actor, outcome: BulkOutcome
) -> list[Aggregate]:
    household_ids = {p.no_kk: app.household_id(p.no_kk) for p in chunk}
    claim_ids = {m.nik: app.claim_id(m.nik) for p in chunk for m in p.members}
    loaded = load_many(app, [*household_ids.values(), *claim_ids.values()])
    households = {k: v for k, v in loaded.items() if isinstance(v, Household)}
    claims = {k: v for k, v in loaded.items() if isinstance(v, PersonClaim)}
    changed: dict[UUID, Aggregate] = {}
    extract = app.population.records(list(claim_ids)) if app.population.loaded() else None
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
            household = Household.propose(hid, proposal, actor)
            households[hid] = household
            outcome.created += 1
        else:
            before = household.niks
            household.repropose(proposal, actor)
            for nik in before - household.niks:
                _release(app, claims, changed, nik, actor)
        for member in household.members:
            cid = claim_ids.get(member.nik) or app.claim_id(member.nik)
            claim = claims.get(cid)
            if claim is None:
                claim = PersonClaim.claim(cid, holder, actor)
                claims[cid] = claim
            else:
                claim.claim_for(holder, actor)
            changed[cid] = claim
        if extract is not None:
            padan.match(household, extract, actor)
        changed[hid] = household
        outcome.accepted += 1
    return list(changed.values())


def _release(
    app: SalurApplication,
    claims: dict[UUID, PersonClaim],
    changed: dict[UUID, Aggregate],
    nik: str,
    actor: Actor,
) -> None:
    cid = app.claim_id(nik)
    claim = claims.get(cid) or cast("PersonClaim", app.repository.get(cid))
    claim.release(actor)
    claims[cid] = changed[cid] = claim


@retrying
def correct(
    app: SalurApplication,
    no_kk: str,
    correction: CorrectHousehold,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Correct one field, keeping the old value and the evidence; a NIK correction moves its claim."""
    household = household_at(app, no_kk, expected_version)
    section, _, attribute = parse_field_path(correction.field)
    old = current_value(household, correction.field)
    value = correction.new_value.strip()
    if not value:
        raise InvalidCommand("new_value", "is required")
    claims: list[PersonClaim] = []
    if section == "members" and attribute == "nik":
        value = parse_nik(value, "new_value")
        claims = _move_claim(app, household, old, value, actor)
    elif section == "members" and attribute == "birth_date":
        value = parse_date(value, "new_value").isoformat()
    elif section == "address" and attribute in {"kecamatan", "kelurahan"}:
        current = household.address.to_data() if household.address else {}
        resolved = parse_address({**current, attribute: value}, "new_value")
        value = getattr(resolved, attribute)
    if value == old:
        raise InvalidCommand("new_value", "is the current value: nothing to correct")
    household.correct(msgspec.structs.replace(correction, new_value=value), old, actor)
    return saved(app, household, *claims)


def _move_claim(
    app: SalurApplication, household: Household, old: str | None, new: str, actor: Actor
) -> list[PersonClaim]:
    holder = str(household.id)
    loaded = load_many(app, [app.claim_id(new)])
    new_claim = cast("PersonClaim | None", loaded.get(app.claim_id(new)))
    if new_claim is None:
        new_claim = PersonClaim.claim(app.claim_id(new), holder, actor)
    else:
        new_claim.claim_for(holder, actor)
    claims = [new_claim]
    if old:
        old_claim = cast("PersonClaim", app.repository.get(app.claim_id(old)))
        old_claim.release(actor)
        claims.append(old_claim)
    return claims


@retrying
def move_member(
    app: SalurApplication,
    no_kk: str,
    move: MoveMember,
    actor: Actor,
    expected_version: int | None = None,
) -> HouseholdOutcome:
    """Move a person to another household: out of one, into the other, and the claim with them."""
    household = household_at(app, no_kk, expected_version)
    target = app.household(move.to_no_kk)
    if target.id == household.id:
        raise InvalidCommand("to_no_kk", "is the same household")
    member = household.move_out(move, actor)
    target.move_in(member, household.no_kk, move, actor)
    claim = cast("PersonClaim", app.repository.get(app.claim_id(move.nik)))
    claim.move_to(str(target.id), actor)
    return saved(app, household, target, claim)

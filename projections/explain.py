"""The explain engine: why a household's aid changed between two tahap (the `explain` answer).

It reads only recorded facts from the read models (the household's timeline and the programs'
tahap) and cites, for every reason, an event of this household (for PROGRAM_ENDED, the program's
own record of its last tahap) recorded no later than the decision it explains. "Receiving" in a
tahap means a PAID payment stands in it and no standing removal or transfer covers it, as the
household's status says. Each reason carries the recorded facts (reason text, officer or actor,
authority, decree, effective date, recorded time) in its own JSON fields, and a plain sentence
rendered from them (`salur_cases.projections.texts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

import msgspec
from sqlalchemy import bindparam, func, select

from salur_cases import tables as t
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.vocabulary import SourceKind
from salur_cases.projections.padan_detail import member_detail
from salur_cases.projections.projector import wib_date
from salur_cases.projections.queries import household_id, iso, lookup_nik
from salur_cases.projections.schemas import ExplainRead, ReasonRead
from salur_cases.projections.story import Item, Seat, Story, Withdrawal
from salur_cases.projections.texts import next_step, reason_text, summary
from salur_cases.runtime import Runtime

STILL_RECEIVING, DROPPED, STARTED = "STILL_RECEIVING", "DROPPED", "STARTED"
NEVER_RECEIVED, AWAITING_PAYMENT = "NEVER_RECEIVED", "AWAITING_PAYMENT"
LEFT_OUT_REASONS = {
    "QUOTA_EXHAUSTED": "QUOTA_EXHAUSTED",
    "NOT_IN_SOURCE_LIST": "NOT_IN_SOURCE_LIST",
    "ALREADY_RECEIVING": "DUPLICATE_RECIPIENT",
    "NOT_MATCHED": "POPULATION_MISMATCH",
    "NOT_ELIGIBLE": "VERVAL_INELIGIBLE",
    "REMOVED": "REMOVED_BY_AUTHORITY",
}
"""A recorded left-out code -> the reason code it explains."""
REASON_FIELDS = ReasonRead.__struct_fields__
"""Every reason carries the keys `ReasonRead` documents (None where a fact does not apply)."""


@dataclass(frozen=True)
class TahapInfo:
    """An opened tahap of a program, as the read model holds it."""

    number: int
    starts_on: date
    ends_on: date
    opened_at: datetime
    opened_event_id: str
    decree_ref: str


@dataclass
class ProgramInfo:
    """A program's name and opened tahap."""

    code: str
    name: str
    tahap: dict[int, TahapInfo] = field(default_factory=dict)


def explain(
    runtime: Runtime,
    no_kk: str,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
    lang: str = "id",
) -> Item:
    """Why the household's aid changed from `from_tahap` to `to_tahap` of `program` (the API's JSON)."""
    return explain_household(runtime, household_id(runtime, no_kk), program, from_tahap, to_tahap, lang)


def explain_read(
    runtime: Runtime,
    no_kk: str,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
    lang: str = "id",
) -> ExplainRead:
    """`explain` as the API serves it: decoded into `ExplainRead`, so a fact of another type than the
    schema documents fails here instead of reaching a client."""
    answer = explain(runtime, no_kk, program, from_tahap, to_tahap, lang)
    return msgspec.convert(answer, ExplainRead)


def explain_household(
    runtime: Runtime,
    hid: str,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
    lang: str = "id",
) -> Item:
    """`explain` for a household id (the citizen's self-check knows the id, not the No. KK)."""
    return explain_story(runtime, hid, program, from_tahap, to_tahap, lang)[0]


def explain_story(
    runtime: Runtime,
    hid: str,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
    lang: str = "id",
) -> tuple[Item, Story]:
    """The explanation and the household's folded story it was read from (the letter needs both)."""
    if from_tahap is not None and to_tahap is not None and from_tahap > to_tahap:
        raise InvalidCommand("from_tahap", "must not be after to_tahap")
    events, programs = _read(runtime, hid, program)
    story = Story.of(events)
    names = {code: info.name for code, info in programs.items()}
    if program is None:
        ranked = story.programs_by_recency()
        program = ranked[0] if ranked else None
    if program is None:
        reasons = _eligibility(runtime, story, story.position_at(None), None, None)
        return _answer(story.no_kk, None, None, None, NEVER_RECEIVED, reasons, [], lang, names), story
    info = programs[program]
    first, last = _tahap_pair(story, program, sorted(info.tahap), from_tahap, to_tahap)
    was, now = story.receiving(program, first), story.receiving(program, last)
    seat = story.seats.get((program, last))
    pending = seat is not None and not seat.payments and story.covering(program, last) is None
    if now:
        outcome = STILL_RECEIVING if was else STARTED
    elif pending:
        outcome = AWAITING_PAYMENT
    else:
        outcome = DROPPED if was else NEVER_RECEIVED
    reasons = [] if now else _reasons(runtime, story, info, last)
    paid = _payments(story, program, first, last)
    return _answer(story.no_kk, program, first, last, outcome, reasons, paid, lang, names), story


_TIMELINE = (
    select(
        t.timeline.c.position,
        t.timeline.c.event_id,
        t.timeline.c.type,
        t.timeline.c.recorded_at,
        t.timeline.c.effective_on,
        t.timeline.c.actor,
        t.timeline.c.data,
    )
    .where(t.timeline.c.aggregate_id == bindparam("hid"))
    .order_by(t.timeline.c.position)
)
"""A household's timeline (built once: building a statement costs more than running a cached one)."""
_TAHAP = select(
    t.programs.c.code,
    t.programs.c.name,
    t.program_tahap.c.tahap,
    t.program_tahap.c.starts_on,
    t.program_tahap.c.ends_on,
    t.program_tahap.c.opened_at,
    t.program_tahap.c.opened_event_id,
    t.program_tahap.c.decree_ref,
).outerjoin(t.program_tahap, t.program_tahap.c.program == t.programs.c.code)
"""Every program, with the tahap it opened."""
_ROSTER = select(func.min(t.tahap_roster.c.assigned_at), func.max(t.tahap_roster.c.authority)).where(
    t.tahap_roster.c.program == bindparam("program"), t.tahap_roster.c.tahap == bindparam("tahap")
)
"""When a tahap's seats were first given, and by which outside authority (None: the city's rule)."""


def _read(runtime: Runtime, hid: str, program: str | None) -> tuple[list[Item], dict[str, ProgramInfo]]:
    with runtime.reader.connect() as conn:
        events = [dict(r._mapping) for r in conn.execute(_TIMELINE, {"hid": hid})]
        if not events:
            raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
        programs: dict[str, ProgramInfo] = {}
        for r in conn.execute(_TAHAP):
            info = programs.setdefault(r.code, ProgramInfo(r.code, r.name))
            if r.tahap is not None:
                info.tahap[r.tahap] = TahapInfo(
                    r.tahap, r.starts_on, r.ends_on, r.opened_at, r.opened_event_id, r.decree_ref
                )
    if program is not None and program not in programs:
        raise Refusal(RefusalCode.UNKNOWN_PROGRAM, f"no program {program}")
    return events, programs


def _roster(runtime: Runtime, program: str, tahap: int) -> tuple[datetime | None, str | None]:
    with runtime.reader.connect() as conn:
        row = conn.execute(_ROSTER, {"program": program, "tahap": tahap}).first()
    return (row[0], row[1]) if row else (None, None)


def _tahap_pair(
    story: Story, program: str, opened: list[int], from_tahap: int | None, to_tahap: int | None
) -> tuple[int, int]:
    """The two tahap to compare; without numbers, the household's latest change in the program.

    A `from_tahap` the program never opened, or a `to_tahap` inside its range that it skipped, is
    invalid; a `to_tahap` after its last tahap is answered (PROGRAM_ENDED).
    """
    if from_tahap is not None and from_tahap not in opened:
        raise InvalidCommand("from_tahap", f"{program} has no tahap {from_tahap}", code="UNKNOWN_TAHAP")
    if to_tahap is not None and to_tahap not in opened and opened and to_tahap < opened[-1]:
        raise InvalidCommand("to_tahap", f"{program} has no tahap {to_tahap}", code="UNKNOWN_TAHAP")
    if from_tahap is not None and to_tahap is not None:
        return from_tahap, to_tahap
    if to_tahap is not None:
        earlier = [n for n in opened if n < to_tahap]
        return (earlier[-1] if earlier else to_tahap), to_tahap
    if from_tahap is not None:
        later = [n for n in opened if n > from_tahap]
        return from_tahap, (later[-1] if later else from_tahap)
    touched = story.tahap_touched(program)
    last = max(touched) if touched else (opened[-1] if opened else 1)
    relevant = [n for n in opened if n <= last] or [last]
    for before, after in reversed(list(pairwise(relevant))):
        if story.receiving(program, before) != story.receiving(program, after):
            return before, after
    return relevant[-1], relevant[-1]


def _reasons(runtime: Runtime, story: Story, info: ProgramInfo, tahap: int) -> list[Item]:
    """Why the household is not receiving `info`'s program in `tahap`: each reason cites its event."""
    program = info.code
    if tahap not in info.tahap:
        return [_ended(info, tahap)]
    cover = story.covering(program, tahap)
    seat = story.seats.get((program, tahap))
    if cover is not None:
        return [_withdrawal(cover, program, tahap, seat)]
    if seat is not None:
        return [_payment(seat, program, tahap)]
    left_out = story.left_out.get((program, tahap))
    if left_out is not None:
        return [_left_out(runtime, story, left_out, program, tahap, info.tahap[tahap])]
    return _unconsidered(runtime, story, program, tahap, info.tahap[tahap])


def _ended(info: ProgramInfo, tahap: int) -> Item:
    last = info.tahap[max(info.tahap)] if info.tahap else None
    if last is None:
        return _reason("PROGRAM_ENDED", None, program=info.code, tahap=tahap)
    return _reason(
        "PROGRAM_ENDED",
        None,
        program=info.code,
        tahap=tahap,
        at=iso(last.opened_at),
        event_id=last.opened_event_id,
        decree_ref=last.decree_ref,
        last_tahap=last.number,
        ends_on=last.ends_on.isoformat(),
    )


def _withdrawal(cover: Withdrawal, program: str, tahap: int, seat: Seat | None) -> Item:
    data = cover.event["data"]
    common: Item = {
        "program": program,
        "tahap": tahap,
        "authority": data["authority"],
        "reason": data.get("reason"),
    }
    if cover.transfer:
        return _reason("TRANSFERRED", cover.event, to_program=data["to_program"], **common)
    paid = seat.standing_payment if seat is not None else None
    after_payment: Item = {}
    if paid is not None and paid["position"] < cover.event["position"]:
        after_payment = {"paid_on": _paid_on(paid), "amount_idr": paid["data"]["amount_idr"]}
    return _reason(
        "REMOVED_BY_AUTHORITY", cover.event, decree_ref=data["decree_ref"], **common, **after_payment
    )


def _payment(seat: Seat, program: str, tahap: int) -> Item:
    if seat.payments:
        last = seat.payments[-1]
        return _reason(
            "PAYMENT_FAILED",
            last,
            program=program,
            tahap=tahap,
            result=last["data"]["status"],
            reference=last["data"]["reference"],
            amount_idr=last["data"]["amount_idr"],
            paid_on=_paid_on(last),
        )
    data = seat.assigned["data"]
    return _reason(
        "PAYMENT_PENDING",
        seat.assigned,
        program=program,
        tahap=tahap,
        authority=data["authority"],
        decree_ref=data["decree_ref"],
        amount_idr=data["amount_idr"],
    )


def _left_out(  # noqa: PLR0911 - one answer per recorded left-out code
    runtime: Runtime, story: Story, event: Item, program: str, tahap: int, info: TahapInfo
) -> Item:
    data = event["data"]
    code = LEFT_OUT_REASONS.get(data["code"], data["code"])
    position = event["position"]
    common: Item = {"program": program, "tahap": tahap, "authority": data["authority"]}
    if code == "QUOTA_EXHAUSTED":
        return _reason(code, event, rank=data["rank"], cutoff=data["cutoff"], **common)
    if code == "DUPLICATE_RECIPIENT":
        other = story.overlapping_seat(program, info.starts_on, info.ends_on, position)
        if other is not None:
            return _duplicate(other, program, tahap)
        return _reason(code, event, other_program=data["other_program"], **common)
    if code == "POPULATION_MISMATCH":
        return _padan(runtime, story, story.latest_before(story.padan, position), event, program, tahap)
    if code == "VERVAL_INELIGIBLE":
        return _verval(story.latest_before(story.verval, position), event, program, tahap)
    if code == "REMOVED_BY_AUTHORITY":
        cover = story.covering(program, tahap, before=position)
        if cover is not None:
            return _withdrawal(cover, program, tahap, None)
    return _reason(code, event, **common)


def _duplicate(other: Seat, program: str, tahap: int) -> Item:
    data = other.assigned["data"]
    return _reason(
        "DUPLICATE_RECIPIENT",
        other.assigned,
        program=program,
        tahap=tahap,
        authority=data["authority"],
        decree_ref=data["decree_ref"],
        other_program=data["program"],
        other_tahap=data["tahap"],
    )


def _padan(
    runtime: Runtime, story: Story, padan: Item | None, fallback: Item, program: str | None, tahap: int | None
) -> Item:
    if padan is None:
        return _reason("POPULATION_MISMATCH", fallback, program=program, tahap=tahap)
    members = story.members_at.get(padan["position"], story.members)
    return _reason(
        "POPULATION_MISMATCH",
        padan,
        program=program,
        tahap=tahap,
        result=padan["data"]["result"],
        detail=member_detail(runtime, story.no_kk, members),
    )


def _verval(verval: Item | None, fallback: Item, program: str | None, tahap: int | None) -> Item:
    if verval is None:
        return _reason("VERVAL_INELIGIBLE", fallback, program=program, tahap=tahap)
    data = verval["data"]
    return _reason(
        "VERVAL_INELIGIBLE",
        verval,
        program=program,
        tahap=tahap,
        result=data["decision"],
        reason=data["reason"],
        officer=data["officer"],
        decided_on=str(data["decided_on"]),
    )


def _eligibility(
    runtime: Runtime, story: Story, position: int, program: str | None, tahap: int | None
) -> list[Item]:
    """The city's rules the household failed as recorded before `position` (padan, then verval)."""
    proposal = story.latest_before(story.proposals, position) or story.events[0]
    padan = story.latest_before(story.padan, position)
    verval = story.latest_before(story.verval, position)
    reasons: list[Item] = []
    if padan is None or padan["data"]["result"] != "MATCHED":
        reasons.append(_padan(runtime, story, padan, proposal, program, tahap))
    if verval is None or verval["data"]["decision"] != "ELIGIBLE":
        reasons.append(_verval(verval, proposal, program, tahap))
    return reasons


def _unconsidered(runtime: Runtime, story: Story, program: str, tahap: int, info: TahapInfo) -> list[Item]:
    """No decision names the household in this tahap: the outside roster that left it out, or the
    city's rule it failed when the tahap's seats were given."""
    first_seat_at, authority = _roster(runtime, program, tahap)
    position = story.position_at(first_seat_at)
    if authority is not None:
        proposal = story.latest_before(story.proposals, position) or story.proposals[0]
        return [
            _reason(
                "NOT_IN_SOURCE_LIST",
                proposal,
                program=program,
                tahap=tahap,
                authority=authority,
                decided_on=wib_date(first_seat_at).isoformat() if first_seat_at else None,
            )
        ]
    reasons = _eligibility(runtime, story, position, program, tahap)
    cover = story.covering(program, tahap, before=position)
    if cover is not None:
        reasons.append(_withdrawal(cover, program, tahap, None))
    other = story.overlapping_seat(program, info.starts_on, info.ends_on, position)
    if other is not None:
        reasons.append(_duplicate(other, program, tahap))
    if not reasons:
        reasons.append(_not_considered(story, program, tahap, position, first_seat_at))
    return reasons


def _not_considered(
    story: Story, program: str, tahap: int, position: int, first_seat_at: datetime | None
) -> Item:
    """No allocation of a city tahap weighed the household although no rule kept it out: it was not
    proposed by the city, or the seats were given without it, or the allocation has not run yet."""
    proposal = story.latest_before(story.proposals, position) or story.proposals[0]
    if not any(_city_source(p["data"]["source_kind"]) for p in story.proposals if p["position"] < position):
        why = "NOT_CITY_PROPOSED"
    else:
        why = "NOT_ALLOCATED_YET" if first_seat_at is None else "NOT_CONSIDERED"
    return _reason(
        "NOT_CONSIDERED",
        proposal,
        program=program,
        tahap=tahap,
        result=why,
        decided_on=wib_date(first_seat_at).isoformat() if first_seat_at else None,
    )


def _city_source(kind: str) -> bool:
    return SourceKind(kind.partition(":")[0]).is_city


def _paid_on(payment: Item) -> str:
    paid_at = payment["data"]["paid_at"]
    moment = paid_at if isinstance(paid_at, datetime) else datetime.fromisoformat(str(paid_at))
    return wib_date(moment).isoformat()


def _payments(story: Story, program: str, first: int, last: int) -> list[Item]:
    """The standing payments of `program` from `first` to `last` (receiving, as the status says)."""
    paid: list[Item] = []
    for (code, number), seat in sorted(story.seats.items()):
        payment = seat.standing_payment
        if code != program or not first <= number <= last or payment is None:
            continue
        if story.covering(program, number) is None:
            data = payment["data"]
            paid.append(
                {
                    "tahap": number,
                    "paid_on": _paid_on(payment),
                    "amount_idr": data["amount_idr"],
                    "reference": data["reference"],
                    "event_id": payment["event_id"],
                }
            )
    return paid


def _reason(code: str, event: Item | None, **facts: Any) -> Item:
    """One reason: the code, the citation of its event, and its recorded facts (text added later)."""
    reason: Item = dict.fromkeys(REASON_FIELDS)
    reason["code"] = code
    if event is not None:
        effective = event["effective_on"]
        reason.update(
            at=iso(event["recorded_at"]),
            effective_on=effective.isoformat() if isinstance(effective, date) else effective,
            actor=event["actor"] or None,
            event_id=event["event_id"],
        )
    reason.update({k: v for k, v in facts.items() if v is not None and v != ""})
    return reason


def _answer(
    no_kk: str,
    program: str | None,
    from_tahap: int | None,
    to_tahap: int | None,
    outcome: str,
    reasons: list[Item],
    payments: list[Item],
    lang: str,
    names: dict[str, str],
) -> Item:
    steps: list[str] = []
    for reason in reasons:
        reason["text"] = reason_text(reason, lang, names)
        step = next_step(reason, lang, names)
        if step not in steps:
            steps.append(step)
    answer: Item = {
        "no_kk": no_kk,
        "program": program,
        "program_name": names.get(program) if program else None,
        "from_tahap": from_tahap,
        "to_tahap": to_tahap,
        "outcome": outcome,
        "reasons": reasons,
        "next_steps": steps,
        "payments": payments,
    }
    answer["summary"] = summary(answer, lang, names)
    return answer


def citizen_reason(
    runtime: Runtime, nik: str, program: str | None, tahap: int | None, lang: str = "id"
) -> tuple[str, str | None]:
    """The self-check's `reason` and `next_step` for the household of a NIK whose name was checked:
    the first reason about the citizen's own household, without the names of the officers who
    recorded it (the summary when it receives)."""
    no_kk = lookup_nik(runtime, nik)
    if no_kk is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this NIK")
    answer, _ = explain_story(runtime, household_id(runtime, no_kk), program, None, tahap, lang)
    names = {answer["program"]: answer["program_name"]} if answer["program_name"] else {}
    if not answer["reasons"]:
        return answer["summary"], None
    public = {**answer["reasons"][0], "officer": None, "actor": None}
    return reason_text(public, lang, names), next_step(public, lang, names)

"""The explain engine: why a household's aid changed between two tahap (CONTRACT.md, "Explanation").

It reads only recorded facts from the read models (the household's timeline and the programs'
tahap) and cites, for every reason, the event that caused it. "Receiving" in a tahap means a PAID
payment stands in it. Texts are rendered from reason codes (`salur_cases.projections.texts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import bindparam, select

from salur_cases import tables as t
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.projections.queries import household_id, iso
from salur_cases.projections.texts import next_step, reason_text
from salur_cases.runtime import Runtime

Item = dict[str, Any]

STILL_RECEIVING, DROPPED, STARTED, NEVER_RECEIVED = "STILL_RECEIVING", "DROPPED", "STARTED", "NEVER_RECEIVED"
LEFT_OUT_REASONS = {
    "QUOTA_EXHAUSTED": "QUOTA_EXHAUSTED",
    "NOT_IN_SOURCE_LIST": "NOT_IN_SOURCE_LIST",
    "ALREADY_RECEIVING": "DUPLICATE_RECIPIENT",
    "NOT_MATCHED": "POPULATION_MISMATCH",
    "NOT_ELIGIBLE": "VERVAL_INELIGIBLE",
    "REMOVED": "REMOVED_BY_AUTHORITY",
}
"""A recorded left-out code -> the reason code it explains."""


@dataclass
class Seat:
    """A seat as its events tell it."""

    assigned: Item
    payments: list[Item] = field(default_factory=list)

    @property
    def paid(self) -> bool:
        """A PAID payment stands (not followed by RETURNED)."""
        standing = False
        for payment in self.payments:
            status = payment["data"]["status"]
            if status == "PAID":
                standing = True
            elif status == "RETURNED":
                standing = False
        return standing


@dataclass
class Withdrawal:
    """A removal or transfer, and the reinstatement that undid it, if any."""

    event: Item
    program: str
    tahap: int
    reinstated_by: Item | None = None


@dataclass
class Story:
    """A household's recorded facts, folded from its timeline."""

    events: list[Item]
    seats: dict[tuple[str, int], Seat] = field(default_factory=dict)
    left_out: dict[tuple[str, int], Item] = field(default_factory=dict)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    padan: list[Item] = field(default_factory=list)
    verval: list[Item] = field(default_factory=list)

    @classmethod
    def of(cls, events: list[Item]) -> Story:
        """Fold the events (in position order)."""
        story = cls(events)
        for event in events:
            story.add(event)
        return story

    def add(self, event: Item) -> None:
        """Take one event into account."""
        kind, data = event["type"].rpartition(".")[2], event["data"]
        if kind == "Assigned":
            self.seats[data["program"], data["tahap"]] = Seat(event)
            self.left_out.pop((data["program"], data["tahap"]), None)
        elif kind == "LeftOut":
            self.left_out[data["program"], data["tahap"]] = event
        elif kind == "PaymentRecorded":
            seat = self.seats.get((data["program"], data["tahap"]))
            if seat is not None:
                seat.payments.append(event)
        elif kind == "Removed":
            self.withdrawals.append(Withdrawal(event, data["program"], data["tahap"]))
        elif kind == "Transferred":
            self.withdrawals.append(Withdrawal(event, data["from_program"], data["from_tahap"]))
        elif kind == "Reinstated":
            for w in self.withdrawals:
                if w.reinstated_by is None and w.program == data["program"] and w.tahap <= data["tahap"]:
                    w.reinstated_by = event
        elif kind == "PopulationMatched":
            self.padan.append(event)
        elif kind == "VervalDecided":
            self.verval.append(event)

    def receiving(self, program: str, tahap: int) -> bool:
        """Paid in that tahap."""
        seat = self.seats.get((program, tahap))
        return seat is not None and seat.paid

    def covering(self, program: str, tahap: int) -> Withdrawal | None:
        """The standing removal or transfer that takes the household out of this tahap."""
        standing = [
            w
            for w in self.withdrawals
            if w.reinstated_by is None and w.program == program and w.tahap <= tahap
        ]
        return standing[-1] if standing else None

    def tahap_touched(self, program: str) -> set[int]:
        """The tahap of `program` any of the household's facts names."""
        touched = {n for p, n in self.seats if p == program} | {n for p, n in self.left_out if p == program}
        return touched | {w.tahap for w in self.withdrawals if w.program == program}

    def programs_by_recency(self) -> list[str]:
        """Programs the household's facts name, the most recently touched first."""
        order: list[str] = []
        for event in reversed(self.events):
            data = event["data"]
            program = data.get("program") or data.get("from_program")
            if isinstance(program, str) and program not in order and event["type"] != "household.Proposed":
                order.append(program)
        return order

    def latest_before(self, facts: list[Item], position: int) -> Item | None:
        """The last of `facts` recorded before `position`."""
        earlier = [f for f in facts if f["position"] < position]
        return earlier[-1] if earlier else None


@dataclass(frozen=True)
class TahapInfo:
    """An opened tahap of a program, as the read model holds it."""

    number: int
    starts_on: date
    ends_on: date
    opened_at: Any
    opened_event_id: str
    decree_ref: str


def explain(
    runtime: Runtime,
    no_kk: str,
    program: str | None = None,
    from_tahap: int | None = None,
    to_tahap: int | None = None,
    lang: str = "id",
) -> Item:
    """Why the household's aid changed from `from_tahap` to `to_tahap` of `program` (CONTRACT.md's JSON)."""
    events, opened = _read(runtime, household_id(runtime, no_kk), program)
    story = Story.of(events)
    if program is None:
        ranked = story.programs_by_recency()
        program = ranked[0] if ranked else None
    if program is None:
        reasons = _eligibility_reasons(story, events[-1]["position"] + 1, None, None, lang)
        return _answer(events[0]["data"]["no_kk"], None, None, None, NEVER_RECEIVED, reasons, lang)
    tahap = opened.get(program, {})
    from_tahap, to_tahap = _tahap_pair(story, program, sorted(tahap), from_tahap, to_tahap)
    was, now = story.receiving(program, from_tahap), story.receiving(program, to_tahap)
    outcome = {
        (True, True): STILL_RECEIVING,
        (True, False): DROPPED,
        (False, True): STARTED,
        (False, False): NEVER_RECEIVED,
    }[was, now]
    reasons = [] if now else _reasons(story, program, to_tahap, tahap, lang)
    return _answer(events[0]["data"]["no_kk"], program, from_tahap, to_tahap, outcome, reasons, lang)


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
    t.program_tahap.c.tahap,
    t.program_tahap.c.starts_on,
    t.program_tahap.c.ends_on,
    t.program_tahap.c.opened_at,
    t.program_tahap.c.opened_event_id,
    t.program_tahap.c.decree_ref,
).outerjoin(t.program_tahap, t.program_tahap.c.program == t.programs.c.code)
"""Every program, with the tahap it opened."""


def _read(
    runtime: Runtime, hid: str, program: str | None
) -> tuple[list[Item], dict[str, dict[int, TahapInfo]]]:
    with runtime.reader.connect() as conn:
        events = [dict(r._mapping) for r in conn.execute(_TIMELINE, {"hid": hid})]
        if not events:
            raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK")
        opened: dict[str, dict[int, TahapInfo]] = {}
        for r in conn.execute(_TAHAP):
            tahap = opened.setdefault(r.code, {})
            if r.tahap is not None:
                tahap[r.tahap] = TahapInfo(
                    r.tahap, r.starts_on, r.ends_on, r.opened_at, r.opened_event_id, r.decree_ref
                )
    if program is not None and program not in opened:
        raise Refusal(RefusalCode.UNKNOWN_PROGRAM, f"no program {program}")
    return events, opened


def _tahap_pair(
    story: Story, program: str, opened: list[int], from_tahap: int | None, to_tahap: int | None
) -> tuple[int, int]:
    """The two tahap to compare; without numbers, the household's latest change in the program."""
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


def _reasons(story: Story, program: str, tahap: int, opened: dict[int, TahapInfo], lang: str) -> list[Item]:
    """Why the household is not receiving `program` in `tahap`: each reason cites its event."""
    if tahap not in opened:
        last = opened[max(opened)] if opened else None
        return [
            _reason(
                "PROGRAM_ENDED",
                lang,
                program=program,
                tahap=tahap,
                at=last.opened_at if last else None,
                event_id=last.opened_event_id if last else None,
                decree_ref=last.decree_ref if last else None,
                last_tahap=last.number if last else None,
            )
        ]
    reasons: list[Item] = []
    cover = story.covering(program, tahap)
    if cover is not None:
        reasons.append(_withdrawal_reason(cover, program, tahap, lang))
    seat = story.seats.get((program, tahap))
    left_out = story.left_out.get((program, tahap))
    if seat is not None:
        if cover is None:
            reasons.append(_payment_reason(seat, program, tahap, lang))
    elif left_out is not None:
        if cover is None or left_out["data"]["code"] != "REMOVED":
            reasons.append(_left_out_reason(story, left_out, program, tahap, opened[tahap], lang))
    elif cover is None:
        reasons.extend(_unconsidered_reasons(story, program, tahap, opened[tahap], lang))
    return reasons


def _withdrawal_reason(cover: Withdrawal, program: str, tahap: int, lang: str) -> Item:
    event, data = cover.event, cover.event["data"]
    if event["type"] == "household.Transferred":
        return _reason(
            "TRANSFERRED",
            lang,
            event=event,
            program=program,
            tahap=tahap,
            authority=data["authority"],
            to_program=data["to_program"],
        )
    return _reason(
        "REMOVED_BY_AUTHORITY",
        lang,
        event=event,
        program=program,
        tahap=tahap,
        authority=data["authority"],
        decree_ref=data["decree_ref"],
    )


def _payment_reason(seat: Seat, program: str, tahap: int, lang: str) -> Item:
    if seat.payments:
        last = seat.payments[-1]
        return _reason(
            "PAYMENT_FAILED",
            lang,
            event=last,
            program=program,
            tahap=tahap,
            detail=last["data"]["status"],
            reference=last["data"]["reference"],
        )
    assigned = seat.assigned
    return _reason(
        "PAYMENT_PENDING",
        lang,
        event=assigned,
        program=program,
        tahap=tahap,
        authority=assigned["data"]["authority"],
        decree_ref=assigned["data"]["decree_ref"],
    )


def _left_out_reason(story: Story, event: Item, program: str, tahap: int, info: TahapInfo, lang: str) -> Item:
    data = event["data"]
    code = LEFT_OUT_REASONS.get(data["code"], data["code"])
    common: Item = {"program": program, "tahap": tahap, "authority": data["authority"]}
    if code == "QUOTA_EXHAUSTED":
        return _reason(code, lang, event=event, rank=data["rank"], cutoff=data["cutoff"], **common)
    if code == "DUPLICATE_RECIPIENT":
        return _reason(code, lang, event=event, other_program=data["other_program"], **common)
    if code == "POPULATION_MISMATCH":
        padan = story.latest_before(story.padan, event["position"])
        return _reason(
            code, lang, event=padan or event, detail=padan["data"]["result"] if padan else None, **common
        )
    if code == "VERVAL_INELIGIBLE":
        verval = story.latest_before(story.verval, event["position"])
        return _reason(
            code, lang, event=verval or event, detail=verval["data"]["decision"] if verval else None, **common
        )
    if code == "REMOVED_BY_AUTHORITY":
        earlier = [
            w
            for w in story.withdrawals
            if w.program == program and w.tahap <= tahap and w.event["position"] < event["position"]
        ]
        if earlier:
            return _withdrawal_reason(earlier[-1], program, tahap, lang)
    return _reason(code, lang, event=event, decree_ref=info.decree_ref, **common)


def _eligibility_reasons(
    story: Story, position: int, program: str | None, tahap: int | None, lang: str
) -> list[Item]:
    """The city's rules the household fails as recorded before `position` (padan, then verval)."""
    padan = story.latest_before(story.padan, position)
    verval = story.latest_before(story.verval, position)
    reasons: list[Item] = []
    if padan is None or padan["data"]["result"] != "MATCHED":
        reasons.append(
            _reason(
                "POPULATION_MISMATCH",
                lang,
                event=padan or story.events[0],
                program=program,
                tahap=tahap,
                detail=padan["data"]["result"] if padan else None,
            )
        )
    if verval is None or verval["data"]["decision"] != "ELIGIBLE":
        reasons.append(
            _reason(
                "VERVAL_INELIGIBLE",
                lang,
                event=verval or story.events[0],
                program=program,
                tahap=tahap,
                detail=verval["data"]["decision"] if verval else None,
            )
        )
    return reasons


def _unconsidered_reasons(story: Story, program: str, tahap: int, info: TahapInfo, lang: str) -> list[Item]:
    """No decision names the household in this tahap: say which rule or list kept it out."""
    reasons = _eligibility_reasons(story, story.events[-1]["position"] + 1, program, tahap, lang)
    for (other, _number), seat in story.seats.items():
        data = seat.assigned["data"]
        overlaps = date.fromisoformat(
            data["starts_on"]
        ) <= info.ends_on and info.starts_on <= date.fromisoformat(data["ends_on"])
        if other != program and overlaps and story.covering(other, data["tahap"]) is None:
            reasons.append(
                _reason(
                    "DUPLICATE_RECIPIENT",
                    lang,
                    event=seat.assigned,
                    program=program,
                    tahap=tahap,
                    other_program=other,
                )
            )
            break
    if not reasons:
        reasons.append(
            _reason(
                "NOT_IN_SOURCE_LIST",
                lang,
                program=program,
                tahap=tahap,
                at=info.opened_at,
                event_id=info.opened_event_id,
                decree_ref=info.decree_ref,
            )
        )
    return reasons


def _reason(code: str, lang: str, *, event: Item | None = None, **facts: Any) -> Item:
    """One reason: the code, the citation of its event, its extra facts and its text."""
    at = facts.pop("at", None)
    event_id = facts.pop("event_id", None)
    reason: Item = {
        "code": code,
        "at": iso(event["recorded_at"] if event else at),
        "effective_on": _iso_date(event["effective_on"]) if event else None,
        "authority": facts.pop("authority", None),
        "actor": event["actor"] if event else None,
        "decree_ref": facts.pop("decree_ref", None) or None,
        "event_id": event["event_id"] if event else event_id,
    }
    program, tahap = facts.pop("program", None), facts.pop("tahap", None)
    reason.update({k: v for k, v in facts.items() if k != "last_tahap"})
    reason["text"] = reason_text(code, lang, {**reason, "program": program, "tahap": tahap, **facts})
    return reason


def _iso_date(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _answer(
    no_kk: str,
    program: str | None,
    from_tahap: int | None,
    to_tahap: int | None,
    outcome: str,
    reasons: list[Item],
    lang: str,
) -> Item:
    steps: list[str] = []
    for reason in reasons:
        step = next_step(reason["code"], lang, reason)
        if step not in steps:
            steps.append(step)
    return {
        "no_kk": no_kk,
        "program": program,
        "from_tahap": from_tahap,
        "to_tahap": to_tahap,
        "outcome": outcome,
        "reasons": reasons,
        "next_steps": steps,
    }

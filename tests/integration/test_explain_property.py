"""For random histories, every explanation is true: its citations and its outcome.

Six households are registered, then random commands of every kind run (allocations, outside
rosters, payments, removals, reinstatements, transfers, padan, verval; refusals included). For every
household, program and pair of tahap (and a tahap after the last, PROGRAM_ENDED):
- every reason cites an event of this household, or for PROGRAM_ENDED the program's record of its
  last tahap, recorded no later than the decision explained (the later of the household's last event
  about the tahap and the tahap's first seats);
- the outcome agrees with the household's status in both tahap, and a tahap the household does not
  receive has at least one reason;
- every sentence is plain (no code, no placeholder, no ISO time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from salur_cases import tables as t
from salur_cases.domain.program import Program
from salur_cases.processes import registration
from salur_cases.projections.explain import explain
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.queries import household_events, household_read
from salur_cases.projections.runner import catch_up
from tests.builders import KELURAHAN, no_kk_of, proposal, runtime_for
from tests.integration.test_explain import _plain
from tests.integration.test_invariants_property import (
    HOUSEHOLDS,
    PROGRAMS,
    TAHAP,
    commands,
    fresh_store,
    run,
    set_up,
)

if TYPE_CHECKING:
    from salur_cases.runtime import Runtime
    from tests.conftest import StoreTarget

RECEIVING = {"STILL_RECEIVING", "STARTED"}
WAS_RECEIVING = {"STILL_RECEIVING", "DROPPED"}


def _decision_position(runtime: Runtime, events: list[dict[str, Any]], program: str, tahap: int) -> int:
    """The later of the household's last event about the tahap (a removal or transfer from it or before,
    a reinstatement) and the tahap's first seats (else the household's last event): a household
    reinstated before the tahap's seats were given is weighed as it stood when they were."""
    about = [
        e["position"]
        for e in events
        if (e["program"] == program and e["tahap"] is not None and e["tahap"] <= tahap)
        and (e["tahap"] == tahap or e["type"] in {"household.Removed", "household.Transferred"})
    ]
    tl = t.timeline
    with runtime.reader.connect() as conn:
        commits = conn.execute(
            select(tl.c.position, tl.c.data).where(
                tl.c.aggregate_id == str(Program.create_id(program)), tl.c.type == "program.SeatsCommitted"
            )
        ).all()
    seated = [position for position, data in commits if data["tahap"] == tahap and data["households"]]
    return max([*about, min(seated) if seated else max(e["position"] for e in events)])


def check_explanations(runtime: Runtime) -> None:
    with runtime.reader.connect() as conn:
        opened = {
            (r.program, r.tahap): r.opened_event_id
            for r in conn.execute(
                select(t.program_tahap.c.program, t.program_tahap.c.tahap, t.program_tahap.c.opened_event_id)
            )
        }
    for n in HOUSEHOLDS:
        view = household_read(runtime, no_kk_of(n))
        if view is None:
            continue
        states = {(s.program, s.tahap): s.state for s in view.programs}
        events = msgspec.to_builtins(household_events(runtime, no_kk_of(n), 500).items)
        positions = {e["event_id"]: e["position"] for e in events}
        for program in PROGRAMS:
            numbers = sorted(number for p, number in TAHAP if p == program)
            pairs = [(a, b) for a in numbers for b in numbers if a <= b] + [(numbers[-1], numbers[-1] + 1)]
            for first, last in pairs:
                answer = explain(runtime, no_kk_of(n), program, first, last)
                outcome = answer["outcome"]
                assert (outcome in RECEIVING) == (states.get((program, last)) == "PAID"), (n, program, answer)
                if last in numbers:
                    assert (outcome in WAS_RECEIVING) == (states.get((program, first)) == "PAID") or (
                        outcome == "AWAITING_PAYMENT"
                    ), (n, program, answer)
                if outcome == "AWAITING_PAYMENT":
                    assert states.get((program, last)) == "ASSIGNED", (n, program, answer)
                if outcome not in RECEIVING:
                    assert answer["reasons"], (n, program, first, last, answer)
                decided = _decision_position(runtime, events, program, last)
                for reason in answer["reasons"]:
                    _plain(reason["text"])
                    if reason["code"] == "PROGRAM_ENDED":
                        assert reason["event_id"] == opened[program, numbers[-1]]
                        continue
                    assert reason["event_id"] in positions, (n, program, reason)
                    assert positions[reason["event_id"]] <= decided, (
                        n,
                        program,
                        first,
                        last,
                        reason,
                        decided,
                    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sources=st.lists(st.sampled_from(["KELURAHAN", "SELF", "KEMENSOS"]), min_size=6, max_size=6),
    script=st.lists(commands, min_size=5, max_size=40),
)
def test_every_reason_cites_an_earlier_event_of_its_household_and_the_outcome_agrees_with_the_status(
    sources: list[str], script: list[tuple[Any, ...]], store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    with fresh_store(store_url) as store:
        runtime = runtime_for(store.url, store.schema, env_keys)
        try:
            upgrade(runtime)
            set_up(runtime.app)
            for n, source in zip(HOUSEHOLDS, sources, strict=True):
                registration.register(runtime.app, proposal(n, source=source), KELURAHAN)
            for command in script:
                if command[0] != "register":
                    run(runtime.app, command)
            catch_up(runtime)
            check_explanations(runtime)
        finally:
            runtime.close()

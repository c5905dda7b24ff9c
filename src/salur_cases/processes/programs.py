"""Programs: defining an aid program, opening its tahap, and certifying a tahap's roster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from eventsourcing.persistence import IntegrityError

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import DefineProgram, OpenTahap
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.program import Program, Tahap
from salur_cases.processes.unit_of_work import Written, retrying, save

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication


def define_program(app: SalurApplication, definition: DefineProgram, actor: Actor) -> tuple[Program, Written]:
    """Define an aid program (its code in upper case); PROGRAM_EXISTS when its code is taken."""
    code, name = definition.code.strip().upper(), definition.name.strip()
    if not code:
        raise InvalidCommand("code", "is required")
    if not name:
        raise InvalidCommand("name", "is required")
    if Program.create_id(code) in app.chained.existing_originator_ids([Program.create_id(code)]):
        raise Refusal(RefusalCode.PROGRAM_EXISTS, f"program {code} exists")
    program = Program.define(msgspec.structs.replace(definition, code=code, name=name), actor)
    written = Written()
    try:
        save(app, written, program)
    except IntegrityError:
        raise Refusal(RefusalCode.PROGRAM_EXISTS, f"program {code} exists") from None
    return program, written


@retrying
def open_tahap(
    app: SalurApplication,
    code: str,
    opening: OpenTahap,
    actor: Actor,
) -> tuple[Tahap, Written]:
    """Open a tahap of a program."""
    if opening.number < 1:
        raise InvalidCommand("number", "must be 1 or more")
    if opening.ends_on < opening.starts_on:
        raise InvalidCommand("ends_on", "must not be before starts_on")
    for name in ("quota", "amount_idr", "budget_ceiling_idr"):
        if getattr(opening, name) < 0:
            raise InvalidCommand(name, "must be 0 or more")
    program = app.program(code)
    program.open_tahap(opening, actor)
    written = Written()
    save(app, written, program)
    return program.tahap[opening.number], written


@retrying
def certify(
    app: SalurApplication, code: str, number: int, actor: Actor
) -> tuple[str, int, dict[str, Any], Written]:
    """Fix a tahap's roster: its hash, the number of households, and the chain head it was fixed at."""
    program = app.program(code)
    households = app.tahap_households(program.code, number, up_to_version=program.version)
    rows = app.chained.select_chain(max(1, (app.recorder.max_notification_id() or 0)), 1)
    head = (
        {"position": rows[-1].notification_id, "hash": rows[-1].chain_hash.hex()}
        if rows
        else {"position": 0, "hash": ""}
    )
    digest = program.certify(number, households, head, actor)
    written = Written()
    save(app, written, program)
    return digest, program.tahap[number].assigned, head, written

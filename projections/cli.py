"""Command-line handlers of the read side: `salur explain`, `letter`, `history` and `projections`.

Every command that reads first brings the projections up to date (`catch_up`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select

from salur_cases import tables as t
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.domain.parsing import parse_date, parse_nik, parse_no_kk, parse_time
from salur_cases.projections.explain import explain
from salur_cases.projections.letter import letter
from salur_cases.projections.narration import event_sentence
from salur_cases.projections.queries import (
    household_events,
    household_id,
    household_read,
    lookup_nik,
    program_names,
)
from salur_cases.projections.runner import catch_up, rebuild, run_forever, status
from salur_cases.projections.texts import payment_line
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def resolve_no_kk(runtime: Runtime, identifier: str) -> str:
    """The No. KK a 16-digit identifier names: a household's No. KK first, else a member's NIK.

    A value that is neither a valid No. KK nor a valid NIK is bad input (INVALID_REQUEST, exit 2), as the
    API answers for the same number; a valid one that names no household is UNKNOWN_HOUSEHOLD.
    """
    value = identifier.strip()
    try:
        no_kk: str | None = parse_no_kk(value, "identifier")
    except InvalidCommand:
        no_kk = None
    try:
        nik: str | None = parse_nik(value, "identifier")
    except InvalidCommand:
        nik = None
    if no_kk is None and nik is None:
        raise InvalidCommand("identifier", "must be a NIK or a No. KK (16 digits)")
    if no_kk is not None:
        hid = household_id(runtime, no_kk)  # the No. KK column is sealed: found by the keyed id
        with runtime.engine.connect() as conn:
            if conn.execute(select(t.household.c.version).where(t.household.c.household_id == hid)).first():
                return no_kk
    found = lookup_nik(runtime, nik) if nik is not None else None
    if found is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK or NIK")
    return found


def _program(value: str | None) -> str | None:
    return value.strip().upper() if value else None


def explain_command(args: argparse.Namespace) -> int:
    """`salur explain ID [--program CODE] [--from-tahap N --to-tahap M] [--lang id|en] [--json]`."""
    runtime = Runtime(get_settings())
    try:
        catch_up(runtime)
        no_kk = resolve_no_kk(runtime, args.identifier)
        answer = explain(runtime, no_kk, _program(args.program), args.from_tahap, args.to_tahap, args.lang)
    finally:
        runtime.close()
    if args.json:
        _out(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        _out(render_explanation(answer, args.lang))
    return 0


def letter_command(args: argparse.Namespace) -> int:
    """`salur letter ID [--program CODE] [--from-tahap N --to-tahap M] [--lang id|en] --out FILE.pdf`."""
    runtime = Runtime(get_settings())
    try:
        catch_up(runtime)
        no_kk = resolve_no_kk(runtime, args.identifier)
        pdf = letter(runtime, no_kk, _program(args.program), args.from_tahap, args.to_tahap, args.lang)
    finally:
        runtime.close()
    out = Path(args.out)
    try:
        out.write_bytes(pdf)
    except OSError as error:
        raise InvalidCommand("out", f"cannot write the letter: {error.strerror}") from None
    _out(str(out))
    return 0


def render_explanation(answer: dict[str, Any], lang: str) -> str:
    """The explanation as text for a terminal: sentences, then the events cited."""
    en = lang == "en"
    lines = [answer["summary"]]
    if answer["payments"]:
        lines.append("Payments:" if en else "Pembayaran:")
        lines.extend(f"  {payment_line(p, lang)}" for p in answer["payments"])
    if answer["reasons"]:
        lines.append("Reasons:" if en else "Alasan:")
        for reason in answer["reasons"]:
            lines.append(f"  * {reason['text']}")
            lines.append(f"    ({'event' if en else 'kejadian'} {reason['event_id']})")
    if answer["next_steps"]:
        lines.append("Next steps:" if en else "Langkah berikutnya:")
        lines.extend(f"  * {step}" for step in answer["next_steps"])
    return "\n".join(lines)


def history_command(args: argparse.Namespace) -> int:
    """`salur history ID [--as-of TIME] [--effective-on DATE] [--lang id|en] [--json]`: events, or the
    state at a moment."""
    as_of = parse_time(args.as_of, "as_of") if args.as_of else None
    effective_on = parse_date(args.effective_on, "effective_on") if args.effective_on else None
    lang = getattr(args, "lang", "id")
    runtime = Runtime(get_settings())
    try:
        catch_up(runtime)
        no_kk = resolve_no_kk(runtime, args.identifier)
        if as_of is None and effective_on is None:
            events: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = household_events(runtime, no_kk, 500, cursor)
                events.extend(msgspec.to_builtins(page.items))
                cursor = page.next_cursor
                if cursor is None:
                    break
            if args.json:
                _out(json.dumps(events, ensure_ascii=False, indent=2))
            else:
                names = program_names(runtime)
                _out("\n".join(event_sentence(e, lang, names) for e in events))
            return 0
        view = household_read(runtime, no_kk, as_of, effective_on)
    finally:
        runtime.close()
    if view is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "the household was not on record at that moment")
    data = msgspec.to_builtins(view)
    _out(json.dumps(data, ensure_ascii=False, indent=2) if args.json else _render_view(data))
    return 0


def _render_view(view: dict[str, Any]) -> str:
    padan = view["padan"]["result"] if view["padan"] else "-"
    verval = view["verval"]["decision"] if view["verval"] else "-"
    lines = [f"No. KK {view['no_kk']} (version {view['version']}): padan {padan}, verval {verval}"]
    for seat in view["programs"]:
        lines.append(f"  {seat['program']} tahap {seat['tahap']}: {seat['state']} Rp{seat['amount_idr']:,}")
    for w in view["removals"]:
        undone = " (reinstated)" if w["reinstated"] else ""
        lines.append(
            f"  {w['kind']} from {w['program']} tahap {w['tahap']} by {w['authority']}, "
            f"effective {w['effective_on']}{undone}"
        )
    return "\n".join(lines)


def projections_command(args: argparse.Namespace) -> int:
    """`salur projections run|rebuild|status`."""
    runtime = Runtime(get_settings())
    try:
        if args.action == "status":
            now = status(runtime)
            _out(f"position {now['position']}, head {now['head']}, lag {now['lag']} events")
        elif args.action == "rebuild":
            reached = rebuild(runtime)
            _out(f"rebuilt the read models up to position {reached}")
        else:
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            _out(f"projections running from position {catch_up(runtime)}; Ctrl-C stops")
            run_forever(runtime, stop)
    finally:
        runtime.close()
    return 0

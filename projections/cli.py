"""Command-line handlers of the read side: `salur explain`, `salur history`, `salur projections`.

Every command that reads first brings the projections up to date (`catch_up`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

import msgspec
from sqlalchemy import select

from salur_cases import tables as t
from salur_cases.commands import parse_date, parse_nik, parse_no_kk, parse_time
from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode
from salur_cases.projections.explain import explain
from salur_cases.projections.queries import household_events, household_read, lookup_nik
from salur_cases.projections.runner import catch_up, rebuild, run_forever, status
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def resolve_no_kk(runtime: Runtime, identifier: str) -> str:
    """The No. KK a 16-digit identifier names: a household's No. KK first, else a member's NIK."""
    value = identifier.strip()
    if len(value) != 16 or not value.isdigit():  # noqa: PLR2004 - NIK and No. KK both have 16 digits
        raise InvalidCommand("identifier", "must be a NIK or a No. KK (16 digits)")
    try:
        no_kk = parse_no_kk(value, "identifier")
    except InvalidCommand:
        no_kk = None
    if no_kk is not None:
        with runtime.engine.connect() as conn:
            if conn.execute(select(t.household.c.no_kk).where(t.household.c.no_kk == no_kk)).first():
                return no_kk
    try:
        found = lookup_nik(runtime, parse_nik(value, "identifier"))
    except InvalidCommand:
        found = None
    if found is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "no household with this No. KK or NIK")
    return found


def explain_command(args: argparse.Namespace) -> int:
    """`salur explain ID [--program CODE] [--from-tahap N --to-tahap M] [--lang id|en] [--json]`."""
    runtime = Runtime(get_settings())
    try:
        catch_up(runtime)
        no_kk = resolve_no_kk(runtime, args.identifier)
        program = args.program.strip().upper() if args.program else None
        answer = explain(runtime, no_kk, program, args.from_tahap, args.to_tahap, args.lang)
    finally:
        runtime.close()
    if args.json:
        _out(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        _out(render_explanation(answer, args.lang))
    return 0


def render_explanation(answer: dict[str, Any], lang: str) -> str:
    """The explanation as text for a terminal."""
    labels = {
        "id": ("Program", "tahap", "Hasil", "Alasan", "Langkah berikutnya", "kejadian", "dicatat"),
        "en": ("Program", "tahap", "Outcome", "Reasons", "Next steps", "event", "recorded"),
    }[lang if lang == "en" else "id"]
    program, tahap, outcome, reasons, steps, event, recorded = labels
    span = f"{answer['from_tahap']} -> {answer['to_tahap']}" if answer["program"] else "-"
    lines = [f"{program}: {answer['program'] or '-'}, {tahap} {span}", f"{outcome}: {answer['outcome']}"]
    if answer["reasons"]:
        lines.append(f"{reasons}:")
        for reason in answer["reasons"]:
            lines.append(f"  - [{reason['code']}] {reason['text']}")
            lines.append(
                f"    {event} {reason['event_id']}, {recorded} {reason['at']}, {reason['actor'] or '-'}"
            )
    if answer["next_steps"]:
        lines.append(f"{steps}:")
        lines.extend(f"  - {step}" for step in answer["next_steps"])
    return "\n".join(lines)


def history_command(args: argparse.Namespace) -> int:
    """`salur history ID [--as-of TIME] [--effective-on DATE] [--json]`: events, or the state at a moment."""
    as_of = parse_time(args.as_of, "as_of") if args.as_of else None
    effective_on = parse_date(args.effective_on, "effective_on") if args.effective_on else None
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
            _out(json.dumps(events, ensure_ascii=False, indent=2) if args.json else _render_events(events))
            return 0
        view = household_read(runtime, no_kk, as_of, effective_on)
    finally:
        runtime.close()
    if view is None:
        raise Refusal(RefusalCode.UNKNOWN_HOUSEHOLD, "the household was not on record at that moment")
    data = msgspec.to_builtins(view)
    _out(json.dumps(data, ensure_ascii=False, indent=2) if args.json else _render_view(data))
    return 0


def _render_events(events: list[dict[str, Any]]) -> str:
    lines = []
    for e in events:
        effective = f" (effective {e['effective_on']})" if e["effective_on"] else ""
        lines.append(
            f"{e['position']:>8}  {e['recorded_at']}  {e['type']}{effective}  by {e['actor']} ({e['role']})"
        )
    return "\n".join(lines)


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

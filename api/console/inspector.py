"""Inspectors' pages: the budget with subtotals and a chart, anomalies with filters, the chain, downloads.

Roles as in the API: the budget, anomalies and the chain check for inspectors and admins; the
evidence exports for inspectors. Downloads are the reports of ``salur report`` (CSV, XLSX) and the
evidence of ``salur audit export`` (JSON Lines).
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgspec
from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Stream, Template
from sqlalchemy import insert, select

from salur_cases import tables as t
from salur_cases.api.console.web import AUDITORS, Query, Seen, Segment, optional_number, page, signed_in
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.projections.audit.budget import BUDGET_FIELDS, budget_rows
from salur_cases.projections.audit.cli import ANOMALY_COLUMNS
from salur_cases.projections.audit.evidence import evidence_lines
from salur_cases.projections.audit.findings import CODES
from salur_cases.projections.audit.render import write_report
from salur_cases.projections.audit.triage import find_all
from salur_cases.projections.audit.verification import verify
from salur_cases.projections.runner import position
from salur_cases.runtime import Runtime
from salur_cases.tables.console import console_chain_check

T = TypeVar("T")
INSPECT = signed_in(*AUDITORS)
EVIDENCE = signed_in(Role.INSPECTOR)
PAGE_SIZE = 50
SOURCES = ("APBN", "APBD_PROVINSI", "APBD_KOTA")
_MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _budget(runtime: Runtime) -> dict[str, Any]:
    """Budget rows grouped by budget source with subtotals, the grand total, and the chart's bars."""
    rows: list[dict[str, Any]] = _budget_rows(runtime)
    money = ("committed_idr", "paid_idr", "returned_idr", "ceiling_idr", "remainder_idr")
    counts = ("quota", "assigned", "paid")
    groups = []
    for source, items in itertools.groupby(rows, key=lambda r: r["budget_source"]):
        listed = list(items)
        groups.append(
            {
                "source": source,
                "rows": listed,
                "subtotal": {k: sum(r[k] for r in listed) for k in (*money, *counts)},
            }
        )
    total = {k: sum(g["subtotal"][k] for g in groups) for k in (*money, *counts)}
    paid = {g["source"]: g["subtotal"]["paid_idr"] - g["subtotal"]["returned_idr"] for g in groups}
    top = max(paid.values(), default=0) or 1
    bars = [{"source": s, "paid": v, "percent": round(100 * v / top)} for s, v in paid.items()]
    return {"groups": groups, "total": total, "bars": bars}


@get("/console/budget", guards=[INSPECT], include_in_schema=False, sync_to_thread=True)
def budget_page(viewer: Seen) -> Template:
    """The budget per budget source, program and tahap, Rupiah formatted, with the chart beside it."""
    viewer.ctx.positions.wait(viewer.ctx.runtime, None)
    return page(viewer, "budget.html", **_budget(viewer.ctx.runtime))


def _tahap_facts(runtime: Runtime) -> dict[tuple[str, int], tuple[str, int]]:
    """(program, tahap) -> (budget source, amount per household)."""
    pt = t.program_tahap
    with runtime.reader.connect() as conn:
        rows = conn.execute(select(pt.c.program, pt.c.tahap, pt.c.budget_source, pt.c.amount_idr)).all()
    return {(r.program, r.tahap): (r.budget_source, int(r.amount_idr)) for r in rows}


def _filters(
    code: str | None, budget_source: str | None, program: str | None, tahap: str | None, authority: str | None
) -> dict[str, Any]:
    """The anomaly filters a form sent (a field left empty filters nothing)."""
    return {
        "code": code if code in CODES else None,
        "budget_source": budget_source if budget_source in SOURCES else None,
        "program": (program or "").strip().upper() or None,
        "tahap": optional_number(tahap, "tahap"),
        "authority": (authority or "").strip().upper() or None,
    }


class PerPosition(Generic[T]):
    """A value of the read models computed again only when they have moved (one per database and position).

    The budget and the anomaly report read whole tables (seconds at the city's scale); between two
    events their answer cannot change, so every page view in between reuses it.
    """

    def __init__(self, compute: Callable[[Runtime], T]) -> None:
        self.compute = compute
        self._lock = threading.Lock()
        self._at: tuple[tuple[str, int], T] | None = None

    def __call__(self, runtime: Runtime) -> T:
        with self._lock:
            now = (runtime.settings.database_url, position(runtime))
            if self._at is None or self._at[0] != now:
                self._at = (now, self.compute(runtime))
            return self._at[1]


def _findings(runtime: Runtime) -> list[dict[str, Any]]:
    """Every finding as the page and the downloads list it: with its budget source, the Rupiah at stake
    (its own amount, else the tahap's amount per household), authorities and household link."""
    facts = _tahap_facts(runtime)
    found = []
    for finding in find_all(runtime):
        item = finding.to_json()
        source, amount = facts.get((item["program"], item["tahap"]), (None, None))
        detail = item["detail"]
        item["budget_source"] = source
        item["amount_idr"] = item.get("amount_idr") or detail.get("amount_idr", amount)
        item["authorities"] = {detail.get("authority"), *(detail.get("authorities") or ())} - {None}
        item["household_ref"] = finding.household_id.replace("-", "") if finding.household_id else None
        item["outside_authority"] = "yes" if detail.get("outside_authority") else ""
        found.append(item)
    return found


_every_finding = PerPosition(_findings)
_budget_rows = PerPosition(lambda runtime: msgspec.to_builtins(budget_rows(runtime)))


_filtered = PerPosition(lambda _runtime: dict[tuple[Any, ...], tuple[list[dict[str, Any]], int]]())
"""The findings per filter, for the position they were computed at (a page of a long list is then a slice)."""
MAX_FILTERS = 64


def _anomalies(runtime: Runtime, chosen: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The findings that pass the filters, and the Rupiah at stake in them."""
    memo = _filtered(runtime)
    key = tuple(chosen.values())
    if key not in memo:
        if len(memo) >= MAX_FILTERS:
            memo.clear()
        found = [
            item
            for item in _every_finding(runtime)
            if not (
                (chosen["code"] and item["code"] != chosen["code"])
                or (chosen["budget_source"] and item["budget_source"] != chosen["budget_source"])
                or (chosen["program"] and item["program"] != chosen["program"])
                or (chosen["tahap"] and item["tahap"] != chosen["tahap"])
                or (chosen["authority"] and chosen["authority"] not in item["authorities"])
            )
        ]
        memo[key] = (found, sum(item["amount_idr"] or 0 for item in found))
    return memo[key]


@get("/console/anomalies", guards=[INSPECT], include_in_schema=False, sync_to_thread=True)
def anomalies_page(
    viewer: Seen,
    code: Query = None,
    budget_source: Query = None,
    program: Query = None,
    tahap: Query = None,
    authority: Query = None,
    page_number: Query = None,
) -> Template:
    """Anomalies filtered by code, budget source, program, tahap and outside authority, a page at a time."""
    runtime = viewer.ctx.runtime
    viewer.ctx.positions.wait(runtime, None)
    chosen = _filters(code, budget_source, program, tahap, authority)
    found, at_stake = _anomalies(runtime, chosen)
    number = max(1, optional_number(page_number, "page_number") or 1)
    start = (number - 1) * PAGE_SIZE
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    return page(
        viewer,
        "anomalies.html",
        items=found[start : start + PAGE_SIZE],
        count=len(found),
        at_stake=at_stake,
        chosen=chosen,
        codes=CODES,
        sources=SOURCES,
        query=query,
        next_page=number + 1 if start + PAGE_SIZE < len(found) else None,
    )


def _report(
    rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, title: str, name: str
) -> Response[bytes]:
    """A report file written by the audit's own writer, as a download."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{name}.{fmt}"
        write_report(rows, columns, fmt, str(out), title)
        body = out.read_bytes()
    return Response(
        body,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@get("/console/downloads/{report:str}", guards=[INSPECT], include_in_schema=False, sync_to_thread=True)
def report_download(
    viewer: Seen,
    report: Segment,
    code: Query = None,
    budget_source: Query = None,
    program: Query = None,
    tahap: Query = None,
    authority: Query = None,
) -> Response[bytes]:
    """``budget.csv``, ``budget.xlsx``, or the anomalies (as filtered on the page) as ``anomalies.csv`` or
    ``anomalies.xlsx``."""
    name, _, fmt = report.partition(".")
    runtime = viewer.ctx.runtime
    if fmt not in _MEDIA or name not in ("budget", "anomalies"):
        raise NotFoundException("no such report")
    if name == "budget":
        return _report(_budget_rows(runtime), BUDGET_FIELDS, fmt, "Budget", name)
    found, _ = _anomalies(runtime, _filters(code, budget_source, program, tahap, authority))
    rows = [
        {**f, "detail": {k: v for k, v in f["detail"].items() if k != "outside_authority"}} for f in found
    ]
    columns = (*ANOMALY_COLUMNS, "budget_source")
    return _report(rows, columns, fmt, "Anomalies", name)


@get("/console/evidence", guards=[EVIDENCE], include_in_schema=False, sync_to_thread=True)
def evidence_download(viewer: Seen, program: Query = None, tahap: Query = None) -> Stream:
    """A tahap's evidence as JSON Lines, verifiable offline."""
    number = optional_number(tahap, "tahap")
    if not program or number is None:
        raise InvalidCommand("program", "give a program and a tahap")
    lines: Iterator[str] = evidence_lines(viewer.ctx.runtime, program=program, tahap=number)
    first = list(itertools.islice(lines, 1))  # an unknown tahap is refused before the answer starts
    name = f"evidence-{program.strip().upper()}-{number}.jsonl"
    return Stream(
        itertools.chain(first, lines),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@get("/console/downloads", guards=[INSPECT], include_in_schema=False, sync_to_thread=True)
def downloads_page(viewer: Seen) -> Template:
    """Every download: reports and evidence exports."""
    tahap = sorted(_tahap_facts(viewer.ctx.runtime))
    return page(viewer, "downloads.html", tahap=tahap)


def _last_check(runtime: Runtime) -> Any:
    cc = console_chain_check
    with runtime.reader.connect() as conn:
        return conn.execute(select(cc).order_by(cc.c.id.desc()).limit(1)).first()


@get("/console/chain", guards=[INSPECT], include_in_schema=False, sync_to_thread=True)
def chain_page(viewer: Seen) -> Template:
    """The last check of the whole chain: when, what it found, the head it verified, and the events
    recorded since (the check itself reads every event: it runs when asked)."""
    runtime = viewer.ctx.runtime
    last = _last_check(runtime)
    since = position(runtime) - last.head_position if last is not None else None
    return page(viewer, "chain.html", last=last, since=since)


@post("/console/chain/check", guards=[INSPECT], include_in_schema=False, sync_to_thread=True, status_code=303)
def check_chain(viewer: Seen) -> Redirect:
    """Verify the chain and the certified rosters now, and remember the result."""
    runtime = viewer.ctx.runtime
    result = verify(runtime)
    broken = result.first_broken
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(console_chain_check).values(
                checked_at=datetime.now(UTC),
                ok=result.ok,
                checked=result.checked,
                head_position=result.head.position,
                head_hash=result.head.hash,
                first_broken=broken.position if broken else None,
            )
        )
    return Redirect("/console/chain", status_code=303)


ROUTES = [
    budget_page,
    anomalies_page,
    report_download,
    evidence_download,
    downloads_page,
    chain_page,
    check_chain,
]

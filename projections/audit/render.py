"""Write the audit's reports as a terminal table, CSV, XLSX or JSON.

Tables show counts and Rupiah with thousands separators, numbers right-aligned; the budget table
fits a 100-column terminal (seats and money in two blocks, a subtotal per budget source and the grand
total). CSV and JSON keep whole Rupiah integers; lists become space-separated, objects JSON text. A
report that stands on the chain (budget, payments) carries its as-of time and chain head: a
preamble in tables and XLSX, `#` lines before a CSV's header, `as_of` and `chain_head` in JSON. CSV
and XLSX are written through `salur_cases.sheets`: no value is ever read as a formula.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salur_cases.domain.errors import InvalidCommand
from salur_cases.projections.audit.workbook import xlsx
from salur_cases.sheets import SafeCsvWriter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from salur_cases.projections.audit.provenance import Provenance

TABLE_FORMATS = ("table", "csv", "xlsx", "json")
CHART_FORMATS = ("png", "svg")
TERMINAL_WIDTH = 100
GAP = "  "
SEATS = ("program, tahap", "quota", "assigned", "paid", "failed", "decree_ref")
MONEY = ("program, tahap", "committed_idr", "paid_idr", "returned_idr", "ceiling_idr", "remainder_idr")


def flat(value: Any) -> Any:
    """A value as one CSV or spreadsheet cell: lists space-separated, objects as JSON text."""
    if isinstance(value, list | tuple):
        return " ".join(str(flat(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def shown(value: Any) -> str:
    """A value as a table shows it: integers with thousands separators, nothing for None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if value is None:
        return ""
    return str(flat(value))


def write_report(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    out: str | None,
    title: str,
    provenance: Provenance | None = None,
    totals: Sequence[dict[str, Any]] = (),
) -> None:
    """Write `rows` (their `columns`, then `totals` rows) in `fmt` to the file `out`, or standard output."""
    if fmt not in TABLE_FORMATS:
        raise InvalidCommand("format", f"this report is written as {', '.join(TABLE_FORMATS)}")
    if fmt == "json":
        document = {**(provenance.to_json() if provenance else {}), "items": list(rows)}
        if totals:
            document["totals"] = list(totals)
        emit(json.dumps(document, ensure_ascii=False, indent=2, default=_iso) + "\n", out)
    elif fmt == "csv":
        buffer = io.StringIO()
        buffer.writelines(f"# {line}\r\n" for line in (provenance.lines() if provenance else []))
        writer = SafeCsvWriter(buffer)
        writer.writerow(columns)
        writer.writerows([flat(row.get(c)) for c in columns] for row in rows)
        emit(buffer.getvalue(), out)
    elif fmt == "xlsx":
        flattened = [{c: flat(row.get(c)) for c in columns} for row in rows]
        emit(xlsx(title, columns, flattened, provenance, totals), out)
    else:
        preamble = [title, *(provenance.lines() if provenance else [])]
        table = text_table(columns, [*rows, *totals])
        emit("\n".join([*preamble, "", *table, f"{len(rows):,} rows"]) + "\n", out)


def text_table(columns: Sequence[str], rows: Sequence[dict[str, Any]], fit: int | None = None) -> list[str]:
    """Lines of a plain table: a header, a rule, the rows; numbers right-aligned.

    With `fit`, the last column gets what is left of that width and its text wraps onto continuation
    lines (it is never cut).
    """
    cells = [[shown(row.get(c)) for c in columns] for row in rows]
    numeric = [
        any(isinstance(row.get(c), int) and not isinstance(row.get(c), bool) for row in rows) for c in columns
    ]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    if fit is not None:
        widths[-1] = max(12, fit - sum(widths[:-1]) - len(GAP) * (len(columns) - 1))

    def line(values: Sequence[str]) -> str:
        return GAP.join(
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    lines = [line(list(columns)), GAP.join("-" * w for w in widths)]
    for values in cells:
        last = textwrap.wrap(values[-1], widths[-1]) or [""] if fit is not None else [values[-1]]
        lines.append(line([*values[:-1], last[0]]))
        lines.extend(line([*([""] * (len(columns) - 1)), more]) for more in last[1:])
    return lines


def budget_table(
    rows: Sequence[dict[str, Any]], totals: Sequence[dict[str, Any]], provenance: Provenance
) -> str:
    """The budget report for a 100-column terminal: seats, then money, per budget source.

    Each budget source is a heading line, its programs' tahap follow indented, then its subtotal; the
    grand total closes each block.
    """
    lines: list[dict[str, Any]] = []
    for total in totals:
        source = total["budget_source"].removeprefix("subtotal ")
        members = [r for r in rows if r["budget_source"] == source]
        if members:
            lines.append({"program, tahap": source})
            lines.extend({**r, "program, tahap": f"  {r['program']} {r['tahap']}"} for r in members)
        label = "  subtotal" if members else "TOTAL"
        lines.append({**total, "program, tahap": label, "decree_ref": None})
    out = ["Budget by source, program and tahap", *provenance.lines()]
    out += ["", "Seats and payments (households)", *text_table(SEATS, lines, fit=TERMINAL_WIDTH)]
    out += ["", "Money (Rupiah)", *text_table(MONEY, lines)]
    return "\n".join(out) + "\n"


def _iso(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def emit(data: str | bytes, out: str | None) -> None:
    """Write text or bytes to the file `out`, or to standard output (bytes only to a pipe)."""
    if out is not None:
        path = Path(out)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        return
    if isinstance(data, bytes):
        if sys.stdout.isatty():
            raise InvalidCommand("out", "binary output (xlsx, png) needs --out FILE or a pipe")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    sys.stdout.write(data)

"""Write the audit's reports as a terminal table (rich), CSV, XLSX (openpyxl), JSON, or a chart (PNG, SVG)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salur_cases.domain.errors import InvalidCommand

if TYPE_CHECKING:
    from collections.abc import Sequence

TABLE_FORMATS = ("table", "csv", "xlsx", "json")
CHART_FORMATS = ("png", "svg")


def cell(value: Any) -> Any:
    """A value as one spreadsheet cell: lists joined by spaces, mappings as `key=value` pairs."""
    if isinstance(value, list | tuple):
        return " ".join(str(cell(v)) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in value.items() if v not in (None, [], ""))
    return value


def write_report(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, out: str | None, title: str
) -> None:
    """Write `rows` (their `columns`) in `fmt` to the file `out`, or to standard output."""
    if fmt not in TABLE_FORMATS:
        raise InvalidCommand("format", f"this report is written as {', '.join(TABLE_FORMATS)}")
    if fmt == "json":
        _emit(json.dumps({"items": list(rows)}, ensure_ascii=False, indent=2) + "\n", out)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(row.get(c)) for c in columns] for row in rows)
        _emit(buffer.getvalue(), out)
    elif fmt == "xlsx":
        _emit(_xlsx(rows, columns, title), out)
    else:
        _table(rows, columns, title, out)


def write_chart(budget: Sequence[dict[str, Any]], fmt: str, out: str | None) -> None:
    """Paid amounts (net of returns) by budget source and tahap, as a grouped bar chart."""
    import matplotlib as mpl  # noqa: PLC0415 - heavy, and only for charts

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    paid: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in budget:
        paid[row["budget_source"]][row["tahap"]] += row["paid_idr"] - row["returned_idr"]
    tahap = sorted({n for by_tahap in paid.values() for n in by_tahap})
    sources = sorted(paid)
    figure, axes = plt.subplots(figsize=(9, 5))
    width = 0.8 / max(1, len(sources))
    for i, source in enumerate(sources):
        xs = [slot + (i - (len(sources) - 1) / 2) * width for slot in range(len(tahap))]
        axes.bar(xs, [paid[source].get(n, 0) / 1e9 for n in tahap], width, label=source)
    axes.set_xticks(range(len(tahap)), [f"tahap {n}" for n in tahap])
    axes.set_ylabel("paid, net of returns (billion Rupiah)")
    axes.set_title("Paid by budget source and tahap")
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    plt.close(figure)
    _emit(buffer.getvalue() if fmt == "png" else buffer.getvalue().decode("utf-8"), out)


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str, out: str | None) -> None:
    """A rich table on the terminal (as wide as it is), or in a text file (200 columns)."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if rows and isinstance(rows[0].get(column), int) else "left")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(cell(row.get(c))) for c in columns))
    if out is None:
        console = Console(width=None if sys.stdout.isatty() else 200)
        console.print(table)
        console.print(f"{len(rows)} rows")
        return
    with Path(out).open("w", encoding="utf-8") as handle:
        console = Console(file=handle, width=200, no_color=True)
        console.print(table)
        console.print(f"{len(rows)} rows")


def _xlsx(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str) -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415

    workbook = Workbook(write_only=True)  # streams rows: a city's worth of findings in seconds
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(columns))
    for row in rows:
        sheet.append([cell(row.get(c)) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _emit(data: str | bytes, out: str | None) -> None:
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
